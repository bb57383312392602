"""RFC 9457 problem details: every error the API returns is one of these.

A problem is answered in the reader's language (``Accept-Language``, else the user's own
language when the request knows it, else English; ``shared.i18n.negotiate``): its ``title``
from the catalogue entry of its kind (``problem.title.<kind>``), its ``detail`` from the
catalogue when it was made with ``said`` (the details Tale writes itself). The ``type`` URI and
the extension members never change with the language; the answer carries ``Content-Language``
and ``Vary: Accept-Language``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from flask import Response, g, has_request_context, request
from werkzeug.exceptions import HTTPException

from shared.domain.errors import (
    IdempotencyKeyReused,
    InsufficientCredits,
    InvalidIdempotencyKey,
    InvalidStory,
    Refused,
    SpendingCapExceeded,
    SubmissionExpired,
    TooManyRunningTales,
    UnknownVoice,
    UnsupportedRequest,
)
from shared.i18n import language_of, message, negotiate

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
        self.said: tuple[str, dict[str, object]] | None = None
        """The detail's catalogue message (``problem.detail.<key>``) and its values."""

    def saying(self, key: str, /, **values: object) -> Problem:
        """This problem with its detail said by the catalogue's ``problem.detail.<key>``."""
        self.said = (key, values)
        return self

    def localised(self, language: str) -> tuple[str, str]:
        """(title, detail) in ``language``: the catalogue's where it has them, else ours."""
        if language == "en":  # the call site's own words
            return self.title, self.detail
        try:
            title = message(language, f"problem.title.{self.kind}")
        except KeyError:
            title = self.title
        detail = self.detail
        if self.said is not None:
            key, values = self.said
            detail = message(language, f"problem.detail.{key}", **values)
        return title, detail

    def body(self, instance: str | None = None, language: str | None = None) -> dict[str, Any]:
        title, detail = self.localised(language or request_language())
        doc: dict[str, Any] = {
            "type": PROBLEM_BASE + self.kind,
            "title": title,
            "status": self.status,
            "detail": detail,
        }
        if instance:
            doc["instance"] = instance
        doc.update(self.extra)
        return doc

    def response(self, instance: str | None = None, language: str | None = None) -> Response:
        lang = language or request_language()
        headers = {**self.headers, "Content-Language": lang}
        vary = headers.get("Vary")
        headers["Vary"] = f"{vary}, Accept-Language" if vary else "Accept-Language"
        return Response(
            json.dumps(self.body(instance, lang), ensure_ascii=False),
            status=self.status,
            headers=headers,
            mimetype="application/problem+json",
        )


def said(
    status: int,
    kind: str,
    key: str,
    /,
    *,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
    **values: object,
) -> Problem:
    """A problem whose title and detail are the catalogue's (``problem.title.<kind>``,
    ``problem.detail.<key>`` with ``values``); English where no language is asked for."""
    problem = Problem(
        status,
        kind,
        message("en", f"problem.title.{kind}"),
        message("en", f"problem.detail.{key}", **values),
        headers=headers,
        **(extra or {}),
    )
    return problem.saying(key, **values)


#: Where the API keeps the language of the signed-in user, for ``request_language``.
USER_LANGUAGE = "tale_user_language"


def remember_user_language(claims: Mapping[str, Any]) -> None:
    """Keep the signed-in user's own language for this request's problems: the profile's
    ``language`` (or ``locale``) in the access token's ``user_metadata`` — what the web app
    sets on the Supabase user — when Tale speaks it."""
    metadata = claims.get("user_metadata")
    if isinstance(metadata, Mapping):
        for key in ("language", "locale"):
            value = metadata.get(key)
            if isinstance(value, str) and language_of(value):
                g.setdefault(USER_LANGUAGE, language_of(value))
                return


def request_language() -> str:
    """The language to answer this request in: ``Accept-Language``, else the user's own
    language (``flask.g.tale_user_language``, set once the user is known), else English."""
    if not has_request_context():
        return "en"
    return negotiate(request.headers.get("Accept-Language"), g.get(USER_LANGUAGE))


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
        return said(
            405,
            "method-not-allowed",
            "method-not-allowed",
            method=request.method,
            path=path,
            headers={"Allow": ", ".join(allowed)},
        ).response(path)
    if code == 404:
        return said(404, "not-found", "no-endpoint", path=path).response(path)
    return said(code, "bad-request", "refused").response(path)


_THINGS = (
    (re.compile(r"tale (?P<tale_id>\S+)"), "tale"),
    (re.compile(r"shot (?P<number>\d+) of tale (?P<tale_id>\S+)"), "shot"),
    (re.compile(r"trend (?P<trend_id>\S+)"), "trend"),
)


def not_found(what: str) -> Problem:
    """404: ``what`` does not exist (a tale, a shot of a tale and a trend are named in the
    reader's language)."""
    problem = Problem(404, "not-found", "Not found", f"{what} does not exist")
    for pattern, key in _THINGS:
        if found := pattern.fullmatch(what):
            return problem.saying("does-not-exist-" + key, **found.groupdict())
    return problem


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
    if isinstance(exc, SubmissionExpired):  # a retry after the sweep returned its credits
        return said(409, "submission-expired", "submission-expired")
    if isinstance(exc, InsufficientCredits):
        return Problem(
            402,
            "insufficient-credits",
            "Not enough credits",
            str(exc),
            needed=exc.needed,
            balance=exc.balance,
        ).saying("insufficient-credits", needed=exc.needed, balance=exc.balance)
    if isinstance(exc, SpendingCapExceeded):
        cap = Problem(
            402,
            "spending-cap-exceeded",
            "Monthly spending cap reached",
            str(exc),
            estimate_usd=round(exc.estimate_usd, 6),
            committed_usd=round(exc.committed_usd, 6),
            cap_usd=exc.cap_usd,
        )
        return cap.saying(
            "spending-cap-exceeded",
            estimate=f"{exc.estimate_usd:.2f}",
            committed=f"{exc.committed_usd:.2f}",
            cap=f"{exc.cap_usd:.2f}",
            period=exc.month,
        )
    if isinstance(exc, TooManyRunningTales):
        return Problem(
            429,
            "too-many-running-tales",
            "Too many running tales",
            str(exc),
            headers={"Retry-After": str(RUNNING_RETRY_AFTER_S)},
        ).saying("too-many-running-tales", running=exc.running, limit=exc.limit)
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
        ).saying(
            "unknown-voice",
            voice=repr(exc.voice),
            language=exc.language,
            voices=", ".join(exc.voices[:12]) + (", …" if len(exc.voices) > 12 else ""),
        )
    if isinstance(exc, InvalidStory):
        return Problem(422, "invalid-request", "Invalid request", f"text: {exc}")  # our words
    raise TypeError(f"no problem document for {type(exc).__name__}") from exc
