"""Event bus port: publish an event to its topic."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping

from schemas.events import Event


def message_attributes(event: Event) -> dict[str, str]:
    """Pub/Sub message attributes every Tale message carries (readable without decoding)."""
    return {
        "type": event.TYPE,
        "version": str(event.version),
        "tale_id": event.tale_id,
        "key": event.key,
    }


class EventBus(ABC):
    """Publishes events; delivery is at-least-once, so consumers must be idempotent.

    ``publish`` returns only once the bus has durably accepted the message (a Pub/Sub publish
    future resolved, a committed SQLite row): a function that returns after publishing must not
    lose the message.
    """

    @abstractmethod
    def publish(self, event: Event) -> str:
        """Publish one event on the topic ``event.TYPE``; return the message id."""

    def publish_many(self, events: Iterable[Event]) -> list[str]:
        return [self.publish(e) for e in events]

    def publish_raw(self, topic: str, data: bytes, attributes: Mapping[str, str]) -> str:
        """Publish bytes as they are on ``topic``: control messages that are not tale events
        (the trend scout's) and operators' replays. Adapters without it refuse."""
        raise NotImplementedError(f"{type(self).__name__} cannot publish raw messages")
