import type { Schemas } from "../api/client";
import { useI18n } from "../i18n";
import { type Progress, STEPS, stepStates } from "./stages";

export interface ShotState {
  index: number;
  status: string;
  attempt: number;
  voiced: boolean;
  error?: string | null | undefined;
}

/** Progress in percent, the steps, and every shot as it renders. */
export function ProgressPanel(props: {
  progress: Progress;
  shots: ShotState[];
  storyboard: Schemas["StoryboardView"] | undefined;
  onRegenerate?: ((shot: number) => void) | undefined;
  /** Only the percentage (a finished tale). */
  compact?: boolean;
}) {
  const { t } = useI18n();
  const { progress: p } = props;
  const states = stepStates(p);
  const thumbs = new Map(props.storyboard?.shots.map((s) => [s.index, s]) ?? []);
  return (
    <section class="progress-panel" aria-labelledby="progress-title">
      <h2 id="progress-title">{t("progress.title")}</h2>
      <div class="progress-line">
        <progress id="tale-progress" max={100} value={p.progress} aria-labelledby="progress-label" />
        <span id="progress-label" class="progress-value" aria-live="polite">
          {t("progress.percent", { n: p.progress })}
        </span>
      </div>
      {!props.compact && (
      <ol class="steps">
        {STEPS.map((step) => (
          <li key={step} class={`step ${states[step]}`} aria-current={states[step] === "current" ? "step" : undefined}>
            <span class="step-name">{t(`step.${step}`)}</span>{" "}
            <span class="step-state">
              {step === "shots" && p.shot_count
                ? t("progress.count", { n: p.shots_rendered, total: p.shot_count })
                : step === "voices" && p.shot_count
                  ? t("progress.count", { n: p.shots_voiced, total: p.shot_count })
                  : t(`stepState.${states[step]}`)}
            </span>
          </li>
        ))}
      </ol>
      )}
      {!props.compact && props.shots.length > 0 && (
        <>
          <h3>{t("storyboard.shots")}</h3>
          <ol class="shot-grid">
            {props.shots.map((shot) => {
              const view = thumbs.get(shot.index);
              const n = shot.index + 1;
              return (
                <li key={shot.index} class={`shot-tile ${shot.status}`} data-shot={n}>
                  {view?.thumbnail_url ? (
                    <img src={view.thumbnail_url} alt={t("storyboard.thumbnailAlt", { n })} loading="lazy" />
                  ) : (
                    <div class="thumb-placeholder" aria-hidden="true">
                      {n}
                    </div>
                  )}
                  <p>
                    <span class="shot-number">{t("storyboard.shot", { n })}</span>{" "}
                    <span class="shot-status">{t(`shotStatus.${shot.status}` as "shotStatus.pending")}</span>
                    {shot.attempt > 1 && <span> · {t("progress.attempt", { n: shot.attempt })}</span>}
                    {shot.voiced && <span> · {t("progress.voiced")}</span>}
                  </p>
                  {shot.error && <p class="shot-error">{shot.error}</p>}
                  {props.onRegenerate && (shot.status === "rendered" || shot.status === "failed") && (
                    <button type="button" class="link" onClick={() => props.onRegenerate?.(n)}>
                      {t("progress.regenerate", { n })}
                    </button>
                  )}
                </li>
              );
            })}
          </ol>
        </>
      )}
    </section>
  );
}
