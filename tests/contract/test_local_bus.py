"""The SQLite bus keeps Pub/Sub's promises: fan-out per subscription, at-least-once,
backoff, dead letters after the maximum attempts, durability across processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas.events import ShotRequested
from shared.adapters.local.bus import BusPolicy, SqliteEventBus

SUBS = {"shot.requested": ["render_shot", "audit"], "tale.dead-letter": ["handle_dead_letter"]}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def bus_at(path: Path, clock: Clock, attempts: int = 3) -> SqliteEventBus:
    policy = BusPolicy(
        max_delivery_attempts=attempts, min_backoff_s=1, max_backoff_s=4, ack_deadline_s=60
    )
    return SqliteEventBus(path / "bus.db", SUBS, policy, clock)


def test_each_subscription_gets_the_message_with_attributes(tmp_path: Path, clock: Clock) -> None:
    bus = bus_at(tmp_path, clock)
    bus.publish(ShotRequested(tale_id="tale-000001", shot_index=2))
    got = bus.lease(10)
    assert sorted(d.subscription for d in got) == ["audit", "render_shot"]
    d = got[0]
    assert d.attributes == {
        "type": "shot.requested",
        "version": "1",
        "tale_id": "tale-000001",
        "key": "tale-000001:shot:2:1",
    }
    assert ShotRequested.model_validate_json(d.data).shot_index == 2
    assert bus.lease(10) == []  # leased: not delivered twice while the lease holds
    for x in got:
        bus.ack(x)
    assert bus.outstanding() == 0


def test_unacked_delivery_is_redelivered_after_the_deadline(tmp_path: Path, clock: Clock) -> None:
    bus = bus_at(tmp_path, clock)
    bus.publish_raw("shot.requested", b"{}", {})
    first = bus.lease(1)[0]
    clock.now += 61
    again = bus.lease(5)
    assert first.message_id in {d.message_id for d in again}
    assert max(d.attempt for d in again if d.subscription == first.subscription) == 2


def test_nack_backs_off_then_dead_letters(tmp_path: Path, clock: Clock) -> None:
    bus = bus_at(tmp_path, clock, attempts=3)
    bus.publish_raw("shot.requested", b"junk", {"tale_id": "tale-000001"})
    delays = []
    for delivery in bus.lease(10):  # attempt 1 of both subscriptions
        if delivery.subscription == "audit":
            bus.ack(delivery)
        else:
            dead = bus.nack(delivery, "boom")
            delays.append(bus.next_due_in())
    for _ in range(2):
        clock.now += 10
        (d,) = bus.lease(10)
        assert d.subscription == "render_shot"
        dead = bus.nack(d, "boom")
        delays.append(bus.next_due_in())
    assert dead is True
    letters = bus.lease(10)
    assert [x.topic for x in letters] == ["tale.dead-letter"]
    attrs = letters[0].attributes
    assert attrs["CloudPubSubDeadLetterSourceSubscription"] == "render_shot"
    assert attrs["CloudPubSubDeadLetterSourceDeliveryCount"] == "3"
    assert attrs["tale_id"] == "tale-000001" and letters[0].data == b"junk"
    assert delays[0] == 1 and delays[1] == 2  # exponential backoff


def test_a_failing_dead_letter_handler_never_loops(tmp_path: Path, clock: Clock) -> None:
    bus = bus_at(tmp_path, clock, attempts=1)
    bus.publish_raw("tale.dead-letter", b"x", {})
    (d,) = bus.lease(5)
    assert bus.nack(d, "still broken") is True
    clock.now += 100
    assert bus.lease(5) == [] and bus.outstanding() == 0
    assert bus.stats() == {"dead": 1}


def test_messages_survive_a_new_process(tmp_path: Path, clock: Clock) -> None:
    bus = bus_at(tmp_path, clock)
    bus.publish_raw("shot.requested", b"{}", {})
    bus.lease(10)  # leased by a process that then dies
    reopened = bus_at(tmp_path, clock)
    assert reopened.release_leases() == 2
    assert len(reopened.lease(10)) == 2


def test_unknown_topic_is_refused(tmp_path: Path, clock: Clock) -> None:
    with pytest.raises(KeyError):
        bus_at(tmp_path, clock).publish_raw("no.such.topic", b"", {})
