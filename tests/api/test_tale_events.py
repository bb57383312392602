"""``GET /v1/tales/{id}/events`` through functions-framework's app: a page follows a tale from
submission to completion as server-sent events, in order, and resumes with Last-Event-ID."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from shared import bootstrap
from shared.api import tale_events
from shared.config import Settings
from shared.runtime.local import LocalRuntime

STORY = {
    "text": "Mina walked to the sea. Mina met a fox. They became friends.",
    "shot_count": 2,
    "shot_seconds": 4,
}
ORDER = ["submitted", "planning", "rendering", "stitching", "completed"]
Tokens = Callable[..., dict[str, str]]


@dataclass
class Event:
    id: str
    name: str
    data: dict[str, Any]

    @property
    def seq(self) -> int:
        return int(self.id.split(".")[1])


def parse(chunks: Iterable[bytes]) -> tuple[list[Event], list[str]]:
    """The events of a stream, and its other blocks (``retry:``, comments)."""
    text = b"".join(chunks).decode()
    assert text.endswith("\n\n")
    events, others = [], []
    for block in text.split("\n\n")[:-1]:
        fields = dict(line.split(": ", 1) for line in block.split("\n") if ": " in line)
        if "event" in fields:
            events.append(Event(fields["id"], fields["event"], json.loads(fields["data"])))
        else:
            others.append(block)
    return events, others


def stream(client: Any, tale_id: str, headers: dict[str, str]) -> Any:
    response = client.get(f"/v1/tales/{tale_id}/events", headers=headers, buffered=False)
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/event-stream"
    assert response.headers["Cache-Control"] == "no-cache"
    return response


def read(response: Any) -> tuple[list[Event], list[str]]:
    try:
        return parse(response.response)
    finally:
        response.close()


def test_a_page_follows_a_tale_from_submission_to_completion(
    client: Any, token: Tokens, api_settings: Settings
) -> None:
    container = bootstrap.configure(api_settings.model_copy(update={"events_poll_s": 0.02}))
    me = token()
    tale_id = client.post("/v1/tales", headers=me, json=STORY).json["id"]
    response = stream(client, tale_id, me)  # connected before anything ran
    with LocalRuntime(container) as runtime:
        worker = threading.Thread(target=runtime.run, kwargs={"timeout": 120})
        worker.start()
        try:
            events, others = read(response)  # reads until the stream ends
        finally:
            worker.join(130)
    assert others[0] == f"retry: {tale_events.RETRY_MS}"
    assert [e.seq for e in events] == list(range(1, len(events) + 1))  # ids increase

    tales = [e.data for e in events if e.name == "tale"]
    statuses = [t["status"] for t in tales]
    assert statuses[0] == "submitted" and statuses[-1] == "completed"
    assert statuses == sorted(statuses, key=ORDER.index)  # never backwards, no stranger
    assert {"rendering", "completed"} <= set(statuses)
    progress = [t["progress"] for t in tales]
    assert progress == sorted(progress) and progress[-1] == 100 and len(set(progress)) >= 3
    assert tales[-1]["shots_rendered"] == tales[-1]["shots_voiced"] == 2

    names = [e.name for e in events]
    assert names[-1] == "end" and names.count("end") == 1
    assert events[-1].data == {
        "id": tale_id,
        "status": "completed",
        "error_stage": None,
        "error_reason": None,
        "has_video": True,
    }
    stitching = next(  # the first event that shows the tale past rendering
        i for i, e in enumerate(events) if e.data.get("status") in ("stitching", "completed")
    )
    for index in (0, 1):
        shots = [
            (i, e.data)
            for i, e in enumerate(events)
            if e.name == "shot" and e.data["index"] == index
        ]
        rendered = [i for i, s in shots if s["status"] == "rendered"]
        voiced = [i for i, s in shots if s["voiced"]]
        assert rendered and voiced, shots
        assert rendered[0] < stitching and voiced[0] < stitching  # the fan-in waits for both
    assert "log" not in names  # nothing went wrong


def test_resume_with_last_event_id_and_the_end_of_a_cancelled_tale(
    client: Any, token: Tokens
) -> None:
    me = token()
    tale_id = client.post("/v1/tales", headers=me, json=STORY).json["id"]
    store = bootstrap.container().store
    store.log(tale_id, "planning", "the planner was slow; retrying", "warning")
    store.log(tale_id, "planning", "an info line is not an event")
    assert client.post(f"/v1/tales/{tale_id}/cancel", headers=me).status_code == 200

    events, _ = read(stream(client, tale_id, me))
    assert [e.name for e in events] == ["log", "tale", "end"]
    assert events[0].data["message"] == "the planner was slow; retrying"
    assert events[0].data["level"] == "warning"
    assert events[-1].data["status"] == "cancelled" and not events[-1].data["has_video"]
    last = events[0].id
    messages = [line.message for line in store.events(tale_id)]
    position = messages.index("the planner was slow; retrying") + 1
    assert last == f"{position}.1"  # the lines up to and with the warning were given

    again, _ = read(stream(client, tale_id, {**me, "Last-Event-ID": last}))
    assert [e.name for e in again] == ["tale", "end"]  # the state again, not the old line
    assert [e.seq for e in again] == [2, 3]
    store.log(tale_id, "cancelled", "a late error", "error")
    later, _ = read(stream(client, tale_id, {**me, "Last-Event-ID": again[-1].id}))
    assert [(e.name, e.seq) for e in later] == [("log", 4), ("tale", 5), ("end", 6)]
    junk, _ = read(stream(client, tale_id, {**me, "Last-Event-ID": "nonsense"}))
    assert [e.name for e in junk] == ["log", "log", "tale", "end"]  # a fresh start


def test_another_users_tale_has_no_events(client: Any, token: Tokens) -> None:
    tale_id = client.post("/v1/tales", headers=token(), json=STORY).json["id"]
    response = client.get(f"/v1/tales/{tale_id}/events", headers=token())
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
    assert client.get(f"/v1/tales/{tale_id}/events").status_code == 401


def test_heartbeats_and_a_bounded_stream(client: Any, token: Tokens) -> None:
    """A tale that does not move: a comment every 15 s, and the stream ends after max_s
    without an ``end`` event (the client reconnects)."""
    me = token()
    tale_id = client.post("/v1/tales", headers=me, json=STORY).json["id"]
    container = bootstrap.container()
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    chunks = list(
        tale_events.stream(
            container,
            tale_id,
            tale_events.Cursor(),
            max_s=40.0,
            clock=lambda: now[0],
            sleep=sleep,
        )
    )
    assert chunks.count(": keep-alive\n\n") == 2  # at 15 s and 30 s
    events, _ = parse(c.encode() for c in chunks)
    assert [e.name for e in events] == ["tale"]
    assert now[0] == 40.0
    assert tale_events.max_duration(container) == container.settings.events_max_s
