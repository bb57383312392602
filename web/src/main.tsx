import { render } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { ApiClient } from "./api/client";
import { App } from "./App";
import { AppContext, type AppServices } from "./app-context";
import { LocalAuth } from "./auth/local";
import type { Auth, Session } from "./auth/session";
import { loadConfig, type RuntimeConfig } from "./config";
import { I18nContext, initialLanguage, makeI18n, rememberLanguage, translator, type UiLanguage } from "./i18n";
import "./styles.css";

async function makeAuth(config: RuntimeConfig): Promise<Auth> {
  if (config.auth === "supabase") {
    const { SupabaseAuth } = await import("./auth/supabase");
    return SupabaseAuth.create(config.supabase_url!, config.supabase_anon_key!);
  }
  return new LocalAuth();
}

function Root({ config, auth }: { config: RuntimeConfig; auth: Auth }) {
  const [language, setLanguage] = useState<UiLanguage>(() => initialLanguage());
  const [session, setSession] = useState<Session | null>(() => auth.current());
  useEffect(() => auth.subscribe(setSession), [auth]);
  useEffect(() => {
    document.documentElement.lang = language;
    rememberLanguage(language);
  }, [language]);
  const api = useMemo(
    () =>
      new ApiClient({
        base: config.api,
        token: () => auth.token(),
        onUnauthorized: () => void auth.signOut(),
      }),
    [config, auth],
  );
  const services: AppServices = { config, auth, api, session };
  const i18n = useMemo(() => makeI18n(language, setLanguage), [language]);
  return (
    <I18nContext.Provider value={i18n}>
      <AppContext.Provider value={services}>
        <App />
      </AppContext.Provider>
    </I18nContext.Provider>
  );
}

async function start(): Promise<void> {
  const root = document.getElementById("app")!;
  // Checkout and the billing portal return to <origin>/billing: that is the account page.
  if (location.pathname.replace(/\/$/, "") === "/billing") history.replaceState(null, "", "/#/account");
  try {
    const config = await loadConfig();
    const auth = await makeAuth(config);
    root.textContent = "";
    render(<Root config={config} auth={auth} />, root);
  } catch (exc) {
    // Never a blank page: say what is wrong, in the reader's language.
    const t = translator(initialLanguage());
    root.innerHTML = "";
    const box = document.createElement("div");
    box.className = "problem";
    box.setAttribute("role", "alert");
    const title = document.createElement("p");
    title.className = "problem-title";
    title.textContent = t("problem.startup");
    const detail = document.createElement("p");
    detail.textContent = String((exc as Error).message ?? exc);
    box.append(title, detail);
    root.append(box);
  }
}

void start();
