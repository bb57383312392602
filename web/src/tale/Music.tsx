import { useEffect, useRef, useState } from "preact/hooks";
import type { ApiClient, Schemas } from "../api/client";
import { useI18n } from "../i18n";
import { ProblemBox } from "../ui/Problem";
import { clock, formatName, MAX_MUSIC_BYTES, MUSIC_ACCEPT, musicContentType, musicMayChange, size } from "./music";

type Track = Schemas["MusicView"];

export interface MusicProps {
  api: ApiClient;
  taleId: string;
  /** The tale's track (null or absent: none). */
  music: Track | null | undefined;
  status: string;
  hasVideo: boolean;
  /** The track as the API answered an upload, or null once removed. */
  onChange: (music: Track | null) => void;
}

/**
 * A tale's background music: the current track (format, length, size), a file picker that
 * uploads what is chosen (checked against the size limit first, with its progress), and a
 * button that removes it. Disabled, saying why, while the tale's state does not let it change
 * (`musicMayChange`, the API's rule).
 */
export function MusicPanel(props: MusicProps) {
  const { t, number } = useI18n();
  const { api, taleId, music, status, hasVideo } = props;
  const [busy, setBusy] = useState<"upload" | "remove" | null>(null);
  const [sent, setSent] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [tooLarge, setTooLarge] = useState<{ name: string; bytes: number } | null>(null);
  const [said, setSaid] = useState("");
  const input = useRef<HTMLInputElement>(null);
  const running = useRef<AbortController | null>(null);
  const refocus = useRef(false);
  useEffect(() => () => running.current?.abort(), []);
  // Once the removed track's button is gone (and the picker enabled again), focus goes on there.
  useEffect(() => {
    if (refocus.current && input.current && !input.current.disabled) {
      refocus.current = false;
      input.current.focus();
    }
  });

  const allowed = musicMayChange(status, hasVideo);
  const limit = size(MAX_MUSIC_BYTES, number);
  const locked = allowed ? null : status === "stitching" ? t("music.lockedStitching") : t("music.lockedNoVideo");
  const forNextRevision = allowed && hasVideo && ["completed", "failed", "cancelled"].includes(status);

  const begin = (what: "upload" | "remove") => {
    running.current?.abort(); // a new choice replaces an upload under way
    const controller = new AbortController();
    running.current = controller;
    setBusy(what);
    setError(null);
    setTooLarge(null);
    return controller;
  };
  const end = (controller: AbortController) => {
    if (running.current !== controller) return false; // replaced by a later choice
    running.current = null;
    setBusy(null);
    setSent(null);
    return true;
  };

  const upload = async (file: File) => {
    if (file.size > MAX_MUSIC_BYTES) {
      running.current?.abort();
      setError(null);
      setSaid("");
      setTooLarge({ name: file.name, bytes: file.size });
      if (input.current) input.current.value = "";
      return;
    }
    const controller = begin("upload");
    setSent(null);
    setSaid(t("music.uploading", { name: file.name }));
    try {
      const answer = await api.upload("/v1/tales/{tale_id}/music", {
        path: { tale_id: taleId },
        body: file,
        contentType: musicContentType(file),
        onProgress: (loaded, total) => setSent(total > 0 ? Math.min(100, Math.round((loaded / total) * 100)) : null),
        signal: controller.signal,
      });
      if (!end(controller)) return;
      props.onChange(answer.data);
      const duration = clock(answer.data.seconds);
      setSaid(answer.status === 201 ? t("music.set", { duration }) : t("music.replaced", { duration }));
    } catch (exc) {
      if (!end(controller)) return;
      if ((exc as Error).name === "AbortError") {
        setSaid(t("music.cancelled"));
      } else {
        setSaid("");
        setError(exc);
      }
    } finally {
      if (input.current) input.current.value = ""; // the same file again is a change too
    }
  };

  const remove = async () => {
    if (busy === "remove") return;
    const controller = begin("remove");
    setSaid(t("music.removing"));
    try {
      await api.delete("/v1/tales/{tale_id}/music", { path: { tale_id: taleId }, signal: controller.signal });
      if (!end(controller)) return;
      props.onChange(null);
      setSaid(t("music.removed"));
      refocus.current = true;
    } catch (exc) {
      if (!end(controller)) return;
      setSaid("");
      if ((exc as Error).name !== "AbortError") setError(exc);
    }
  };

  const described = ["music-formats", locked ? "music-locked" : null].filter(Boolean).join(" ");
  return (
    <section class="music card stack" aria-labelledby="music-title">
      <h2 id="music-title">{t("music.title")}</h2>
      <p class="hint">{t("music.lead")}</p>
      <p class="hint">{t("music.rights")}</p>
      <p class="music-track">
        {music
          ? t("music.current", {
              format: formatName(music.content_type),
              duration: clock(music.seconds),
              size: size(music.bytes, number),
            })
          : t("music.none")}
      </p>
      {locked && (
        <p id="music-locked" class="notice">
          {locked}
        </p>
      )}
      {forNextRevision && <p class="hint">{t("music.nextRevision")}</p>}
      <div>
        <label for="music-file">{t("music.file")}</label>
        <input
          ref={input}
          id="music-file"
          type="file"
          accept={MUSIC_ACCEPT}
          disabled={!allowed || busy === "remove"}
          aria-describedby={described}
          onChange={(e) => {
            const file = (e.currentTarget as HTMLInputElement).files?.[0];
            if (file) void upload(file);
          }}
        />
        <p id="music-formats" class="hint">
          {t("music.formats", { limit })}
        </p>
      </div>
      {busy === "upload" && (
        <div class="progress-line">
          <progress id="music-progress" max={100} value={sent ?? 0} aria-label={t("music.progress")} />
          <span class="progress-value" aria-hidden="true">
            {sent === null ? "" : t("progress.percent", { n: sent })}
          </span>
          <button type="button" class="secondary" onClick={() => running.current?.abort()}>
            {t("music.cancel")}
          </button>
        </div>
      )}
      <p class="music-status" role="status" aria-live="polite">
        {said}
      </p>
      {tooLarge && (
        <div class="problem" role="alert">
          <p class="problem-title">{t("music.tooLarge")}</p>
          <p class="problem-detail">
            {t("music.tooLargeDetail", { name: tooLarge.name, size: size(tooLarge.bytes, number), limit })}
          </p>
        </div>
      )}
      <ProblemBox error={error} />
      {music && (
        <button
          type="button"
          class="secondary"
          disabled={!allowed || busy === "upload"}
          aria-describedby={locked ? "music-locked" : undefined}
          onClick={() => void remove()}
        >
          {busy === "remove" ? t("music.removing") : t("music.remove")}
        </button>
      )}
    </section>
  );
}
