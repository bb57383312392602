import { useMemo, useState } from "preact/hooks";
import type { ApiClient, Schemas } from "../api/client";
import { useI18n } from "../i18n";
import { creditsOf } from "../storyboard/draft";
import { useLoad } from "../ui/hooks";
import { randomKey } from "../ui/ids";
import { ProblemBox } from "../ui/Problem";

/** Revisions of a finished tale: its cuts, and a form that renders one shot again (with a
 * new prompt or narration, or the same shot re-rolled); only its seconds are charged. */
export function Revisions(props: {
  api: ApiClient;
  taleId: string;
  storyboard: Schemas["StoryboardView"];
  onStarted: () => void;
}) {
  const { t } = useI18n();
  const { api, taleId, storyboard } = props;
  const cuts = useLoad((signal) => api.get("/v1/tales/{tale_id}/revisions", { path: { tale_id: taleId }, signal }), [taleId]);
  const [shot, setShot] = useState(1);
  const [prompt, setPrompt] = useState("");
  const [narration, setNarration] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const key = useMemo(randomKey, [taleId, cuts.data?.revision]);
  const chosen = storyboard.shots[shot - 1];
  const credits = creditsOf([chosen?.duration_s ?? 8]);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const change: Schemas["ShotRevision"] = { shot };
      if (prompt.trim()) change.prompt = prompt.trim();
      if (narration.trim()) change.narration = narration.trim();
      await api.post("/v1/tales/{tale_id}/revisions", {
        path: { tale_id: taleId },
        body: { shots: [change] },
        headers: { "Idempotency-Key": key },
      });
      props.onStarted();
    } catch (exc) {
      setError(exc);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="revisions" aria-labelledby="revisions-title">
      <h2 id="revisions-title">{t("revisions.title")}</h2>
      {cuts.data && cuts.data.cuts.length > 1 && (
        <ul class="cuts">
          {cuts.data.cuts.map((cut) => (
            <li key={cut.revision}>
              <a href={cut.url} download={`tale-${taleId}${cut.revision ? `-r${cut.revision}` : ""}.mp4`}>
                {cut.revision === 0 ? t("revisions.first") : t("revisions.cut", { n: cut.revision })}
              </a>
              {cut.current && <span class="badge">{t("revisions.current")}</span>}
            </li>
          ))}
        </ul>
      )}
      <form class="card stack" onSubmit={submit}>
        <p class="lead">{t("revisions.lead")}</p>
        <div class="field">
          <label for="revise-shot">{t("revisions.shot")}</label>
          <select id="revise-shot" value={String(shot)} onChange={(e) => setShot(Number((e.currentTarget as HTMLSelectElement).value))}>
            {storyboard.shots.map((s) => (
              <option key={s.index} value={String(s.index + 1)}>
                {t("storyboard.shot", { n: s.index + 1 })}
              </option>
            ))}
          </select>
        </div>
        <label for="revise-prompt">{t("revisions.prompt")}</label>
        <textarea
          id="revise-prompt"
          rows={2}
          maxLength={4000}
          placeholder={chosen?.prompt}
          value={prompt}
          onInput={(e) => setPrompt((e.currentTarget as HTMLTextAreaElement).value)}
        />
        <label for="revise-narration">{t("revisions.narration")}</label>
        <textarea
          id="revise-narration"
          rows={2}
          maxLength={2000}
          placeholder={chosen?.narration}
          value={narration}
          onInput={(e) => setNarration((e.currentTarget as HTMLTextAreaElement).value)}
        />
        <p class="estimate-credits">{t("revisions.cost", { credits })}</p>
        <ProblemBox error={error} />
        <button type="submit" disabled={busy}>
          {t("revisions.submit", { n: shot })}
        </button>
      </form>
    </section>
  );
}
