"""Dead letters on GCP: the operators' pull subscription on ``tale.dead-letter``.

``terraform/pubsub.tf`` declares the subscription (``dead_letter_hold``): no push endpoint,
seven days' retention, never expires. Nothing but the operator tools reads it, so a message
stays there until it is replayed (or its retention ends).

- Listing pulls in batches until the subscription returns nothing (or ``max_batches``), then
  releases every lease at once (ack deadline 0): listing consumes nothing.
- Replaying publishes the data and original attributes on the topic of the subscription that
  gave up (``CloudPubSubDeadLetterSourceSubscription`` → the registry), waits for Pub/Sub to
  accept it, and only then acknowledges the dead letter. A crash between the two leaves the
  letter in place; replaying it again is harmless because every handler is idempotent.
"""

from __future__ import annotations

from typing import Any

from shared.ports.dead_letters import DeadLetter, DeadLetterQueue, original_attributes
from shared.registry import BY_NAME

SOURCE_SUBSCRIPTION = "CloudPubSubDeadLetterSourceSubscription"
SOURCE_DELIVERIES = "CloudPubSubDeadLetterSourceDeliveryCount"


class PubSubDeadLetters(DeadLetterQueue):
    def __init__(
        self,
        subscriber: Any,
        publisher: Any,
        project: str,
        subscription: str,
        *,
        batch: int = 100,
        max_batches: int = 20,
        timeout_s: float = 30.0,
    ) -> None:
        """``subscriber`` and ``publisher``: the process's Pub/Sub clients
        (``Container.subscriber``, ``Container.publisher``)."""
        self.subscriber = subscriber
        self.publisher = publisher
        self.project = project
        self.subscription = f"projects/{project}/subscriptions/{subscription}"
        self.batch = batch
        self.max_batches = max_batches
        self.timeout_s = timeout_s

    def dead_letters(self) -> list[DeadLetter]:
        received = self._pull_all()
        try:
            return [self._letter(r) for r in received]
        finally:
            self._release([r.ack_id for r in received])

    def replay(self, message_id: str) -> str:
        received = self._pull_all()
        found = next((r for r in received if r.message.message_id == message_id), None)
        acked = False
        try:
            if found is None:
                raise KeyError(f"no dead letter {message_id} in {self.subscription}")
            letter = self._letter(found)
            if not letter.topic:
                raise KeyError(f"dead letter {message_id} names no topic to replay it on")
            future = self.publisher.publish(
                f"projects/{self.project}/topics/{letter.topic}",
                bytes(found.message.data),
                **original_attributes(letter.attributes),
            )
            new_id: str = future.result(timeout=self.timeout_s)
            self.subscriber.acknowledge(
                subscription=self.subscription, ack_ids=[found.ack_id], timeout=self.timeout_s
            )
            acked = True
            return new_id
        finally:
            self._release([r.ack_id for r in received if not (acked and r is found)])

    def _pull_all(self) -> list[Any]:
        received: list[Any] = []
        seen: set[str] = set()
        for _ in range(self.max_batches):
            response = self.subscriber.pull(
                subscription=self.subscription, max_messages=self.batch, timeout=self.timeout_s
            )
            batch = [r for r in response.received_messages if r.message.message_id not in seen]
            if not batch:
                break
            seen.update(r.message.message_id for r in batch)
            received += batch
        return sorted(received, key=_published_at)

    def _release(self, ack_ids: list[str]) -> None:
        if ack_ids:
            self.subscriber.modify_ack_deadline(
                subscription=self.subscription,
                ack_ids=ack_ids,
                ack_deadline_seconds=0,
                timeout=self.timeout_s,
            )

    def _letter(self, received: Any) -> DeadLetter:
        attributes = dict(received.message.attributes)
        source = attributes.get(SOURCE_SUBSCRIPTION, "").rsplit("/", 1)[-1]
        spec = BY_NAME.get(source)
        topic = spec.trigger if spec and not spec.is_http else attributes.get("type", "")
        return DeadLetter(
            message_id=received.message.message_id,
            subscription=source or "?",
            topic=topic,
            attributes=attributes,
            last_error=f"gave up after {attributes.get(SOURCE_DELIVERIES, '?')} deliveries",
        )


def _published_at(received: Any) -> float:
    when = received.message.publish_time
    return float(when.timestamp()) if when else 0.0
