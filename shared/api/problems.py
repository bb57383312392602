"""RFC 9457 problem details: every error the API returns is one of these."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, request
from werkzeug.exceptions import HTTPException

from shared.domain.errors import (
    IdempotencyKeyReused,
    InsufficientCredits,
    InvalidIdempotencyKey,
    InvalidStory,
    Refused,
    SpendingCapExceeded,
    TooManyRunningTales,
    UnknownVoice,
    UnsupportedRequest,
)

PROBLEM_BASE = "https://tale.dev/problems/"


class Problem(Exception):
    """An HTTP error with a machine-readable type and a human-readable detail."""

    def __init__(
        self,
        status: int,
        kind: str,
        title: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.kind = kind
        self.title = title
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra

    def body(self, instance: str | None = None) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "type": PROBLEM_BASE + self.kind,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            doc["instance"] = instance
        doc.update(self.extra)
        return doc

    def response(self, instance: str | None = None) -> Response:
        return Response(
            json.dumps(self.body(instance), ensure_ascii=False),
            status=self.status,
            headers=self.headers,
            mimetype="application/problem+json",
        )


def printable(text: str, limit: int = 200) -> str:
    """``text`` (a request's path) fit to quote in a problem: control characters escaped,
    cut to ``limit`` characters."""
    shown = "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def http_error(exc: HTTPException) -> Response:
    """An error the web framework answers before our handlers run — a path its routes cannot
    match (one with a CR or LF in it), a method they do not take — as a problem document,
    never its HTML page. Registered on functions-framework's app by the HTTP entry points and
    on ``tale serve``'s."""
    code = exc.code or 400
    path = printable(request.path)
    if code == 405:
        allowed = getattr(exc, "valid_methods", None) or []
        return Problem(
            405,
            "method-not-allowed",
            "Method not allowed",
            f"{request.method} is not allowed on {path}",
            headers={"Allow": ", ".join(allowed)},
        ).response(path)
    if code == 404:
        return Problem(404, "not-found", "Not found", f"no such endpoint: {path}").response(path)
    return Problem(code, "bad-request", "Bad request", "the request was refused").response(path)


def not_found(what: str) -> Problem:
    return Problem(404, "not-found", "Not found", f"{what} does not exist")


def conflict(detail: str) -> Problem:
    return Problem(409, "conflict", "Conflict", detail)


REFUSALS = (InvalidStory, InvalidIdempotencyKey, IdempotencyKeyReused, Refused)
"""The domain's errors of starting a tale that ``refusal`` answers."""
RUNNING_RETRY_AFTER_S = 30


def refusal(exc: Exception) -> Problem:
    """A domain error of starting a tale as its problem document."""
    if isinstance(exc, InvalidIdempotencyKey):
        return Problem(400, "bad-idempotency-key", "Bad Idempotency-Key", str(exc))
    if isinstance(exc, IdempotencyKeyReused):
        return Problem(422, "idempotency-key-reused", "Idempotency-Key reused", str(exc))
    if isinstance(exc, InsufficientCredits):
        return Problem(
            402,
            "insufficient-credits",
            "Not enough credits",
            str(exc),
            needed=exc.needed,
            balance=exc.balance,
        )
    if isinstance(exc, SpendingCapExceeded):
        return Problem(
            402,
            "spending-cap-exceeded",
            "Monthly spending cap reached",
            str(exc),
            estimate_usd=round(exc.estimate_usd, 6),
            committed_usd=round(exc.committed_usd, 6),
            cap_usd=exc.cap_usd,
        )
    if isinstance(exc, TooManyRunningTales):
        return Problem(
            429,
            "too-many-running-tales",
            "Too many running tales",
            str(exc),
            headers={"Retry-After": str(RUNNING_RETRY_AFTER_S)},
        )
    if isinstance(exc, UnsupportedRequest):
        return Problem(
            422,
            "unsupported-request",
            "The video model cannot render this",
            str(exc),
            supported_aspect_ratios=list(exc.aspect_ratios),
            supported_shot_seconds=list(exc.shot_seconds),
        )
    if isinstance(exc, UnknownVoice):
        return Problem(
            422,
            "unknown-voice",
            "The narrator has no such voice",
            str(exc),
            voices=list(exc.voices),
        )
    if isinstance(exc, InvalidStory):
        return Problem(422, "invalid-request", "Invalid request", f"text: {exc}")
    raise TypeError(f"no problem document for {type(exc).__name__}") from exc
