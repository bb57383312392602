import { useState } from "preact/hooks";
import { ApiError, PROBLEM_BASE } from "../api/problem";
import { useApp } from "../app-context";
import { useI18n } from "../i18n";
import { useLoad, useTitle } from "../ui/hooks";
import { Loading, ProblemBox } from "../ui/Problem";

/** Plan, credits and usage from GET /v1/me; upgrading and managing the plan go through the
 * billing API (POST /v1/billing/checkout and /portal), whose problems are shown in words. */
/** The billing API's languages: the UI's, which it knows all of. */
function billingLanguage(language: string): "ko" | "en" | "ja" {
  return language === "ko" || language === "ja" ? language : "en";
}

export function Account() {
  const { t, number, language } = useI18n();
  const { api } = useApp();
  useTitle(t("account.title"));
  const me = useLoad((signal) => api.get("/v1/me", { signal }), []);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  // The billing API answers {url}: Stripe Checkout or its portal (the local provider's
  // pages in the embedded default). A deployment without billing answers 404, said as such.
  const goTo = async (open: () => Promise<{ url: string }>) => {
    setBusy(true);
    setError(null);
    try {
      location.assign((await open()).url);
    } catch (exc) {
      const missing = exc instanceof ApiError && exc.status === 404 && exc.kind === "not-found";
      setError(missing ? new ApiError({ ...exc.problem, type: `${PROBLEM_BASE}billing-unavailable` }) : exc);
      setBusy(false);
    }
  };
  const upgrade = (plan: "pro" | "business") =>
    goTo(() => api.post("/v1/billing/checkout", { body: { plan, language: billingLanguage(language) } }));
  const manage = () => goTo(() => api.post("/v1/billing/portal"));

  if (me.error) return <ProblemBox error={me.error} onRetry={me.reload} />;
  if (!me.data) return <Loading />;
  const m = me.data;
  return (
    <section class="stack">
      <h1>{t("account.title")}</h1>
      <dl class="facts card">
        <dt>{t("account.email")}</dt>
        <dd>{m.email || "—"}</dd>
        <dt>{t("account.plan")}</dt>
        <dd>{t(`plan.${m.plan}` as "plan.free") === `plan.${m.plan}` ? m.plan : t(`plan.${m.plan}` as "plan.free")}</dd>
        <dt>{t("account.balance")}</dt>
        <dd class="balance">{t("account.credits", { n: number(m.balance) })}</dd>
        <dt>{t("account.monthly")}</dt>
        <dd>{t("account.credits", { n: number(m.monthly_credits) })}</dd>
        <dt>{t("account.usage", { period: m.usage.period })}</dt>
        <dd>{t("account.usageLine", { tales: m.usage.tales_started, credits: m.usage.credits_spent })}</dd>
      </dl>
      <p class="hint">{t("account.creditRule")}</p>
      <div class="row">
        {m.plan === "free" && (
          <button type="button" disabled={busy} onClick={() => void upgrade("pro")}>
            {t("account.upgradePro")}
          </button>
        )}
        {m.plan !== "business" && (
          <button type="button" class={m.plan === "free" ? "secondary" : ""} disabled={busy} onClick={() => void upgrade("business")}>
            {t("account.upgradeBusiness")}
          </button>
        )}
        {m.plan !== "free" && (
          <button type="button" class="secondary" disabled={busy} onClick={() => void manage()}>
            {t("account.manage")}
          </button>
        )}
      </div>
      <ProblemBox error={error} />
    </section>
  );
}
