"""A notifier that sends through an email provider, at most once per key.

Delivery is at-least-once, so the same notification can reach ``send`` twice: a redelivered
``tale.finished`` whose first run sent the email and then died before the stage recorded it.
The provider is asked only while no marker says it accepted the key before; the marker
(``email-sent:notification:<tale>-<outcome>`` or ``email-sent:message:<key>``) is written
right after the provider accepted, so a redelivery finds it and sends nothing.

One window stays open: the provider accepted but the marker was never written (the process
died in between, or the answer was lost to a timeout). A redelivery then sends again, and the
copy carries the same key — SendGrid's ``custom_args`` (searchable in its activity feed and
sent with every event-webhook event), or for SMTP a ``Message-ID`` derived from the key, which
mail stores use to recognise a duplicate — so the second copy can be recognised as one.

Failures: ``TransientError`` (throttled, the provider down, a timeout, an SMTP 4xx) is raised
for Pub/Sub to redeliver; ``PermanentError`` (refused: bad request, bad credentials, an SMTP
5xx) will not heal by retrying.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parseaddr

from shared.domain.errors import PermanentError
from shared.ports.notifier import Message, Notification, Notifier

log = logging.getLogger("tale.email")


@dataclass(frozen=True)
class Outgoing:
    """One email to hand to a provider."""

    key: str
    to: str
    subject: str
    text: str
    html: str
    language: str
    tale_id: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    """Further header fields of a ``Message`` (the digest's ``List-Unsubscribe``)."""

    @classmethod
    def of(cls, item: Notification | Message) -> Outgoing:
        tale_id = item.tale_id if isinstance(item, Notification) else None
        headers = item.headers if isinstance(item, Message) else ()
        return cls(
            item.key, item.to, item.subject, item.text, item.html, item.language, tale_id, headers
        )


def sender_domain(sender: str) -> str:
    """The domain of a From address (``Tale <noreply@tale.example>`` → ``tale.example``)."""
    _, address = parseaddr(sender)
    domain = address.rpartition("@")[2]
    return domain or "tale.local"


def message_id(key: str, sender: str) -> str:
    """A ``Message-ID`` derived from the key alone: a second copy of one notification carries
    the same id as the first."""
    return f"<{key}@{sender_domain(sender)}>"


class Transport(ABC):
    """One provider: hands a message over, or raises ``TransientError``/``PermanentError``."""

    name: str

    @abstractmethod
    def deliver(self, mail: Outgoing) -> str:
        """Hand the message to the provider; return the provider's id for it (for the log)."""

    @abstractmethod
    def where(self, mail: Outgoing) -> str:
        """Where it went, from the key alone (the same answer after a redelivery)."""


class SendingNotifier(Notifier):
    """Sends through ``transport`` at most once per key: ``marked(name)`` is asked first and
    ``mark(name)`` records an accepted send (one-time markers that are not about one tale:
    the ``Claims`` port, under ``email-sent:``); ``name`` is ``notification:<key>`` or
    ``message:<key>``."""

    def __init__(
        self,
        transport: Transport,
        *,
        marked: Callable[[str], bool],
        mark: Callable[[str], bool],
    ) -> None:
        self.transport = transport
        self.marked = marked
        self.mark = mark

    def send(self, notification: Notification) -> str:
        return self._once(Outgoing.of(notification), f"notification:{notification.key}")

    def send_message(self, message: Message) -> str:
        return self._once(Outgoing.of(message), f"message:{message.key}")

    def _once(self, mail: Outgoing, key: str) -> str:
        if "@" not in parseaddr(mail.to)[1]:
            raise PermanentError(f"not an email address: {mail.to!r}")
        where = self.transport.where(mail)
        if self.marked(key):
            log.info("email %s was accepted before (%s): not sent again", mail.key, where)
            return where
        provider_id = self.transport.deliver(mail)
        self.mark(key)
        log.info("email %s accepted by %s (%s)", mail.key, self.transport.name, provider_id)
        return where
