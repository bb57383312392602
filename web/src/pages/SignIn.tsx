import { useState } from "preact/hooks";
import { useApp } from "../app-context";
import type { LocalAuth } from "../auth/local";
import type { SupabaseAuth } from "../auth/supabase";
import { useI18n } from "../i18n";
import { useTitle } from "../ui/hooks";

export function SignIn() {
  const { t } = useI18n();
  const { auth } = useApp();
  useTitle(t("signIn.title"));
  return (
    <section class="narrow">
      <h1>{t("signIn.title")}</h1>
      <p class="lead">{t("signIn.lead")}</p>
      {auth.kind === "local" ? <LocalSignIn auth={auth as LocalAuth} /> : <SupabaseSignIn auth={auth as SupabaseAuth} />}
    </section>
  );
}

function LocalSignIn({ auth }: { auth: LocalAuth }) {
  const { t } = useI18n();
  const { config } = useApp();
  const [email, setEmail] = useState("writer@localhost");
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const devSignIn = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await auth.signInDev(email.trim());
    } catch (exc) {
      setError(String((exc as Error).message));
    } finally {
      setBusy(false);
    }
  };
  const useToken = (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      auth.use(token);
    } catch (exc) {
      setError(String((exc as Error).message));
    }
  };
  return (
    <>
      <p class="note">{t("signIn.devNote")}</p>
      {config.dev_sign_in !== false && (
        <form class="card" onSubmit={devSignIn}>
          <h2>{t("signIn.devTitle")}</h2>
          <label for="dev-email">{t("signIn.email")}</label>
          <input
            id="dev-email"
            type="email"
            autoComplete="email"
            required
            value={email}
            onInput={(e) => setEmail((e.currentTarget as HTMLInputElement).value)}
          />
          <button type="submit" disabled={busy}>
            {t("signIn.devButton")}
          </button>
        </form>
      )}
      <form class="card" onSubmit={useToken}>
        <h2>{t("signIn.tokenTitle")}</h2>
        <label for="dev-token">{t("signIn.token")}</label>
        <textarea
          id="dev-token"
          rows={3}
          spellcheck={false}
          aria-describedby="dev-token-hint"
          value={token}
          onInput={(e) => setToken((e.currentTarget as HTMLTextAreaElement).value)}
        />
        <p id="dev-token-hint" class="hint">
          {t("signIn.tokenHint")} <code>.venv/bin/tale token --user UUID</code>
        </p>
        <button type="submit" class="secondary" disabled={!token.trim()}>
          {t("signIn.tokenButton")}
        </button>
      </form>
      {error && (
        <div class="problem" role="alert">
          <p class="problem-title">{t("signIn.failed")}</p>
          <p class="problem-detail">{error}</p>
        </div>
      )}
    </>
  );
}

function SupabaseSignIn({ auth }: { auth: SupabaseAuth }) {
  const { t } = useI18n();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [sent, setSent] = useState(false);
  const [busy, setBusy] = useState(false);

  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (exc) {
      setError(String((exc as Error).message));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      class="card"
      onSubmit={(e) => {
        e.preventDefault();
        void run(() => auth.signInWithPassword(email, password));
      }}
    >
      <label for="email">{t("signIn.email")}</label>
      <input
        id="email"
        type="email"
        autoComplete="email"
        required
        value={email}
        onInput={(e) => setEmail((e.currentTarget as HTMLInputElement).value)}
      />
      <label for="password">{t("signIn.password")}</label>
      <input
        id="password"
        type="password"
        autoComplete="current-password"
        value={password}
        onInput={(e) => setPassword((e.currentTarget as HTMLInputElement).value)}
      />
      <div class="row">
        <button type="submit" disabled={busy || !password}>
          {t("signIn.button")}
        </button>
        <button
          type="button"
          class="secondary"
          disabled={busy || !email}
          onClick={() => void run(async () => (await auth.sendMagicLink(email), setSent(true)))}
        >
          {t("signIn.magicLink")}
        </button>
      </div>
      {sent && <p role="status">{t("signIn.linkSent")}</p>}
      {error && (
        <div class="problem" role="alert">
          <p class="problem-title">{t("signIn.failed")}</p>
          <p class="problem-detail">{error}</p>
        </div>
      )}
    </form>
  );
}
