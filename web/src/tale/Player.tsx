import { useEffect, useRef, useState } from "preact/hooks";
import type { ApiClient, Schemas } from "../api/client";
import { useI18n } from "../i18n";

/**
 * The captions of a tale as a blob: URL for a <track>. The captions endpoint needs the bearer
 * token, which a <track src> cannot send, so the page fetches the WebVTT itself; a deployment
 * without the endpoint yet (404) plays without a track.
 */
export function useCaptions(api: ApiClient, taleId: string, version: string): { vtt: string | null; srt: string | null } {
  const [urls, setUrls] = useState<{ vtt: string | null; srt: string | null }>({ vtt: null, srt: null });
  const made = useRef<string[]>([]);
  useEffect(() => () => made.current.forEach((u) => URL.revokeObjectURL(u)), []);
  useEffect(() => {
    const controller = new AbortController();
    const fetchOne = async (ext: "vtt" | "srt", type: string): Promise<string | null> => {
      try {
        const path = `/v1/tales/${encodeURIComponent(taleId)}/captions.${ext}`;
        const response = await api.raw("GET", path, undefined, controller.signal);
        return URL.createObjectURL(new Blob([await response.arrayBuffer()], { type }));
      } catch {
        return null;
      }
    };
    void Promise.all([fetchOne("vtt", "text/vtt"), fetchOne("srt", "application/x-subrip")]).then(([vtt, srt]) => {
      const fresh = [vtt, srt].filter((u): u is string => u !== null);
      if (controller.signal.aborted) {
        fresh.forEach((u) => URL.revokeObjectURL(u));
        return;
      }
      // The elements still point at the previous cut's captions until this render: revoke
      // those only after they have let go of them.
      const previous = made.current;
      made.current = fresh;
      setUrls({ vtt, srt });
      setTimeout(() => previous.forEach((u) => URL.revokeObjectURL(u)), 5000);
    });
    return () => controller.abort();
  }, [api, taleId, version]);
  return urls;
}

export function Player(props: {
  api: ApiClient;
  taleId: string;
  storyboard: Schemas["StoryboardView"];
  videoUrl: string;
}) {
  const { t } = useI18n();
  const { storyboard } = props;
  // A new cut (a revision) has a new video URL: its captions are fetched again.
  const captions = useCaptions(props.api, props.taleId, props.videoUrl.split("?")[0] ?? "");
  const base = `tale-${props.taleId}`;
  return (
    <section class="player" aria-labelledby="player-title">
      <h2 id="player-title">{t("player.title")}</h2>
      <video
        id="tale-video"
        class={`video aspect-${storyboard.aspect_ratio.replace(":", "x")}`}
        controls
        playsInline
        preload="metadata"
        poster={storyboard.poster_url ?? undefined}
        src={props.videoUrl}
        aria-label={t("player.videoLabel", { title: storyboard.title })}
      >
        {captions.vtt && (
          <track
            kind="captions"
            src={captions.vtt}
            srcLang={storyboard.language}
            label={t(`storyLanguage.${storyboard.language}` as "storyLanguage.en")}
            default
          />
        )}
      </video>
      <h3>{t("player.downloads")}</h3>
      <ul class="downloads">
        <li>
          <a href={props.videoUrl} download={`${base}.mp4`}>
            {t("player.downloadVideo")}
          </a>
        </li>
        {storyboard.poster_url && (
          <li>
            <a href={storyboard.poster_url} download={`${base}-poster.png`}>
              {t("player.downloadPoster")}
            </a>
          </li>
        )}
        {storyboard.storyboard_url && (
          <li>
            <a href={storyboard.storyboard_url} download={`${base}-storyboard.png`}>
              {t("player.downloadSheet")}
            </a>
          </li>
        )}
        {captions.vtt && (
          <li>
            <a href={captions.vtt} download={`${base}.vtt`}>
              {t("player.downloadVtt")}
            </a>
          </li>
        )}
        {captions.srt && (
          <li>
            <a href={captions.srt} download={`${base}.srt`}>
              {t("player.downloadSrt")}
            </a>
          </li>
        )}
      </ul>
    </section>
  );
}
