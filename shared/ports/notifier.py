"""Notifier port: tell a tale's owner that it finished (and send the trend digest)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass


@dataclass(frozen=True)
class Notification:
    tale_id: str
    outcome: str
    to: str
    """The owner's address (their profile's; an operator run's ``TALE_OWNER_EMAIL``)."""
    subject: str
    text: str
    html: str
    language: str
    revision: int = 0
    """The revision that finished (0: the first cut)."""

    @property
    def key(self) -> str:
        """Idempotency key: one message per (tale, outcome, revision), ``<tale id>-<outcome>``
        and ``-v<n>`` for a revision."""
        base = f"{self.tale_id}-{self.outcome}"
        return f"{base}-v{self.revision}" if self.revision else base


@dataclass(frozen=True)
class Message:
    """A message about no single tale (the trend digest)."""

    key: str
    """Idempotency key and file name: ``[A-Za-z0-9._-]``, at most 200 characters."""
    to: str
    subject: str
    text: str
    html: str
    language: str
    headers: tuple[tuple[str, str], ...] = ()
    """Further header fields, e.g. ``List-Unsubscribe`` and ``List-Unsubscribe-Post``
    (RFC 2369, RFC 8058) on the trend digest."""


class Notifier(ABC):
    @abstractmethod
    def send(self, notification: Notification) -> str:
        """Deliver it; return where it went (a path or a provider message id).

        Sending the same notification twice must not produce two messages for the owner
        (adapters key on tale id and outcome).
        """

    def keep_undeliverable(self, notification: Notification, reason: str) -> str | None:
        """Keep a notification that has no address to go to (``to`` is empty) where this
        notifier keeps its messages, marked as not delivered; return where, or None when it
        keeps none (an email provider). Nothing is sent to anyone."""
        return None

    def send_message(self, message: Message) -> str:
        """Deliver a message that is about no single tale; return where it went. Sending
        the same ``key`` twice must not produce two messages. Adapters without it refuse."""
        raise NotImplementedError(f"{type(self).__name__} cannot send {message.key}")
