import { useEffect, useMemo, useState } from "preact/hooks";
import type { Schemas } from "../api/client";
import { useApp } from "../app-context";
import { useI18n } from "../i18n";
import { navigate } from "../router";
import { EstimatePanel } from "../ui/Estimate";
import { useLoad, useTitle } from "../ui/hooks";
import { randomKey } from "../ui/ids";
import { Loading, ProblemBox } from "../ui/Problem";

type Submission = Schemas["StorySubmission"];
type Style = Schemas["Style"];
type Aspect = NonNullable<Submission["aspect_ratio"]>;
type Seconds = NonNullable<Submission["shot_seconds"]>;
type Captions = NonNullable<Schemas["StoryOptions"]["captions"]>;
type StoryLanguage = NonNullable<Submission["language"]>;

export const STYLES: Style[] = ["storybook", "cinematic", "anime", "watercolor", "documentary"];
export const ASPECTS: Aspect[] = ["9:16", "16:9", "1:1"];
export const SECONDS: Seconds[] = [4, 6, 8];
const CAPTIONS: Captions[] = ["soft", "burned", "off"];
const STORY_LANGUAGES: StoryLanguage[] = ["ko", "en", "ja", "zh"];

export function NewTale({ trend, idea = 0 }: { trend?: string | undefined; idea?: number | undefined }) {
  const { t } = useI18n();
  const { api } = useApp();
  useTitle(t("new.title"));
  const [text, setText] = useState("");
  const [language, setLanguage] = useState<StoryLanguage | "">("");
  const [style, setStyle] = useState<Style>("storybook");
  const [aspect, setAspect] = useState<Aspect>("9:16");
  const [shots, setShots] = useState(8);
  const [seconds, setSeconds] = useState<Seconds>(8);
  const [voice, setVoice] = useState("");
  const [captions, setCaptions] = useState<Captions>("soft");
  const [approval, setApproval] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const key = useMemo(randomKey, []);

  const trendView = useLoad(
    (signal) =>
      trend
        ? api.get("/v1/trends/{trend_id}", { path: { trend_id: trend }, signal })
        : Promise.resolve(null),
    [trend],
  );
  const chosen = trendView.data?.ideas.find((i) => i.index === idea) ?? null;

  const validShots = Number.isInteger(shots) && shots >= 1 && shots <= 16;
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!validShots) return;
    setBusy(true);
    setError(null);
    try {
      const headers = { "Idempotency-Key": key };
      const tale = trend
        ? await api.post("/v1/trends/{trend_id}/tales", {
            path: { trend_id: trend },
            body: {
              idea,
              language: language || null,
              style,
              aspect_ratio: aspect,
              shot_count: shots,
              shot_seconds: seconds,
            },
            headers,
          })
        : await api.post("/v1/tales", {
            body: {
              text,
              language: language || null,
              style,
              aspect_ratio: aspect,
              shot_count: shots,
              shot_seconds: seconds,
              options: { approval_required: approval, voice, captions },
            },
            headers,
          });
      navigate({ page: "tale", id: tale.id });
    } catch (exc) {
      setError(exc);
      setBusy(false);
    }
  };

  if (trend && trendView.loading && !trendView.data) return <Loading />;
  if (trend && (trendView.error || !chosen)) {
    return <ProblemBox error={trendView.error ?? new Error(t("trends.noIdea"))} />;
  }
  return (
    <section>
      <h1>{t("new.title")}</h1>
      <form class="stack" onSubmit={submit} noValidate={false}>
        {chosen ? (
          <div class="card">
            <h2>{chosen.title}</h2>
            <p class="story-text">{chosen.story}</p>
            <p class="hint">{t("new.fromTrend", { trend: trendView.data?.label ?? "" })}</p>
          </div>
        ) : (
          <>
            <label for="story">{t("new.story")}</label>
            <textarea
              id="story"
              required
              rows={8}
              maxLength={20000}
              aria-describedby="story-hint"
              value={text}
              onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)}
            />
            <p id="story-hint" class="hint">
              {t("new.storyHint")}
            </p>
          </>
        )}
        <div class="grid">
          <Select id="language" label={t("new.language")} value={language} onChange={(v) => setLanguage(v as StoryLanguage | "")}>
            <option value="">{t("new.languageAuto")}</option>
            {STORY_LANGUAGES.map((l) => (
              <option key={l} value={l}>
                {t(`storyLanguage.${l}`)}
              </option>
            ))}
          </Select>
          <Select id="style" label={t("new.style")} value={style} onChange={(v) => setStyle(v as Style)}>
            {STYLES.map((s) => (
              <option key={s} value={s}>
                {t(`style.${s}`)}
              </option>
            ))}
          </Select>
          <Select id="aspect" label={t("new.aspect")} value={aspect} onChange={(v) => setAspect(v as Aspect)}>
            {ASPECTS.map((a) => (
              <option key={a} value={a}>
                {t(`aspect.${a}`)}
              </option>
            ))}
          </Select>
          <div class="field">
            <label for="shots">{t("new.shots")}</label>
            <input
              id="shots"
              type="number"
              min={1}
              max={16}
              step={1}
              required
              inputMode="numeric"
              value={String(shots)}
              aria-invalid={!validShots}
              onInput={(e) => setShots(Number((e.currentTarget as HTMLInputElement).value))}
            />
          </div>
          <Select id="seconds" label={t("new.seconds")} value={String(seconds)} onChange={(v) => setSeconds(Number(v) as Seconds)}>
            {SECONDS.map((s) => (
              <option key={s} value={String(s)}>
                {t("new.secondsValue", { n: s })}
              </option>
            ))}
          </Select>
          {!trend && (
            <>
              <Select id="captions" label={t("new.captions")} value={captions} onChange={(v) => setCaptions(v as Captions)}>
                {CAPTIONS.map((c) => (
                  <option key={c} value={c}>
                    {t(`captions.${c}`)}
                  </option>
                ))}
              </Select>
              <VoiceField value={voice} onChange={setVoice} />
            </>
          )}
        </div>
        {!trend && (
          <div class="check">
            <input
              id="approval"
              type="checkbox"
              checked={approval}
              onChange={(e) => setApproval((e.currentTarget as HTMLInputElement).checked)}
            />
            <label for="approval">{t("new.approval")}</label>
          </div>
        )}
        {validShots && <EstimatePanel shots={shots} seconds={seconds} voice={voice} language={language} />}
        <ProblemBox error={error} />
        <button type="submit" disabled={busy || !validShots || (!trend && !text.trim())}>
          {busy ? t("new.submitting") : t("new.submit")}
        </button>
      </form>
    </section>
  );
}

function VoiceField({ value, onChange }: { value: string; onChange: (v: string) => void }) {
  const { t } = useI18n();
  const [mode, setMode] = useState(value === "none" ? "none" : value ? "named" : "default");
  useEffect(() => {
    if (mode === "default") onChange("");
    if (mode === "none") onChange("none");
  }, [mode]);
  return (
    <div class="field">
      <Select id="voice" label={t("new.voice")} value={mode} onChange={setMode}>
        <option value="default">{t("voice.default")}</option>
        <option value="none">{t("voice.none")}</option>
        <option value="named">{t("voice.named")}</option>
      </Select>
      {mode === "named" && (
        <>
          <label for="voice-name">{t("voice.name")}</label>
          <input
            id="voice-name"
            pattern="[A-Za-z0-9_.\-]*"
            maxLength={64}
            value={value}
            onInput={(e) => onChange((e.currentTarget as HTMLInputElement).value)}
          />
        </>
      )}
    </div>
  );
}

export function Select(props: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  children: preact.ComponentChildren;
}) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <select
        id={props.id}
        value={props.value}
        onChange={(e) => props.onChange((e.currentTarget as HTMLSelectElement).value)}
      >
        {props.children}
      </select>
    </div>
  );
}
