"""SendGrid's v3 Mail Send API, through httpx.

``POST https://api.sendgrid.com/v3/mail/send`` (EU regional subusers:
``https://api.eu.sendgrid.com``) with ``Authorization: Bearer <API key>`` and a JSON body.
``202 Accepted``: valid and queued for delivery (``200`` only in sandbox mode: valid, not
queued). The answer's ``X-Message-Id`` header is SendGrid's id for the send (logged). A
refusal carries ``{"errors": [{"message": …, "field": …, "help": …}]}``.

The body: ``personalizations`` (at least one, each with at least one ``to`` object holding an
``email``), ``from`` (``email`` and an optional ``name``; Unicode is not supported there),
``subject``, ``content`` (we send ``text/plain`` and then ``text/html``), custom ``headers``
(``X-Tale-Key``, ``X-Tale-Id``) and ``custom_args`` (string values, under 10,000 bytes in
all; returned with every event-webhook event and searchable in the activity feed). Limits:
1,000 recipients per request, 30 MB per message.

How an answer is treated: 2xx accepted; 408, 429 and 5xx → ``TransientError`` (redelivered
with backoff); any other refusal (400 a bad body, 401 a missing or revoked key, 403 a sender
that is not verified, 413 too large) → ``PermanentError``. A timeout or a connection error is
transient, although SendGrid may have accepted the message before the answer was lost: the
key in ``custom_args`` (``tale_key``) identifies such a copy.

Sources (read 2026): the Mail Send reference
https://docs.sendgrid.com/api-reference/mail-send/mail-send and its overview
https://www.twilio.com/docs/sendgrid/api-reference/mail-send ; the limits
https://docs.sendgrid.com/api-reference/mail-send/limitations ; the status codes and
parameter errors https://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html and
https://www.twilio.com/docs/sendgrid/api-reference/mail-send/errors ; the error body
https://www.twilio.com/docs/sendgrid/api-reference/how-to-use-the-sendgrid-v3-api/errors ;
``X-Message-Id`` https://sendgrid.com/docs/glossary/x-message-id/ .
"""

from __future__ import annotations

from email.utils import parseaddr
from typing import Any
from urllib.parse import urlsplit

import httpx

from shared.domain.errors import PermanentError, TransientError

from .sending import Outgoing, Transport

SENDGRID_URL = "https://api.sendgrid.com"
MAIL_SEND_PATH = "/v3/mail/send"
#: Total size of ``custom_args`` SendGrid accepts (the limitations page: under 10,000 bytes).
CUSTOM_ARGS_MAX_BYTES = 10_000


def host_of(base_url: str) -> str:
    return urlsplit(base_url).hostname or ""


class SendGridTransport(Transport):
    name = "sendgrid"

    def __init__(
        self, http: httpx.Client, api_key: str, sender: str, base_url: str = SENDGRID_URL
    ) -> None:
        if not api_key:
            raise ValueError("SendGrid needs an API key (TALE_EMAIL_API_KEY)")
        self.http = http
        self.api_key = api_key
        self.sender = sender
        self.url = base_url.rstrip("/") + MAIL_SEND_PATH

    def body(self, mail: Outgoing) -> dict[str, Any]:
        name, address = parseaddr(self.sender)
        sender: dict[str, str] = {"email": address}
        if name:
            sender["name"] = name
        args = {"tale_key": mail.key, **({"tale_id": mail.tale_id} if mail.tale_id else {})}
        headers = {"X-Tale-Key": mail.key, **dict(mail.headers)}
        if mail.tale_id:
            headers["X-Tale-Id"] = mail.tale_id
        return {
            "personalizations": [{"to": [{"email": mail.to}]}],
            "from": sender,
            "subject": mail.subject,
            "content": [
                {"type": "text/plain", "value": mail.text},
                {"type": "text/html", "value": mail.html},
            ],
            "headers": headers,
            "custom_args": args,
        }

    def deliver(self, mail: Outgoing) -> str:
        body = self.body(mail)
        size = sum(len(k.encode()) + len(v.encode()) for k, v in body["custom_args"].items())
        if size >= CUSTOM_ARGS_MAX_BYTES:
            raise PermanentError(f"custom_args of {mail.key} take {size} bytes (SendGrid: <10000)")
        try:
            response = self.http.post(
                self.url, json=body, headers={"Authorization": f"Bearer {self.api_key}"}
            )
        except httpx.TimeoutException as exc:
            raise TransientError(f"SendGrid did not answer in time ({mail.key}): {exc}") from exc
        except httpx.TransportError as exc:
            raise TransientError(f"SendGrid unreachable ({mail.key}): {exc}") from exc
        status = response.status_code
        if 200 <= status < 300:
            return str(response.headers.get("X-Message-Id", f"HTTP {status}"))
        detail = _errors(response)
        if status in (408, 429) or status >= 500:
            retry = response.headers.get("Retry-After")
            after = f"; retry after {retry} s" if retry else ""
            raise TransientError(f"SendGrid answered {status} for {mail.key}: {detail}{after}")
        raise PermanentError(f"SendGrid refused {mail.key} ({status}): {detail}")

    def where(self, mail: Outgoing) -> str:
        return f"sendgrid:{mail.key}"


def _errors(response: httpx.Response) -> str:
    """SendGrid's ``errors`` list as one line (or the start of whatever else it sent)."""
    try:
        errors = response.json().get("errors")
    except (ValueError, AttributeError):
        errors = None
    if not isinstance(errors, list) or not errors:
        return response.text[:300] or response.reason_phrase
    parts = []
    for e in errors[:5]:
        if isinstance(e, dict):
            field = e.get("field")
            parts.append(f"{field}: {e.get('message')}" if field else str(e.get("message")))
    return "; ".join(parts)[:500]
