"""SMTP to a configured relay (smtplib), with STARTTLS by default.

Security: ``starttls`` (submission, port 587: the session is upgraded before the login, and a
relay that does not offer STARTTLS is refused — nothing is sent in the clear), ``tls``
(implicit TLS, port 465) or ``none`` (a relay on the same host or network only). The relay's
certificate is verified against the system's CAs, or against ``ca_file`` for a private relay.

Each message carries a ``Message-ID`` derived from the notification's key
(``<tale-…-completed@sender-domain>``) and an ``X-Tale-Key`` header: a copy sent again after
an accepted send that was never recorded has the same ``Message-ID`` as the first.

Replies: 4xx (the relay is busy, greylisting, a mailbox temporarily unavailable), a dropped
connection and a timeout → ``TransientError``; 5xx (authentication refused, the recipient or
the sender refused, the message rejected), a relay without STARTTLS and a certificate that
does not verify → ``PermanentError``.
"""

from __future__ import annotations

import smtplib
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Literal

from shared.domain.errors import PermanentError, TransientError

from .sending import Outgoing, Transport, message_id

Security = Literal["starttls", "tls", "none"]


class SmtpTransport(Transport):
    name = "smtp"

    def __init__(
        self,
        host: str,
        port: int,
        *,
        sender: str,
        security: Security = "starttls",
        username: str | None = None,
        password: str | None = None,
        timeout_s: float = 20.0,
        ca_file: Path | None = None,
    ) -> None:
        if not host:
            raise ValueError("SMTP needs a relay host (TALE_SMTP_HOST)")
        self.host, self.port, self.sender = host, port, sender
        self.security: Security = security
        self.username, self.password = username, password
        self.timeout_s = timeout_s
        self.ca_file = ca_file

    def message(self, mail: Outgoing) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = mail.to
        msg["Subject"] = mail.subject
        msg["Date"] = format_datetime(datetime.now(UTC))
        msg["Message-ID"] = message_id(mail.key, self.sender)
        msg["X-Tale-Key"] = mail.key
        if mail.tale_id:
            msg["X-Tale-Id"] = mail.tale_id
        for name, value in mail.headers:
            msg[name] = value
        msg.set_content(mail.text)
        msg.add_alternative(mail.html, subtype="html")
        msg["Content-Language"] = mail.language  # after: set_content drops Content-* headers
        return msg

    def deliver(self, mail: Outgoing) -> str:
        msg = self.message(mail)
        try:
            self._send(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            detail = f"recipient refused: {exc.recipients}"
            raise _by_code(min(codes, default=550), detail) from exc
        except smtplib.SMTPResponseException as exc:
            reply = exc.smtp_error
            text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
            raise _by_code(exc.smtp_code, f"{exc.smtp_code} {text}") from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise PermanentError(f"the relay {self.host} cannot: {exc}") from exc
        except ssl.SSLCertVerificationError as exc:
            raise PermanentError(f"the relay {self.host}'s certificate: {exc}") from exc
        except (smtplib.SMTPException, OSError) as exc:  # disconnected, refused, timed out
            raise TransientError(f"SMTP relay {self.host}:{self.port}: {exc!r}") from exc
        return str(msg["Message-ID"])

    def _send(self, msg: EmailMessage) -> None:
        context = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
        smtp: smtplib.SMTP
        if self.security == "tls":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout_s, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout_s)
        with smtp:
            smtp.ehlo()
            if self.security == "starttls":
                smtp.starttls(context=context)  # refuses a relay without STARTTLS
                smtp.ehlo()
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(msg)

    def where(self, mail: Outgoing) -> str:
        return f"smtp:{message_id(mail.key, self.sender)}"


def _by_code(code: int, detail: str) -> TransientError | PermanentError:
    """SMTP reply classes: 5xx permanent; 4xx (and a reply that could not be read) transient."""
    if 500 <= code < 600:
        return PermanentError(f"SMTP relay refused: {detail}")
    return TransientError(f"SMTP relay answered {detail}")
