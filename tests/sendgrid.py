"""A stand-in for SendGrid's v3 Mail Send endpoint, behind ``httpx.MockTransport``.

It refuses what the real endpoint documents it refuses, with the documented body
``{"errors": [{"message", "field", "help"}]}``: 401 without a valid ``Authorization: Bearer``
key; 400 for a body that is not JSON, no ``personalizations``, a personalization without a
``to`` email, no ``from`` email, no subject, no ``content``, ``text/plain``/``text/html`` out of
order, ``custom_args`` that are not strings or take 10,000 bytes or more; 403 for a ``from``
that is not a verified sender. It accepts with ``202 Accepted``, an empty body and an
``X-Message-Id`` header. ``faults`` are answered first, in order: a status code (with an
``errors`` body; 429 with ``Retry-After``) or an exception to raise (a timeout).
Sources: see ``shared/adapters/email/sendgrid.py``.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

import httpx

HELP = "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html#message"
API_KEY = "SG.stand-in.key"


def _error(field: str | None, message: str) -> dict[str, Any]:
    return {"field": field, "message": message, "help": f"{HELP}.{field}" if field else None}


def _errors(status: int, *errors: dict[str, Any], **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"errors": list(errors)}, headers=headers)


class SendGridStandIn:
    def __init__(
        self, api_key: str = API_KEY, verified: tuple[str, ...] = ("noreply@tale.example",)
    ) -> None:
        self.api_key = api_key
        self.verified = verified
        self.requests: list[httpx.Request] = []
        self.accepted: list[dict[str, Any]] = []
        self.faults: list[int | Exception] = []

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handle), timeout=5.0)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.host != "api.sendgrid.com" or request.url.path != "/v3/mail/send":
            return _errors(404, _error(None, "resource not found"))
        if request.method != "POST":
            return _errors(405, _error(None, "method not allowed"))
        if self.faults:
            fault = self.faults.pop(0)
            if isinstance(fault, Exception):
                raise fault
            retry = {"Retry-After": "1"} if fault == 429 else {}
            return _errors(fault, _error(None, f"stand-in fault {fault}"), **retry)
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return _errors(
                401,
                _error(None, "The provided authorization grant is invalid, expired, or revoked"),
            )
        try:
            body = json.loads(request.content)
        except ValueError:
            return _errors(400, _error(None, "Bad Request"))
        problems = validate(body) if isinstance(body, dict) else [_error(None, "Bad Request")]
        if problems:
            return _errors(400, *problems)
        if body["from"]["email"] not in self.verified:
            return _errors(
                403,
                _error(
                    "from",
                    "The from address does not match a verified Sender Identity. Mail cannot "
                    "be sent until this error is resolved.",
                ),
            )
        self.accepted.append(body)
        return httpx.Response(202, headers={"X-Message-Id": secrets.token_urlsafe(16)})


def validate(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The parameter errors the Mail Send endpoint documents, for the fields Tale sends."""
    out: list[dict[str, Any]] = []
    people = body.get("personalizations")
    if not isinstance(people, list) or not people:
        out.append(_error("personalizations", "You must have at least one personalization."))
    else:
        for i, p in enumerate(people):
            tos = p.get("to") if isinstance(p, dict) else None
            if (
                not isinstance(tos, list)
                or not tos
                or not all(isinstance(t, dict) and "@" in str(t.get("email", "")) for t in tos)
            ):
                out.append(
                    _error(
                        f"personalizations.{i}.to",
                        "Each to object must at least have an email address and may also "
                        "contain a name.",
                    )
                )
    sender = body.get("from")
    if not isinstance(sender, dict) or "@" not in str(sender.get("email", "")):
        out.append(
            _error(
                "from",
                "The from object must be provided for every email send. It is an object that "
                "requires the email parameter, but may also contain a name parameter.",
            )
        )
    subjects = [p.get("subject") for p in people or [] if isinstance(p, dict)]
    if not body.get("subject") and not (subjects and all(subjects)):
        out.append(_error("subject", "The subject is required."))
    content = body.get("content")
    if not isinstance(content, list) or not content:
        out.append(
            _error(
                "content",
                "Unless a valid template_id is provided, the content parameter is required.",
            )
        )
    else:
        types = [c.get("type") for c in content if isinstance(c, dict)]
        expected = [t for t in ("text/plain", "text/html") if t in types]
        if types[: len(expected)] != expected or not all(
            isinstance(c, dict) and isinstance(c.get("value"), str) and c["value"] for c in content
        ):
            out.append(
                _error(
                    "content",
                    "If present, text/plain and text/html may only be provided in order, "
                    "followed by any other content.",
                )
            )
    args = body.get("custom_args", {})
    if not isinstance(args, dict) or not all(isinstance(v, str) for v in args.values()):
        out.append(_error("custom_args", "Custom args must be strings."))
    elif sum(len(k.encode()) + len(v.encode()) for k, v in args.items()) >= 10_000:
        out.append(_error("custom_args", "The total length of custom arguments is too large."))
    return out
