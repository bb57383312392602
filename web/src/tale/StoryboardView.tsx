import type { Schemas } from "../api/client";
import { useI18n } from "../i18n";

/** The storyboard as rendered: characters with their reference images, shots with their
 * thumbnails, narration and prompts (read-only; it is edited before approval). */
export function StoryboardView({ storyboard }: { storyboard: Schemas["StoryboardView"] }) {
  const { t } = useI18n();
  return (
    <section class="storyboard" aria-labelledby="storyboard-title">
      <h2 id="storyboard-title">{t("storyboard.title")}</h2>
      <h3>{t("storyboard.characters")}</h3>
      {storyboard.characters.length === 0 && <p class="hint">{t("storyboard.noCharacters")}</p>}
      <ul class="characters">
        {storyboard.characters.map((c) => (
          <li key={c.name} class="card character">
            {c.image_url ? (
              <img class="reference" src={c.image_url} alt={t("storyboard.referenceAlt", { name: c.name })} />
            ) : (
              <p class="hint">{t("storyboard.referencePending")}</p>
            )}
            <p class="character-name">{c.name}</p>
            <p class="character-description">{c.description}</p>
          </li>
        ))}
      </ul>
      <h3>{t("storyboard.shots")}</h3>
      <ol class="shots">
        {storyboard.shots.map((s) => (
          <li key={s.index} class="card shot" data-shot={s.index + 1}>
            {s.thumbnail_url && (
              <img class="thumb" src={s.thumbnail_url} alt={t("storyboard.thumbnailAlt", { n: s.index + 1 })} loading="lazy" />
            )}
            <p class="shot-head">
              {t("storyboard.shot", { n: s.index + 1 })} · {t(`camera.${s.camera}` as "camera.close-up")} ·{" "}
              {t("new.secondsValue", { n: s.duration_s })}
            </p>
            <p class="narration">
              <span class="label">{t("storyboard.narration")}:</span> {s.narration || "—"}
            </p>
            <p class="prompt">
              <span class="label">{t("storyboard.prompt")}:</span> {s.prompt}
            </p>
          </li>
        ))}
      </ol>
    </section>
  );
}
