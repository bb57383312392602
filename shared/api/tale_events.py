"""``GET /v1/tales/{id}/events``: a tale's progress as server-sent events (``text/event-stream``).

For the embedded default and any deployment without Supabase Realtime (on Supabase the
``public.tales`` row the frontend watches carries the same tale fields). The stream polls the
tale store — no broker, nothing to subscribe to, the same code on SQLite and Firestore:

- every ``TALE_EVENTS_POLL_S`` it reads the tale (one document). The tale record changes with
  every stage, progress step, rendered or voiced shot (it keeps those counts), output and
  error, so that one read says whether anything a page shows has changed;
- only then (or every ``SHOT_READ_EVERY`` polls, for claims and retries, which change only a
  shot) does it read the shots and the event log.

Events, in this order within one poll: ``shot`` (a shot's status, attempt or voice changed),
``log`` (a new warning or error line of the event log: a retry, a refusal, a failure), ``tale``
(status, stage, progress, counts or error changed) and, once the tale is completed, failed or
cancelled, ``end`` — then the stream ends. A stream also ends after ``TALE_EVENTS_MAX_S``
(within the function's timeout on GCP); a comment line every ``TALE_EVENTS_HEARTBEAT_S``
keeps proxies from closing an idle one.

Resuming: every event's id is ``<log lines seen>.<sequence>``. A client that reconnects with
``Last-Event-ID`` (``EventSource`` does this itself) gets the current tale and shot states
again — they are absolute values, so a repeat is harmless — and only the log lines after the
ones it has seen; the sequence goes on from where it was, so ids keep increasing.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from flask import Response
from pydantic import BaseModel

from shared.bootstrap import Container
from shared.domain.tale import ShotRecord, TaleRecord

log = logging.getLogger("tale.api")
SHOT_READ_EVERY = 5
RETRY_MS = 3000
"""How long ``EventSource`` waits before reconnecting (the ``retry:`` field)."""
LOG_LEVELS = frozenset({"warning", "error"})
_EVENT_ID = re.compile(r"^(\d{1,9})\.(\d{1,12})$")


class TaleProgress(BaseModel):
    """``event: tale``: where the tale is."""

    id: str
    status: str
    stage: str
    progress: int
    shot_count: int
    shots_rendered: int
    shots_voiced: int
    error_stage: str | None = None
    error_reason: str | None = None
    has_video: bool
    updated_at: float

    @classmethod
    def of(cls, tale: TaleRecord) -> TaleProgress:
        return cls(
            id=tale.tale_id,
            status=tale.state.value,
            stage=tale.stage,
            progress=tale.progress,
            shot_count=tale.shot_count,
            shots_rendered=tale.rendered,
            shots_voiced=tale.voiced,
            error_stage=tale.error_stage,
            error_reason=tale.error_reason,
            has_video="video" in tale.outputs,
            updated_at=tale.updated_at,
        )


class ShotProgress(BaseModel):
    """``event: shot``: one shot's status changed (rendered, voiced, retried, failed…)."""

    index: int
    attempt: int
    status: str
    voiced: bool
    error: str | None = None


class LogLine(BaseModel):
    """``event: log``: a warning or error line of the tale's event log."""

    at: float
    stage: str
    level: str
    message: str


class StreamEnd(BaseModel):
    """``event: end``: the tale reached a terminal state; the stream ends after it."""

    id: str
    status: str
    error_stage: str | None = None
    error_reason: str | None = None
    has_video: bool


STREAM_EVENTS: dict[str, type[BaseModel]] = {
    "tale": TaleProgress,
    "shot": ShotProgress,
    "log": LogLine,
    "end": StreamEnd,
}
"""Event name → the model of its ``data`` (documented in the OpenAPI document)."""


@dataclass
class Cursor:
    log_seen: int = 0
    """Event-log lines the client has been given (or that were before it connected)."""
    seq: int = 0


def cursor_of(last_event_id: str | None) -> Cursor:
    """The position a ``Last-Event-ID`` names; a fresh start for none or a malformed one."""
    found = _EVENT_ID.match((last_event_id or "").strip())
    return Cursor(int(found[1]), int(found[2])) if found else Cursor()


def _fingerprint(tale: TaleRecord) -> tuple[object, ...]:
    return (
        tale.state,
        tale.stage,
        tale.progress,
        tale.shot_count,
        tale.rendered,
        tale.voiced,
        tale.error_stage,
        tale.error_reason,
        tuple(sorted(tale.outputs)),
    )


def _shot_key(shot: ShotRecord) -> tuple[object, ...]:
    return (shot.status, shot.attempt, shot.voice_path is not None, shot.error)


@dataclass
class _Follower:
    """One stream's view of the tale: what it has sent, and the next event's id."""

    container: Container
    tale_id: str
    cursor: Cursor
    fingerprint: tuple[object, ...] | None = None
    shots: dict[int, tuple[object, ...]] | None = None

    def _event(self, name: str, data: BaseModel) -> str:
        self.cursor.seq += 1
        event_id = f"{self.cursor.log_seen}.{self.cursor.seq}"
        return f"id: {event_id}\nevent: {name}\ndata: {data.model_dump_json()}\n\n"

    def poll(self, tick: int) -> tuple[list[str], bool]:
        """The events since the last poll, and whether the stream is over."""
        store = self.container.store
        tale = store.find(self.tale_id)
        if tale is None:  # deleted meanwhile
            return [], True
        out: list[str] = []
        changed = _fingerprint(tale) != self.fingerprint
        if changed or self.shots is None or tick % SHOT_READ_EVERY == 0:
            out += self._shot_events(store.shots(self.tale_id))
            out += self._log_events(tale)
        if changed:
            self.fingerprint = _fingerprint(tale)
            out.append(self._event("tale", TaleProgress.of(tale)))
        if tale.state.terminal:
            end = StreamEnd(
                id=tale.tale_id,
                status=tale.state.value,
                error_stage=tale.error_stage,
                error_reason=tale.error_reason,
                has_video="video" in tale.outputs,
            )
            out.append(self._event("end", end))
            return out, True
        return out, False

    def _shot_events(self, shots: list[ShotRecord]) -> list[str]:
        seen = self.shots if self.shots is not None else {}
        out = []
        for shot in shots:
            key = _shot_key(shot)
            if seen.get(shot.index) != key:
                seen[shot.index] = key
                progress = ShotProgress(
                    index=shot.index,
                    attempt=shot.attempt,
                    status=shot.status.value,
                    voiced=shot.voice_path is not None,
                    error=shot.error,
                )
                out.append(self._event("shot", progress))
        self.shots = seen
        return out

    def _log_events(self, tale: TaleRecord) -> list[str]:
        lines = self.container.store.events(tale.tale_id)
        out = []
        for index in range(self.cursor.log_seen, len(lines)):
            line = lines[index]
            self.cursor.log_seen = index + 1
            if line.level in LOG_LEVELS:
                entry = LogLine(
                    at=line.at, stage=line.stage, level=line.level, message=line.message
                )
                out.append(self._event("log", entry))
        self.cursor.log_seen = max(self.cursor.log_seen, len(lines))
        return out


def stream(
    container: Container,
    tale_id: str,
    cursor: Cursor,
    *,
    max_s: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[str]:
    """The text of the event stream, chunk by chunk (see the module doc)."""
    settings = container.settings
    follower = _Follower(container, tale_id, cursor)
    yield f"retry: {RETRY_MS}\n\n"
    started = last_beat = clock()
    tick = 0
    try:
        while True:
            events, over = follower.poll(tick)
            yield from events
            if over:
                return
            now = clock()
            if now - started >= max_s:
                return  # bounded; the client reconnects with Last-Event-ID
            if not events and now - last_beat >= settings.events_heartbeat_s:
                yield ": keep-alive\n\n"
                last_beat = now
            elif events:
                last_beat = now
            sleep(settings.events_poll_s)
            tick += 1
    except Exception:  # after the response started, there is no status left to send
        log.exception("the event stream of %s broke off", tale_id)


def max_duration(container: Container) -> float:
    """How long one stream may last: the setting, and on GCP below the api function's
    timeout (Cloud Run would cut the stream there)."""
    limit = container.settings.events_max_s
    if container.on_gcp:
        from shared.registry import BY_NAME

        limit = min(limit, max(5.0, BY_NAME["api"].timeout_s - 5.0))
    return limit


def response(container: Container, tale_id: str, last_event_id: str | None) -> Response:
    body = stream(container, tale_id, cursor_of(last_event_id), max_s=max_duration(container))
    return Response(
        body,
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
