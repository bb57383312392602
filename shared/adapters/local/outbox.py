"""Outbox notifier: writes each notification as a real RFC 5322 ``.eml`` file.

A notification whose owner has no address is still written, without a ``To`` and with an
``X-Tale-Undeliverable`` header that says why: the outbox is where messages are kept, and
nothing is sent from it."""

from __future__ import annotations

import os
import re
import secrets
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from shared.ports.blobs import BlobStore
from shared.ports.notifier import Message, Notification, Notifier


class OutboxNotifier(Notifier):
    """One file per (tale, outcome, revision): sending the same notification again replaces
    the file, so the owner never finds two messages for one event."""

    def __init__(self, folder: Path, sender: str = "Tale <noreply@tale.local>") -> None:
        self.folder = folder
        self.sender = sender

    def path_for(self, tale_id: str, outcome: str, revision: int = 0) -> Path:
        suffix = f"-v{revision}" if revision else ""
        return self.folder / f"{tale_id}-{outcome}{suffix}.eml"

    def send(self, notification: Notification) -> str:
        return self._write(notification, render_email(notification, self.sender))

    def keep_undeliverable(self, notification: Notification, reason: str) -> str:
        return self._write(notification, render_email(notification, self.sender, reason))

    def _write(self, notification: Notification, data: bytes) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        dest = self.path_for(notification.tale_id, notification.outcome, notification.revision)
        tmp = dest.with_name(f".{dest.name}.{secrets.token_hex(4)}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, dest)
        return str(dest.resolve())

    def send_message(self, message: Message) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        dest = self.folder / f"{_safe_key(message.key)}.eml"
        tmp = dest.with_name(f".{dest.name}.{secrets.token_hex(4)}.tmp")
        tmp.write_bytes(render_message(message, self.sender))
        os.replace(tmp, dest)
        return str(dest.resolve())


class BlobOutboxNotifier(Notifier):
    """The same ``.eml`` files in the blob store (``outbox/<tale>-<outcome>.eml``), for cloud
    deployments without an email provider; one object per (tale, outcome)."""

    def __init__(self, blobs: BlobStore, sender: str = "Tale <noreply@tale.local>") -> None:
        self.blobs = blobs
        self.sender = sender

    def send(self, notification: Notification) -> str:
        return self._put(notification, render_email(notification, self.sender))

    def keep_undeliverable(self, notification: Notification, reason: str) -> str:
        return self._put(notification, render_email(notification, self.sender, reason))

    def _put(self, notification: Notification, data: bytes) -> str:
        path = f"outbox/{notification.key}.eml"
        self.blobs.put_bytes(path, data, "message/rfc822")
        return self.blobs.uri(path)

    def send_message(self, message: Message) -> str:
        path = f"outbox/{_safe_key(message.key)}.eml"
        self.blobs.put_bytes(path, render_message(message, self.sender), "message/rfc822")
        return self.blobs.uri(path)


def render_email(notification: Notification, sender: str, undeliverable: str = "") -> bytes:
    """An RFC 5322 message with plain-text and HTML alternatives; ``undeliverable`` (why it
    has no recipient) leaves out ``To`` and says why in ``X-Tale-Undeliverable``."""
    msg = EmailMessage()
    msg["From"] = sender
    if undeliverable:
        msg["X-Tale-Undeliverable"] = undeliverable
    else:
        msg["To"] = notification.to
    msg["Subject"] = notification.subject
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid(idstring=f"{notification.tale_id}.{notification.outcome}")
    msg["X-Tale-Id"] = notification.tale_id
    msg.set_content(notification.text)
    msg.add_alternative(notification.html, subtype="html")
    msg["Content-Language"] = notification.language  # after: set_content drops Content-* headers
    return bytes(msg)


def _safe_key(key: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,200}", key) or key.startswith("."):
        raise ValueError(f"not a message key: {key!r}")
    return key


def render_message(message: Message, sender: str) -> bytes:
    """An RFC 5322 message (plain text and HTML) that is about no single tale."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = message.to
    msg["Subject"] = message.subject
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid(idstring=message.key)
    msg["X-Tale-Message"] = message.key
    for name, value in message.headers:
        msg[name] = value
    msg.set_content(message.text)
    msg.add_alternative(message.html, subtype="html")
    msg["Content-Language"] = message.language  # after: set_content drops Content-* headers
    return bytes(msg)
