"""Outbox notifier: writes each notification as a real RFC 5322 ``.eml`` file."""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from shared.ports.notifier import Notification, Notifier


class OutboxNotifier(Notifier):
    """One file per (tale, outcome): sending the same notification again replaces the file,
    so the owner never finds two messages for one event."""

    def __init__(self, folder: Path, sender: str = "Tale <noreply@tale.local>") -> None:
        self.folder = folder
        self.sender = sender

    def path_for(self, tale_id: str, outcome: str) -> Path:
        return self.folder / f"{tale_id}-{outcome}.eml"

    def send(self, notification: Notification) -> str:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = notification.to
        msg["Subject"] = notification.subject
        msg["Date"] = format_datetime(datetime.now(UTC))
        msg["Message-ID"] = make_msgid(idstring=f"{notification.tale_id}.{notification.outcome}")
        msg["Content-Language"] = notification.language
        msg["X-Tale-Id"] = notification.tale_id
        msg.set_content(notification.text)
        msg.add_alternative(notification.html, subtype="html")
        self.folder.mkdir(parents=True, exist_ok=True)
        dest = self.path_for(notification.tale_id, notification.outcome)
        tmp = dest.with_name(f".{dest.name}.{secrets.token_hex(4)}.tmp")
        tmp.write_bytes(bytes(msg))
        os.replace(tmp, dest)
        return str(dest.resolve())
