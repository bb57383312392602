"""Dead-letter port: the messages a subscription gave up on, for operators to inspect and replay.

Locally the SQLite bus keeps every dead delivery. On GCP the dead-letter topic has two
subscriptions: the ``handle_dead_letter`` push subscription (fails the tale, acks) and a pull
subscription that only operators read (``tale dead-letters`` / ``tale replay``), which keeps
each message for its retention period until it is replayed.

Replaying publishes the message's data and attributes again on its original topic, without
the ``CloudPubSubDeadLetter*`` attributes. Every subscriber of that topic receives it; all of
them are idempotent on the event's logical key, so the ones that had already handled it do
nothing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

DEAD_LETTER_ATTRIBUTE_PREFIX = "CloudPubSubDeadLetter"


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    subscription: str
    """The subscription (= function) that gave up on it."""
    topic: str
    attributes: dict[str, str]
    last_error: str
    """The last error, where the transport knows it (else how many attempts were made)."""


def original_attributes(attributes: dict[str, str]) -> dict[str, str]:
    """The attributes the message was first published with."""
    return {k: v for k, v in attributes.items() if not k.startswith(DEAD_LETTER_ATTRIBUTE_PREFIX)}


class DeadLetterQueue(ABC):
    @abstractmethod
    def dead_letters(self) -> list[DeadLetter]:
        """The messages given up on (oldest first), without consuming them."""

    @abstractmethod
    def replay(self, message_id: str) -> str:
        """Publish the dead letter again on its topic; the new message id. ``KeyError`` when
        there is no such dead letter."""
