"""Operators' dead letters on GCP: listing consumes nothing; replay re-publishes on the source
topic with the original attributes and only then acknowledges."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from google.api_core import exceptions as api_exceptions
from google.pubsub_v1.services.subscriber import SubscriberClient

from shared.adapters.gcp.dead_letters import PubSubDeadLetters
from tests.gcp_fakes import FakePublisher, FakeSubscriber

PROJECT = "tale-prod"
HOLD = f"projects/{PROJECT}/subscriptions/dead-letter-hold"


def letter(sub: FakeSubscriber, message_id: str, source: str, tale: str = "tale-000001") -> None:
    sub.add(
        b'{"tale_id": "%s"}' % tale.encode(),
        {
            "tale_id": tale,
            "type": "ignored-when-the-source-is-known",
            "CloudPubSubDeadLetterSourceSubscription": f"projects/{PROJECT}/subscriptions/{source}",
            "CloudPubSubDeadLetterSourceDeliveryCount": "5",
            "CloudPubSubDeadLetterSourceSubscriptionProject": PROJECT,
        },
        message_id,
    )


@pytest.fixture
def parts() -> tuple[FakeSubscriber, FakePublisher, PubSubDeadLetters]:
    sub = FakeSubscriber(HOLD, pull_size=2)  # fewer per pull than asked, as Pub/Sub may do
    pub = FakePublisher()
    letter(sub, "m1", "render_shot")
    letter(sub, "m2", "stitch_video", "tale-000002")
    letter(sub, "m3", "settle_credits", "tale-000003")
    return sub, pub, PubSubDeadLetters(sub, pub, PROJECT, "dead-letter-hold", batch=10)


@pytest.mark.parametrize("method", ["pull", "acknowledge", "modify_ack_deadline"])
def test_the_fake_subscriber_has_the_real_signatures(method: str) -> None:
    def shape(fn: Any) -> list[tuple[str, Any]]:
        return [(p.name, p.kind) for p in inspect.signature(fn).parameters.values()]

    assert shape(getattr(FakeSubscriber, method)) == shape(getattr(SubscriberClient, method))


def test_listing_shows_every_letter_and_consumes_nothing(
    parts: tuple[FakeSubscriber, FakePublisher, PubSubDeadLetters],
) -> None:
    sub, _, queue = parts
    first = queue.dead_letters()
    assert [(d.message_id, d.subscription, d.topic) for d in first] == [
        ("m1", "render_shot", "shot.requested"),
        ("m2", "stitch_video", "stitch.requested"),
        ("m3", "settle_credits", "tale.finished"),
    ]
    assert first[0].last_error == "gave up after 5 deliveries"
    assert [d.message_id for d in queue.dead_letters()] == ["m1", "m2", "m3"]  # leases released
    assert set(sub.messages) == {"m1", "m2", "m3"}


def test_replay_publishes_on_the_source_topic_then_acknowledges(
    parts: tuple[FakeSubscriber, FakePublisher, PubSubDeadLetters],
) -> None:
    sub, pub, queue = parts
    new_id = queue.replay("m2")
    [published] = pub.published
    assert new_id == published.message_id
    assert published.topic == f"projects/{PROJECT}/topics/stitch.requested"
    assert published.data == b'{"tale_id": "tale-000002"}'
    assert published.attrs == {"tale_id": "tale-000002", "type": "ignored-when-the-source-is-known"}
    assert set(sub.messages) == {"m1", "m3"}
    assert [d.message_id for d in queue.dead_letters()] == ["m1", "m3"]


def test_an_unknown_letter_is_a_key_error_and_nothing_stays_leased(
    parts: tuple[FakeSubscriber, FakePublisher, PubSubDeadLetters],
) -> None:
    _, pub, queue = parts
    with pytest.raises(KeyError, match="no dead letter nope"):
        queue.replay("nope")
    assert pub.calls == []
    assert [d.message_id for d in queue.dead_letters()] == ["m1", "m2", "m3"]


def test_a_failed_publish_keeps_the_letter(
    parts: tuple[FakeSubscriber, FakePublisher, PubSubDeadLetters],
) -> None:
    _, pub, queue = parts
    pub.fail = FakePublisher.unavailable(0)
    with pytest.raises(api_exceptions.ServiceUnavailable):
        queue.replay("m1")
    assert [d.message_id for d in queue.dead_letters()] == ["m1", "m2", "m3"]
    assert queue.replay("m1") == pub.published[0].message_id  # the operator tries again


def test_the_container_picks_the_hold_subscription_on_gcp(monkeypatch: pytest.MonkeyPatch) -> None:
    from google.cloud import pubsub_v1

    from shared import bootstrap
    from shared.config import Settings

    monkeypatch.setattr(pubsub_v1, "SubscriberClient", lambda: FakeSubscriber(HOLD))
    monkeypatch.setattr(pubsub_v1, "PublisherClient", lambda **_: FakePublisher())
    container = bootstrap.Container(
        Settings(gcp_project=PROJECT, media_bucket="b", kms_key="projects/p/locations/l/k")
    )
    queue = container.dead_letters
    assert isinstance(queue, PubSubDeadLetters)
    assert queue.subscription == HOLD
    # the process's clients: replays publish through the bus's publisher
    assert queue.subscriber is container.subscriber
    assert queue.publisher is container.publisher
    assert queue.dead_letters() == []
