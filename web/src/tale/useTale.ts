// A tale as the page follows it: the tale (GET), its storyboard with its ETag, and the live
// progress from server-sent events while it is not finished.

import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import type { ApiClient, Schemas } from "../api/client";
import { followTale } from "../api/events";
import { ApiError } from "../api/problem";
import { useLoad } from "../ui/hooks";
import type { ShotState } from "./Progress";
import { ACTIVE, type Progress } from "./stages";

export interface Board {
  data: Schemas["StoryboardView"];
  etag: string;
}

export function useTale(api: ApiClient, id: string) {
  const tale = useLoad((signal) => api.get("/v1/tales/{tale_id}", { path: { tale_id: id }, signal }), [id]);
  const [live, setLive] = useState<Schemas["TaleProgress"] | null>(null);
  const [shots, setShots] = useState<Map<number, ShotState>>(new Map());
  const [logs, setLogs] = useState<Schemas["LogLine"][]>([]);
  const [connected, setConnected] = useState(true);
  const [lastChange, setLastChange] = useState(() => Date.now());
  const [board, setBoard] = useState<Board | null>(null);
  const [boardError, setBoardError] = useState<unknown>(null);
  const loadingBoard = useRef<AbortController | null>(null);

  // The fresher of the two: the live stream, or the tale as last read.
  const fresh = live && (!tale.data || live.updated_at >= tale.data.updated_at) ? live : null;
  const status = fresh?.status ?? tale.data?.status;
  const active = status !== undefined && ACTIVE.has(status);

  const reloadBoard = useCallback(() => {
    loadingBoard.current?.abort();
    const controller = new AbortController();
    loadingBoard.current = controller;
    api
      .call("get", "/v1/tales/{tale_id}/storyboard", { path: { tale_id: id }, signal: controller.signal })
      .then(
        (answer) => {
          if (controller.signal.aborted) return;
          setBoard({ data: answer.data, etag: answer.etag ?? `"${answer.data.version}"` });
          setBoardError(null);
        },
        (error: unknown) => {
          if (controller.signal.aborted) return;
          // 409: not planned yet; the storyboard comes with a later event.
          if (!(error instanceof ApiError && error.status === 409)) setBoardError(error);
        },
      );
  }, [api, id]);

  // The storyboard once planned, again at every status change and as shots render.
  const rendered = fresh?.shots_rendered ?? 0;
  const stage = fresh?.stage ?? tale.data?.stage;
  useEffect(() => {
    if (status && status !== "submitted" && status !== "planning") reloadBoard();
  }, [status, stage, reloadBoard]);
  useEffect(() => {
    if (rendered === 0) return;
    const timer = setTimeout(reloadBoard, 400); // thumbnails of what just rendered
    return () => clearTimeout(timer);
  }, [rendered, reloadBoard]);

  // Follow the events while the tale is not finished (again after a revision starts).
  const reloadTale = tale.reload;
  useEffect(() => {
    if (!active) return;
    const controller = new AbortController();
    let lastStatus = status;
    void followTale(
      api,
      id,
      {
        tale: (data) => {
          setLive(data);
          setLastChange(Date.now());
          if (data.status !== lastStatus) {
            lastStatus = data.status;
            reloadTale();
          }
        },
        shot: (data) => {
          setLastChange(Date.now());
          setShots((m) => new Map(m).set(data.index, data));
        },
        log: (line) => setLogs((l) => [...l.slice(-49), line]),
        end: () => {
          reloadTale();
          reloadBoard();
        },
        connection: setConnected,
        error: () => reloadTale(),
      },
      controller.signal,
    );
    return () => controller.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [api, id, active]);

  const progress: Progress | null = tale.data
    ? fresh
      ? fresh
      : {
          status: tale.data.status,
          stage: tale.data.stage,
          progress: tale.data.progress,
          shot_count: tale.data.shot_count,
          shots_rendered: tale.data.shots?.filter((s) => s.status === "rendered").length ?? 0,
          shots_voiced: live?.shots_voiced ?? 0,
          error_stage: tale.data.error_stage ?? null,
        }
    : null;

  const shotList: ShotState[] = [];
  const count = board?.data.shots.length ?? tale.data?.shots?.length ?? 0;
  for (let index = 0; index < count; index++) {
    const fromLive = shots.get(index);
    const fromTale = tale.data?.shots?.find((s) => s.index === index);
    const fromBoard = board?.data.shots.find((s) => s.index === index);
    shotList.push(
      fromLive ?? {
        index,
        status: fromTale?.status ?? fromBoard?.status ?? "pending",
        attempt: fromTale?.attempt ?? fromBoard?.attempt ?? 0,
        voiced: Boolean(fromBoard?.voice_url),
      },
    );
  }

  return {
    tale,
    progress,
    shots: shotList,
    logs,
    connected,
    lastChange,
    board,
    boardError,
    setBoard,
    reloadBoard,
  };
}
