"""The Cloud Functions through functions-framework's real app, with Eventarc-shaped
CloudEvents in binary and structured mode."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import pytest
from functions_framework import create_app

from schemas.events import TaleFinished, TaleSubmitted
from shared import bootstrap, pubsub_message, service
from shared.adapters.local.bus import SqliteEventBus
from shared.domain.tale import TaleState
from shared.registry import FUNCTIONS
from tests.conftest import make_submission

ROOT = Path(__file__).resolve().parents[2]


def client(name: str) -> Any:
    app = create_app(name, str(ROOT / "functions" / f"{name}.py"), "cloudevent")
    return app.test_client()


def pubsub_event(
    data: bytes,
    attributes: dict[str, str],
    topic: str = "tale.submitted",
    subscription: str = "plan_story",
) -> tuple[dict[str, Any], dict[str, Any]]:
    return pubsub_message.build(
        project="test",
        topic=topic,
        subscription=subscription,
        message_id="123",
        data=data,
        attributes=attributes,
    )


def post_binary(c: Any, attrs: dict[str, Any], body: dict[str, Any]) -> Any:
    headers = {f"ce-{k}": v for k, v in attrs.items() if k != "datacontenttype"}
    return c.post("/", headers={**headers, "Content-Type": "application/json"}, json=body)


def post_structured(c: Any, attrs: dict[str, Any], body: dict[str, Any]) -> Any:
    return c.post(
        "/",
        headers={"Content-Type": "application/cloudevents+json"},
        data=json.dumps({**attrs, "data": body}),
    )


def submit(tale_home: Path) -> str:
    c = bootstrap.container()
    tale = service.submit(make_submission(3), owner="u", store=c.store, bus=c.bus, max_chars=20_000)
    return tale.tale_id


@pytest.mark.parametrize("post", [post_binary, post_structured], ids=["binary", "structured"])
def test_plan_story_handles_an_eventarc_message(tale_home: Path, post: Any) -> None:
    tale_id = submit(tale_home)
    event = TaleSubmitted(tale_id=tale_id)
    attrs, body = pubsub_event(event.model_dump_json().encode(), {"tale_id": tale_id})
    response = post(client("plan_story"), attrs, body)
    assert response.status_code == 200, response.data
    store = bootstrap.container().store
    tale = store.find(tale_id)
    assert tale is not None and tale.state is TaleState.RENDERING
    plan = store.plan(tale_id)
    assert plan is not None and len(plan.shots) == 3


@pytest.mark.parametrize("data", [b"not json", b'{"tale_id": "X"}', b"\xff\xfe"])
def test_a_malformed_message_is_refused_for_redelivery_and_noted(
    tale_home: Path, data: bytes
) -> None:
    tale_id = submit(tale_home)
    attrs, body = pubsub_event(data, {"tale_id": tale_id})
    response = post_binary(client("plan_story"), attrs, body)
    assert response.status_code == 500  # Pub/Sub redelivers, then dead-letters
    notes = [e.message for e in bootstrap.container().store.events(tale_id)]
    assert any("invalid" in n or "not JSON" in n for n in notes)


def test_a_non_pubsub_cloudevent_is_refused(tale_home: Path) -> None:
    attrs = {
        "specversion": "1.0",
        "id": "1",
        "source": "//storage.googleapis.com/x",
        "type": "google.cloud.storage.object.v1.finalized",
    }
    response = post_binary(client("plan_story"), attrs, {"bucket": "b"})
    assert response.status_code == 500


def test_raw_base64_data_round_trips() -> None:
    attrs, body = pubsub_event(b'{"a": 1}', {"k": "v"})
    assert base64.b64decode(body["message"]["data"]) == b'{"a": 1}'
    assert attrs["source"] == "//pubsub.googleapis.com/projects/test/topics/tale.submitted"


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda s: s.name)
def test_every_registered_function_loads_in_functions_framework(spec: Any) -> None:
    app = create_app(spec.name, str(ROOT / "functions" / f"{spec.name}.py"), spec.signature)
    assert app.test_client() is not None


def test_main_exports_every_registered_function() -> None:
    import main

    assert sorted(main.__all__) == sorted(s.name for s in FUNCTIONS)
    for spec in FUNCTIONS:
        assert callable(getattr(main, spec.name))


@pytest.mark.parametrize("spec", [s for s in FUNCTIONS if not s.is_http], ids=lambda s: s.name)
def test_registry_needs_match_what_each_stage_asks_for(spec: Any) -> None:
    """Pub/Sub handlers get their dependencies by parameter name: the registry (and so the
    deployment's permissions) must list at least those."""
    import importlib
    import inspect

    handler = importlib.import_module(spec.module).handler  # what the entry point runs
    assert handler.__module__.startswith("shared.stages."), handler.__module__
    assert handler.__name__ == spec.name
    asked = set(inspect.signature(handler).parameters) - {"event", "envelope", "settings"}
    asked.discard(next(iter(inspect.signature(handler).parameters)))
    assert asked <= set(spec.needs), f"{spec.name} needs {sorted(asked - set(spec.needs))}"


def test_a_raw_pubsub_push_reaches_the_function(tale_home: Path) -> None:
    """Push subscriptions post the raw Pub/Sub body to <url>/projects/P/topics/T;
    functions-framework turns it into the same messagePublished CloudEvent."""
    tale_id = submit(tale_home)
    data = TaleSubmitted(tale_id=tale_id).model_dump_json().encode()
    push = {
        "message": {
            "data": base64.b64encode(data).decode(),
            "attributes": {"tale_id": tale_id},
            "messageId": "42",
            "publishTime": "2026-11-21T00:00:00Z",
        },
        "subscription": "projects/tale-prod/subscriptions/plan_story",
        "deliveryAttempt": 1,
    }
    response = client("plan_story").post("/projects/tale-prod/topics/tale.submitted", json=push)
    assert response.status_code == 200, response.data
    tale = bootstrap.container().store.find(tale_id)
    assert tale is not None and tale.state is TaleState.RENDERING


SAMPLE_EVENTS = {
    "tale.submitted": {"tale_id": "tale-unknown01"},
    "characters.requested": {"tale_id": "tale-unknown01"},
    "shot.requested": {"tale_id": "tale-unknown01", "shot_index": 0},
    "narration.requested": {"tale_id": "tale-unknown01", "shot_index": 0},
    "shot.rendered": {
        "tale_id": "tale-unknown01",
        "shot_index": 0,
        "attempt": 1,
        "clip_path": "tales/x/shots/00-a1.mp4",
    },
    "stitch.requested": {"tale_id": "tale-unknown01"},
    "tale.finished": {"tale_id": "tale-unknown01", "outcome": "completed"},
    "tale.dead-letter": {"tale_id": "tale-unknown01"},
    "tale.sweep": {},
    "trends.collect": {},
    "trends.collected": {
        "region": "KR",
        "collection_id": "KR-20250601T0400Z",
        "at": 1748750400.0,
    },
}


@pytest.mark.parametrize("spec", [s for s in FUNCTIONS if not s.is_http], ids=lambda s: s.name)
def test_every_pubsub_function_acks_an_event_for_an_unknown_tale(
    tale_home: Path, spec: Any
) -> None:
    """Decoded, validated and handled through the real app: an event about a tale that does
    not exist is a permanent condition, acknowledged (200) rather than retried forever."""
    data = json.dumps(SAMPLE_EVENTS[spec.trigger]).encode()
    attrs, body = pubsub_event(
        data,
        {"tale_id": "tale-unknown01", "type": spec.trigger},
        topic=spec.trigger,
        subscription=spec.name,
    )
    response = post_structured(client(spec.name), attrs, body)
    assert response.status_code == 200, response.data


def test_every_pubsub_function_may_publish() -> None:
    """A permanent failure in any stage announces tale.finished, so each needs the bus."""
    assert [s.name for s in FUNCTIONS if not s.is_http and "bus" not in s.needs] == []


def test_the_scheduled_sweep_fails_stuck_tales_through_the_function(
    tale_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cloud Scheduler publishes ``{}`` (no tale, no attributes) to ``tale.sweep``; the
    function fails the tale that has made no progress, and a second delivery changes nothing."""
    from shared.stages import sweep as sweep_stage

    stuck = submit(tale_home)
    attrs, body = pubsub_event(b"{}", {}, topic="tale.sweep", subscription="sweep_stuck")
    sweeper = client("sweep_stuck")
    assert post_structured(sweeper, attrs, body).status_code == 200
    container = bootstrap.container()
    record = container.store.find(stuck)
    assert record is not None and record.state is TaleState.SUBMITTED  # within its deadline

    later = time.time() + 3600
    monkeypatch.setattr(sweep_stage, "now", lambda: later)
    for _ in range(2):
        assert post_structured(sweeper, attrs, body).status_code == 200
    record = container.store.find(stuck)
    assert record is not None and record.state is TaleState.FAILED
    assert "no progress for 60 min" in (record.error_reason or "")
    bus = container.bus
    assert isinstance(bus, SqliteEventBus)
    failed = [d for _, _, d in bus.published(TaleFinished.TYPE) if b'"outcome":"failed"' in d]
    assert len(failed) == 1


def test_the_scheduled_sweep_returns_orphan_reservations_through_the_function(
    tale_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Credits reserved for a tale that was never created (the request died in between) are
    returned by the sweep once they are ``ORPHAN_GRACE_S`` old, once however often the
    message is delivered; a reservation whose tale exists stays."""
    from shared.stages import sweep as sweep_stage
    from shared.usecases.return_orphans import ORPHAN_GRACE_S

    container = bootstrap.container()
    ledger, user = container.ledger, "6f1c1c4e-0000-4000-8000-000000000001"
    assert ledger.ensure_profile(user, "u@example.com")
    assert ledger.grant_monthly(user, "2026-11", 10)
    assert ledger.reserve(user, "tale-orphan01", 4)  # its request died before creating it
    running = submit(tale_home)
    assert ledger.reserve(user, running, 2)
    attrs, body = pubsub_event(b"{}", {}, topic="tale.sweep", subscription="sweep_stuck")
    sweeper = client("sweep_stuck")
    assert post_structured(sweeper, attrs, body).status_code == 200
    assert [e.kind for e in ledger.entries(user)][-1] == "reserve"  # within the grace period

    later = time.time() + ORPHAN_GRACE_S + 1
    monkeypatch.setattr(sweep_stage, "now", lambda: later)
    for _ in range(2):
        assert post_structured(sweeper, attrs, body).status_code == 200
    refunds = [(e.tale_id, e.amount) for e in ledger.entries(user) if e.kind == "refund"]
    assert refunds == [("tale-orphan01", 4)]
    profile = ledger.profile(user)
    assert profile is not None and profile.balance == 8
