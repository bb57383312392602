import { useEffect, useState } from "preact/hooks";
import type { Schemas } from "../api/client";
import { useApp } from "../app-context";
import { useI18n } from "../i18n";
import { useLoad } from "./hooks";
import { ProblemBox } from "./Problem";

type StoryLanguage = NonNullable<Schemas["StorySubmission"]["language"]>;

/** What a tale of `shots` × `seconds` will cost, before it is submitted: credits (with the
 * balance) and the estimated generation cost, from GET /v1/estimate. `voice` is the story's
 * voice option ("none": no narration, which costs nothing), checked against the story's
 * `language` when it is chosen ("": detected from the text when it is submitted). */
export function EstimatePanel({
  shots,
  seconds,
  voice = "",
  language = "",
}: {
  shots: number;
  seconds: 4 | 6 | 8;
  voice?: string;
  language?: StoryLanguage | "";
}) {
  const { api } = useApp();
  const { t } = useI18n();
  const [asked, setAsked] = useState({ shots, seconds, voice, language });
  useEffect(() => {
    const timer = setTimeout(() => setAsked({ shots, seconds, voice, language }), 250);
    return () => clearTimeout(timer);
  }, [shots, seconds, voice, language]);
  const quote = useLoad(
    (signal) =>
      api.get("/v1/estimate", {
        query: {
          shot_count: asked.shots,
          shot_seconds: asked.seconds,
          voice: asked.voice, // "" (the default voice) is left out of the query
          language: asked.language || undefined,
        },
        signal,
      }),
    [asked.shots, asked.seconds, asked.voice, asked.language],
  );
  if (quote.error) return <ProblemBox error={quote.error} />;
  return (
    <section class="estimate" aria-live="polite" aria-label={t("estimate.label")}>
      {quote.data ? <QuoteLines quote={quote.data} /> : <p>{t("common.loading")}</p>}
    </section>
  );
}

export function QuoteLines({ quote }: { quote: Schemas["Quote"] }) {
  const { t, number } = useI18n();
  const short = quote.balance < quote.credits;
  return (
    <>
      <p class="estimate-credits">
        {t("estimate.credits", { credits: quote.credits, balance: quote.balance })}
      </p>
      <p class="estimate-usd">
        {t("estimate.usd", { usd: money(number, quote.estimate.usd) })}
      </p>
      {short && (
        <p class="warning" role="alert">
          {t("estimate.short")} <a href="#/account">{t("nav.account")}</a>
        </p>
      )}
    </>
  );
}

/** An estimate's USD: cents, or a tenth of a cent below one cent. */
export function money(
  number: (v: number, o?: Intl.NumberFormatOptions) => string,
  usd: number,
): string {
  const digits = usd > 0 && usd < 0.01 ? 3 : 2;
  return number(usd, {
    style: "currency",
    currency: "USD",
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}
