import { useEffect, useState } from "preact/hooks";
import type { ApiClient, Schemas } from "../api/client";
import { ApiError } from "../api/problem";
import { useI18n } from "../i18n";
import { money } from "../ui/Estimate";
import { ProblemBox } from "../ui/Problem";
import { type Camera, creditsOf, type Draft, draftCredits, draftOf, type Duration, operationsFor } from "./draft";

type Storyboard = Schemas["StoryboardView"];

export const CAMERAS: Camera[] = [
  "wide establishing shot",
  "medium shot",
  "close-up",
  "over-the-shoulder shot",
  "tracking shot",
  "low-angle shot",
  "aerial shot",
];
const DURATIONS: Duration[] = [4, 6, 8];

export interface EditorProps {
  api: ApiClient;
  taleId: string;
  storyboard: Storyboard;
  etag: string;
  /** The storyboard as the API answered an edit (or reloaded after a conflict). */
  onChange: (storyboard: Storyboard, etag: string) => void;
  onApproved: () => void;
  /** Reload the storyboard (after another tab changed it). */
  onStale: () => void;
}

/** The storyboard awaiting approval: characters and shots, editable, saved with If-Match;
 * the credits follow the draft as it is edited, the money estimate each saved version. */
export function StoryboardEditor(props: EditorProps) {
  const { t, number } = useI18n();
  const { storyboard, etag } = props;
  const [draft, setDraft] = useState<Draft>(() => draftOf(storyboard));
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => setDraft(draftOf(storyboard)), [storyboard.version]);

  const operations = operationsFor(storyboard, draft);
  const dirty = operations.length > 0;
  const saved = creditsOf(storyboard.shots.map((s) => s.duration_s));
  const credits = draftCredits(draft);
  const shotsLeft = draft.shots.filter((s) => !s.removed).length;

  const save = async (): Promise<boolean> => {
    if (!dirty) return true;
    try {
      const answer = await props.api.call("patch", "/v1/tales/{tale_id}/storyboard", {
        path: { tale_id: props.taleId },
        body: { operations },
        headers: { "If-Match": etag },
      });
      props.onChange(answer.data, answer.etag ?? `"${answer.data.version}"`);
      setNotice(t("editor.saved"));
      return true;
    } catch (exc) {
      if (exc instanceof ApiError && exc.status === 412) {
        setNotice(null);
        setError(exc);
        props.onStale();
      } else {
        setError(exc);
      }
      return false;
    }
  };
  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      await action();
    } finally {
      setBusy(false);
    }
  };
  const approve = () =>
    run(async () => {
      if (!(await save())) return;
      try {
        await props.api.post("/v1/tales/{tale_id}/approve", { path: { tale_id: props.taleId } });
        props.onApproved();
      } catch (exc) {
        setError(exc);
      }
    });
  const setShot = (index: number, change: Partial<Draft["shots"][number]>) =>
    setDraft((d) => ({ ...d, shots: d.shots.map((s) => (s.index === index ? { ...s, ...change } : s)) }));

  return (
    <form
      class="editor stack"
      aria-labelledby="editor-title"
      onSubmit={(e) => {
        e.preventDefault();
        void run(async () => void (await save()));
      }}
    >
      <h2 id="editor-title">{t("editor.title")}</h2>
      <p class="lead">{t("editor.lead")}</p>
      <section class="estimate" aria-live="polite" aria-label={t("estimate.label")}>
        <p class="estimate-credits">
          {dirty && credits !== saved
            ? t("editor.creditsChanged", { credits, saved })
            : t("editor.credits", { credits })}
        </p>
        {storyboard.estimate && (
          <p class="estimate-usd">
            {t("estimate.usd", { usd: money(number, storyboard.estimate.usd) })}
            {dirty && ` ${t("editor.usdAfterSave")}`}
          </p>
        )}
      </section>

      <h3>{t("storyboard.characters")}</h3>
      {storyboard.characters.length === 0 && <p class="hint">{t("storyboard.noCharacters")}</p>}
      <ul class="characters">
        {storyboard.characters.map((c, i) => (
          <li key={c.name} class="card">
            <p class="character-name">{c.name}</p>
            <label for={`character-${i}`}>{t("editor.description", { name: c.name })}</label>
            <textarea
              id={`character-${i}`}
              rows={2}
              maxLength={400}
              value={draft.characters[c.name] ?? ""}
              onInput={(e) => {
                const value = (e.currentTarget as HTMLTextAreaElement).value;
                setDraft((d) => ({ ...d, characters: { ...d.characters, [c.name]: value } }));
              }}
            />
            <p class="hint">{t("editor.referenceLater")}</p>
          </li>
        ))}
      </ul>

      <h3>{t("storyboard.shots")}</h3>
      <ol class="shots">
        {draft.shots.map((shot) => {
          const n = shot.index + 1;
          return (
            <li key={shot.index} class={`card shot${shot.removed ? " removed" : ""}`} data-shot={n}>
              <fieldset disabled={shot.removed}>
                <legend>{t("storyboard.shot", { n })}</legend>
                <label for={`narration-${n}`}>{t("storyboard.narration")}</label>
                <textarea
                  id={`narration-${n}`}
                  rows={3}
                  maxLength={2000}
                  value={shot.narration}
                  onInput={(e) => setShot(shot.index, { narration: (e.currentTarget as HTMLTextAreaElement).value })}
                />
                <label for={`prompt-${n}`}>{t("storyboard.prompt")}</label>
                <textarea
                  id={`prompt-${n}`}
                  rows={3}
                  maxLength={4000}
                  value={shot.prompt}
                  onInput={(e) => setShot(shot.index, { prompt: (e.currentTarget as HTMLTextAreaElement).value })}
                />
                <div class="row">
                  <div class="field">
                    <label for={`camera-${n}`}>{t("storyboard.camera")}</label>
                    <select
                      id={`camera-${n}`}
                      value={shot.camera}
                      onChange={(e) => setShot(shot.index, { camera: (e.currentTarget as HTMLSelectElement).value as Camera })}
                    >
                      {CAMERAS.map((c) => (
                        <option key={c} value={c}>
                          {t(`camera.${c}`)}
                        </option>
                      ))}
                    </select>
                  </div>
                  <div class="field">
                    <label for={`duration-${n}`}>{t("storyboard.duration")}</label>
                    <select
                      id={`duration-${n}`}
                      value={String(shot.duration_s)}
                      onChange={(e) =>
                        setShot(shot.index, { duration_s: Number((e.currentTarget as HTMLSelectElement).value) as Duration })
                      }
                    >
                      {DURATIONS.map((d) => (
                        <option key={d} value={String(d)}>
                          {t("new.secondsValue", { n: d })}
                        </option>
                      ))}
                    </select>
                  </div>
                </div>
              </fieldset>
              <button
                type="button"
                class="link"
                disabled={!shot.removed && shotsLeft <= 1}
                onClick={() => setShot(shot.index, { removed: !shot.removed })}
              >
                {shot.removed ? t("editor.keepShot", { n }) : t("editor.removeShot", { n })}
              </button>
            </li>
          );
        })}
      </ol>

      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      {error instanceof ApiError && error.status === 412 ? (
        <div class="problem" role="alert">
          <p class="problem-title">{t("editor.stale")}</p>
        </div>
      ) : (
        <ProblemBox error={error} />
      )}
      <div class="row actions">
        <button type="submit" class="secondary" disabled={busy || !dirty}>
          {t("editor.save")}
        </button>
        <button type="button" disabled={busy} onClick={() => void approve()}>
          {dirty ? t("editor.saveAndApprove") : t("editor.approve")}
        </button>
      </div>
    </form>
  );
}
