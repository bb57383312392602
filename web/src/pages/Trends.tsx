import { useState } from "preact/hooks";
import type { Schemas } from "../api/client";
import { useApp } from "../app-context";
import { useI18n } from "../i18n";
import { href } from "../router";
import { useLoad, useTitle } from "../ui/hooks";
import { Loading, ProblemBox } from "../ui/Problem";
import { Select } from "./NewTale";

type TrendLanguage = "ko" | "en" | "ja" | "zh";

/** Rising YouTube Shorts trends with story ideas; "start a tale from this" opens the story
 * form with the idea, its cost shown before anything is submitted. */
export function Trends() {
  const { t, language: ui } = useI18n();
  const { api } = useApp();
  useTitle(t("trends.title"));
  // Japanese and Chinese write-ups exist where someone reads them; otherwise the English one
  // comes back, marked as English.
  const [language, setLanguage] = useState<TrendLanguage>(ui === "ko" || ui === "ja" ? ui : "en");
  const trends = useLoad((signal) => api.get("/v1/trends", { query: { language }, signal }), [language]);
  return (
    <section class="stack">
      <h1>{t("trends.title")}</h1>
      <Select id="trend-language" label={t("trends.language")} value={language} onChange={(v) => setLanguage(v as TrendLanguage)}>
        <option value="ko">{t("storyLanguage.ko")}</option>
        <option value="en">{t("storyLanguage.en")}</option>
        <option value="ja">{t("storyLanguage.ja")}</option>
        <option value="zh">{t("storyLanguage.zh")}</option>
      </Select>
      {trends.error ? (
        <ProblemBox error={trends.error} onRetry={trends.reload} />
      ) : !trends.data ? (
        <Loading />
      ) : trends.data.trends.length === 0 ? (
        <p class="empty">{t("trends.empty")}</p>
      ) : (
        <ol class="trend-list">
          {trends.data.trends.map((trend) => (
            <TrendCard key={trend.id} trend={trend} asked={language} />
          ))}
        </ol>
      )}
    </section>
  );
}

function TrendCard({ trend, asked }: { trend: Schemas["TrendView"]; asked: TrendLanguage }) {
  const { t } = useI18n();
  return (
    <li class="card">
      <h2>
        {trend.rank}. {trend.label}
      </h2>
      <p class="meta">
        {trend.region} · {trend.keywords.slice(0, 5).join(", ")}
        {trend.sample && <span class="badge">{t("trends.sample")}</span>}
      </p>
      {trend.language !== asked && (
        <p class="notice">{t("trends.inEnglish")}</p>
      )}
      <ul class="ideas" lang={trend.language}>
        {trend.ideas.map((idea) => (
          <li key={idea.index}>
            <p class="idea-title">{idea.title}</p>
            <p>{idea.story}</p>
            <a class="button secondary" href={href({ page: "new", trend: trend.id, idea: idea.index })}>
              {t("trends.start")}
              <span class="visually-hidden">: {idea.title}</span>
            </a>
          </li>
        ))}
      </ul>
    </li>
  );
}
