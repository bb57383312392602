"""PubSubBus against FakePublisher (no Pub/Sub emulator installs here)."""

from __future__ import annotations

import inspect
import json
import socket
import time
from typing import Any

import pytest
from google.api_core import exceptions as api_exceptions
from google.cloud import pubsub_v1

from schemas.events import ShotRequested, TaleSubmitted
from shared.adapters.gcp.pubsub_bus import PubSubBus
from shared.domain.errors import TransientError
from shared.ports.bus import message_attributes
from tests.gcp_fakes import FakePublisher

TALE = "tale-000042"


def shots(n: int) -> list[ShotRequested]:
    return [ShotRequested(tale_id=TALE, shot_index=i) for i in range(n)]


def test_fake_publish_has_the_real_signature() -> None:
    def shape(fn: Any) -> list[tuple[str, Any, Any]]:
        return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]

    assert shape(FakePublisher.publish) == shape(pubsub_v1.PublisherClient.publish)


def test_publish_topic_path_attributes_and_data() -> None:
    fake = FakePublisher()
    bus = PubSubBus(fake, "tale-prod")
    event = TaleSubmitted(tale_id=TALE)
    message_id = bus.publish(event)

    [(topic, data, attrs)] = fake.calls
    assert topic == "projects/tale-prod/topics/tale.submitted"
    assert (
        attrs
        == message_attributes(event)
        == {
            "type": "tale.submitted",
            "version": "1",
            "tale_id": TALE,
            "key": f"{TALE}:tale.submitted",
        }
    )
    assert TaleSubmitted.model_validate_json(data) == event
    assert json.loads(data)["tale_id"] == TALE
    assert message_id == fake.published[0].message_id


def test_publish_many_publishes_everything_then_waits_for_every_future() -> None:
    # Later messages resolve first: nothing may rely on the order Pub/Sub confirms them in.
    fake = FakePublisher(delay=lambda n, topic, data: 0.05 * (8 - n))
    bus = PubSubBus(fake, "tale-prod")
    events = shots(8)

    started = time.monotonic()
    ids = bus.publish_many(events)
    elapsed = time.monotonic() - started

    assert all(f.done() for f in fake.futures)
    assert elapsed >= 0.4  # the slowest future (0.4 s) delayed the return
    assert elapsed < 1.0  # all awaited together, not one after another (1.8 s)
    by_id = {p.message_id: p for p in fake.published}
    assert [ShotRequested.model_validate_json(by_id[i].data) for i in ids] == events
    assert [p.attrs["key"] for p in fake.published] != [e.key for e in events]  # out of order
    assert {p.topic for p in fake.published} == {"projects/tale-prod/topics/shot.requested"}


def test_one_slow_future_delays_publish_many() -> None:
    fake = FakePublisher(delay=lambda n, topic, data: 0.3 if n == 2 else 0.0)
    started = time.monotonic()
    PubSubBus(fake, "p").publish_many(shots(4))
    assert time.monotonic() - started >= 0.3
    assert len(fake.published) == 4


def test_a_failed_future_raises_transient_error() -> None:
    fake = FakePublisher(fail=FakePublisher.unavailable(1))
    bus = PubSubBus(fake, "p")
    with pytest.raises(TransientError, match="ServiceUnavailable") as info:
        bus.publish_many(shots(3))
    assert isinstance(info.value.__cause__, api_exceptions.ServiceUnavailable)
    assert all(f.done() for f in fake.futures)  # the others were still awaited

    with pytest.raises(TransientError):
        PubSubBus(FakePublisher(fail=FakePublisher.unavailable(0)), "p").publish(
            TaleSubmitted(tale_id=TALE)
        )


def test_an_unconfirmed_publish_times_out_as_transient_error() -> None:
    fake = FakePublisher(delay=lambda n, topic, data: 2.0)
    bus = PubSubBus(fake, "p", timeout_s=0.1)
    started = time.monotonic()
    with pytest.raises(TransientError, match="did not confirm"):
        bus.publish(TaleSubmitted(tale_id=TALE))
    assert time.monotonic() - started < 1.0


def test_non_transient_errors_propagate_unchanged() -> None:
    fake = FakePublisher(fail=lambda n, topic, data: api_exceptions.NotFound("no such topic"))
    with pytest.raises(api_exceptions.NotFound):
        PubSubBus(fake, "p").publish(TaleSubmitted(tale_id=TALE))


def test_publish_raw_replays_bytes_and_attributes() -> None:
    fake = FakePublisher()
    bus = PubSubBus(fake, "p")
    attrs = {"type": "shot.requested", "CloudPubSubDeadLetterSourceDeliveryCount": "5"}
    bus.publish_raw("shot.requested", b"not json", attrs)
    assert fake.calls == [("projects/p/topics/shot.requested", b"not json", attrs)]


def test_from_settings_creates_a_batching_client_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[dict[str, Any]] = []

    class Client(FakePublisher):
        def __init__(self, **kw: Any) -> None:
            super().__init__()
            made.append(kw)

    monkeypatch.setattr(pubsub_v1, "PublisherClient", Client)
    bus = PubSubBus.from_settings("tale-prod")
    assert made == []  # nothing until the first publish
    bus.publish_many(shots(3))
    bus.publish(TaleSubmitted(tale_id=TALE))
    [kw] = made
    settings = kw["batch_settings"]
    assert (settings.max_messages, settings.max_bytes, settings.max_latency) == (
        100,
        1024 * 1024,
        0.01,
    )
    options = kw["publisher_options"]
    assert options.retry.timeout <= bus.timeout_s


def test_a_real_client_that_cannot_reach_pubsub_raises_transient_error() -> None:
    """The real PublisherClient (gRPC to a closed port): its retries end in TransientError."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud.pubsub_v1.types import PublisherOptions

    from shared.adapters.gcp.pubsub_bus import batch_settings, publish_retry

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = pubsub_v1.PublisherClient(
        credentials=AnonymousCredentials(),
        batch_settings=batch_settings(),
        publisher_options=PublisherOptions(retry=publish_retry(1.0), timeout=0.8),
        client_options={"api_endpoint": f"127.0.0.1:{port}"},
    )
    bus = PubSubBus(client, "p", timeout_s=1.0)
    started = time.monotonic()
    try:
        with pytest.raises(TransientError):
            bus.publish(TaleSubmitted(tale_id=TALE))
    finally:
        client.stop()
    assert time.monotonic() - started < 5
