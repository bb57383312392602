import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";
import { useApp } from "./app-context";
import { LANGUAGES, type UiLanguage, useI18n } from "./i18n";
import { Account } from "./pages/Account";
import { MyTales } from "./pages/MyTales";
import { NewTale } from "./pages/NewTale";
import { NotFound } from "./pages/NotFound";
import { SignIn } from "./pages/SignIn";
import { TalePage } from "./pages/Tale";
import { Trends } from "./pages/Trends";
import { href, type Route, useRoute } from "./router";

export function App() {
  const route = useRoute();
  const { session } = useApp();
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);
  useEffect(() => {
    // A new page (not the first one, which starts at the top with the skip link): move
    // focus to it, so keyboard and screen-reader users start there.
    if (first.current) first.current = false;
    else main.current?.focus();
  }, [route.page, route.page === "tale" ? route.id : "", session === null]);
  const page = session ? <Page route={route} /> : <SignIn />;
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), main.current?.focus())}>
        {useI18n().t("nav.skip")}
      </a>
      <Header route={route} />
      <main id="main" ref={main} tabIndex={-1}>
        {page}
      </main>
    </>
  );
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case "tales":
      return <MyTales />;
    case "new":
      return <NewTale trend={route.trend} idea={route.idea} />;
    case "tale":
      return <TalePage id={route.id} />;
    case "account":
      return <Account />;
    case "trends":
      return <Trends />;
    case "sign-in":
      return <MyTales />;
    case "missing":
      return <NotFound />;
  }
}

function Header({ route }: { route: Route }) {
  const { t, language, setLanguage } = useI18n();
  const { session, auth } = useApp();
  return (
    <header class="top">
      <a class="brand" href="#/">
        Tale
      </a>
      {session && (
        <nav aria-label={t("nav.label")}>
          <NavLink route={{ page: "tales" }} current={route.page === "tales"}>
            {t("nav.tales")}
          </NavLink>
          <NavLink route={{ page: "new" }} current={route.page === "new"}>
            {t("nav.new")}
          </NavLink>
          <NavLink route={{ page: "trends" }} current={route.page === "trends"}>
            {t("nav.trends")}
          </NavLink>
          <NavLink route={{ page: "account" }} current={route.page === "account"}>
            {t("nav.account")}
          </NavLink>
        </nav>
      )}
      <div class="tools">
        <label class="visually-hidden" for="ui-language">
          {t("nav.language")}
        </label>
        <select
          id="ui-language"
          value={language}
          onChange={(e) => setLanguage((e.currentTarget as HTMLSelectElement).value as UiLanguage)}
        >
          {Object.entries(LANGUAGES).map(([code, name]) => (
            <option key={code} value={code} lang={code}>
              {name}
            </option>
          ))}
        </select>
        {session && (
          <button type="button" class="link" onClick={() => void auth.signOut()}>
            {t("nav.signOut")}
          </button>
        )}
      </div>
    </header>
  );
}

function NavLink(props: { route: Route; current: boolean; children: ComponentChildren }) {
  return (
    <a href={href(props.route)} aria-current={props.current ? "page" : undefined}>
      {props.children}
    </a>
  );
}
