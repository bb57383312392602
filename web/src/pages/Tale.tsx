import { useEffect, useState } from "preact/hooks";
import { ApiError } from "../api/problem";
import { useApp } from "../app-context";
import type { Schemas } from "../api/client";
import { useI18n } from "../i18n";
import { StoryboardEditor } from "../storyboard/Editor";
import { Loading, ProblemBox } from "../ui/Problem";
import { useTitle } from "../ui/hooks";
import { Player } from "../tale/Player";
import { MusicPanel } from "../tale/Music";
import { ProgressPanel } from "../tale/Progress";
import { Revisions } from "../tale/Revisions";
import { ACTIVE } from "../tale/stages";
import { StoryboardView } from "../tale/StoryboardView";
import { useTale } from "../tale/useTale";

/** After this long without any news, a running tale says that it is slow and why. */
export const SLOW_AFTER_MS = 60_000;

export function TalePage({ id }: { id: string }) {
  const { t, date } = useI18n();
  const { api } = useApp();
  const view = useTale(api, id);
  const { tale, progress, board } = view;
  const [actionError, setActionError] = useState<unknown>(null);
  const [confirmCancel, setConfirmCancel] = useState(false);
  const now = useNow(5000);
  useTitle(tale.data?.title || t("tale.untitled"));

  if (tale.error instanceof ApiError && tale.error.status === 404) {
    return (
      <section>
        <h1>{t("tale.notFound")}</h1>
        <p>{t("tale.notFoundLead")}</p>
        <p>
          <a href="#/">{t("nav.tales")}</a>
        </p>
      </section>
    );
  }
  if (!tale.data || !progress) {
    return tale.error ? <ProblemBox error={tale.error} onRetry={tale.reload} /> : <Loading />;
  }
  const status = progress.status;
  const slow = ACTIVE.has(status) && status !== "awaiting_approval" && now - view.lastChange > SLOW_AFTER_MS;
  const act = async (action: () => Promise<unknown>) => {
    setActionError(null);
    try {
      await action();
      tale.reload();
    } catch (exc) {
      setActionError(exc);
    }
  };
  const cancel = () =>
    act(() => api.post("/v1/tales/{tale_id}/cancel", { path: { tale_id: id } })).then(() => setConfirmCancel(false));
  const regenerate = (n: number) =>
    act(() => api.post("/v1/tales/{tale_id}/shots/{shot}/regenerate", { path: { tale_id: id, shot: String(n) } }));
  const finished = status === "completed" && Boolean(board?.data.video_url);
  // Before approval beside the storyboard, while it renders under its progress, and on a
  // finished tale above the revision that would mix it in.
  const music = (
    <MusicPanel
      api={api}
      taleId={id}
      music={tale.data.music}
      status={status}
      hasVideo={tale.data.has_video}
      onChange={(track: Schemas["MusicView"] | null) => {
        if (tale.data) tale.set({ ...tale.data, music: track });
        if (board) view.setBoard({ ...board, data: { ...board.data, music: track } });
      }}
    />
  );

  return (
    <article class="tale stack">
      <header>
        <h1>{tale.data.title || t("tale.untitled")}</h1>
        <p class="meta">
          <span class={`badge status-${status}`}>{t(`status.${status}` as "status.completed")}</span>{" "}
          {date(tale.data.created_at)}
        </p>
      </header>

      {status === "failed" && (
        <section class="problem" role="alert" aria-labelledby="failed-title">
          <h2 id="failed-title" class="problem-title">
            {t("tale.failed", { step: t(`stage.${tale.data.error_stage ?? "unknown"}` as "stage.unknown") })}
          </h2>
          {tale.data.error_reason && <p class="problem-detail">{tale.data.error_reason}</p>}
          <p>{t("tale.refunded")}</p>
          <p>
            <a href="#/new">{t("tale.tryAgain")}</a>
          </p>
        </section>
      )}
      {status === "cancelled" && <p class="notice">{t("tale.cancelled")}</p>}
      {status === "awaiting_approval" && board && (
        <StoryboardEditor
          api={api}
          taleId={id}
          storyboard={board.data}
          etag={board.etag}
          onChange={(data, etag) => view.setBoard({ data, etag })}
          onApproved={tale.reload}
          onStale={view.reloadBoard}
        />
      )}
      {status !== "awaiting_approval" && status !== "cancelled" && (
        <ProgressPanel
          progress={progress}
          shots={view.shots}
          storyboard={board?.data}
          onRegenerate={status === "rendering" ? regenerate : undefined}
          compact={status === "completed"}
        />
      )}
      {!finished && music}
      {slow && (
        <p class="notice slow" role="status">
          {t("tale.slow", {
            step: t(`stage.${progress.stage}` as "stage.unknown"),
            minutes: Math.max(1, Math.round((now - view.lastChange) / 60000)),
          })}
        </p>
      )}
      {!view.connected && ACTIVE.has(status) && (
        <p class="notice" role="status">
          {t("tale.reconnecting")}
        </p>
      )}
      {view.logs.length > 0 && (
        <section aria-labelledby="log-title">
          <h2 id="log-title">{t("tale.log")}</h2>
          <ul class="log">
            {view.logs.map((line, i) => (
              <li key={i} class={`log-${line.level}`}>
                <span class="log-stage">{t(`stage.${line.stage}` as "stage.unknown")}</span> {line.message}
              </li>
            ))}
          </ul>
        </section>
      )}
      {finished && board?.data.video_url && (
        <>
          <Player api={api} taleId={id} storyboard={board.data} videoUrl={board.data.video_url} />
          {music}
          <Revisions api={api} taleId={id} storyboard={board.data} onStarted={tale.reload} />
        </>
      )}
      {status !== "awaiting_approval" && board && <StoryboardView storyboard={board.data} />}
      <ProblemBox error={actionError ?? view.boardError} />
      {ACTIVE.has(status) &&
        (confirmCancel ? (
          <div class="row" role="group" aria-label={t("tale.cancelConfirm")}>
            <button type="button" class="danger" onClick={() => void cancel()}>
              {t("tale.cancelYes")}
            </button>
            <button type="button" class="secondary" onClick={() => setConfirmCancel(false)}>
              {t("tale.cancelNo")}
            </button>
          </div>
        ) : (
          <button type="button" class="secondary" onClick={() => setConfirmCancel(true)}>
            {t("tale.cancel")}
          </button>
        ))}
    </article>
  );
}

function useNow(every: number): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), every);
    return () => clearInterval(timer);
  }, [every]);
  return now;
}
