"""The structured records: stable event names, their fields, and the helpers that write them.

Every record is one log line; on GCP ``terraform/monitoring.tf`` counts them into log-based
metrics, so the names here are an interface: ``tests/infra/test_observability.py`` checks
that every event and field the terraform filters use is one of these.

Records never carry story text, prompts, narration, character names or credentials:
``emit`` refuses fields named like them, the formatter strips them from any other record
(``shared.observability.logs``), and ids are used instead (the tale id, a hash of the user).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
from typing import Any

EVENTS: dict[str, str] = {
    "stage.done": "a Pub/Sub function invocation succeeded (message acknowledged)",
    "stage.failed": "a permanent error: the tale was failed, the message acknowledged",
    "stage.retry": "the invocation raised: redelivered with backoff, dead-lettered at the end",
    "provider.call": "a provider call's usage was recorded (tokens, images, seconds of video)",
    "provider.throttled": "a retry caused by a provider's quota or rate limit",
    "provider.model_missing": "a configured model does not exist (retired or renamed): alert",
    "tale.started": "a new tale was accepted",
    "tale.finished": "a tale completed, failed or was cancelled (once per outcome)",
    "credits.reserved": "a tale's credits were reserved (the API, once per tale)",
    "credits.settled": "a completed tale's reservation was settled (once)",
    "credits.refunded": "a failed or cancelled tale's reservation was refunded (once)",
    "tale.daily_summary": "the daily figures of the last 24 hours (the info-level alert)",
}

#: Every field a record may carry besides severity, message, time and the Cloud Logging
#: special fields (logging.googleapis.com/trace, …/sourceLocation).
FIELDS: frozenset[str] = frozenset(
    {
        # the invocation (shared.observability.context)
        "tale_id",
        "function",
        "stage",
        "shot",
        "attempt",
        "message_id",
        # what happened
        "event",
        "outcome",
        "reason",
        "duration_ms",
        "error_stage",
        "provider",
        "model",
        # quantities
        "credits",
        "shots",
        "video_seconds",
        "images",
        "input_tokens",
        "output_tokens",
        "user",
        # tale.daily_summary
        "window_hours",
        "started",
        "completed",
        "failed",
        "cancelled",
        "active_users",
        "failure_rate",
    }
)

#: Field names that must never be logged (checked on the name, case-insensitively).
FORBIDDEN = re.compile(
    r"text|prompt|story|narration|token(?!s$)|authorization|secret|password|api_?key|cookie",
    re.IGNORECASE,
)

# Failure reasons as low-cardinality classes (metric labels): the first pattern that
# matches the reason's text wins. Local figures (``stats``) classify the same texts.
_REASONS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in (
        ("dead-lettered", r"gave up after \S+ attempts"),
        ("stuck", r"no progress for"),
        ("model-missing", r"model \S+ (is not available|is retired|does not exist)"),
        ("throttled", r"\b429\b|resource.?exhausted|quota|rate.?limit|throttl|too many requests"),
        ("refused", r"refused by|safety|blocked|content polic"),
        ("timeout", r"time.?out|timed out|deadline|did not finish in time"),
        ("malformed", r"malformed|invalid \S+ event|not json|not base64|cloudevent"),
        ("invalid-plan", r"\bplan\b"),
        ("unavailable", r"\b50[0-4]\b|unavailable|connect|unreachable"),
        ("cancelled", r"cancel"),
    )
)
REASONS: tuple[str, ...] = (*(name for name, _ in _REASONS), "error")


def reason_of(text: str | None) -> str:
    """The class of a failure reason (``"error"`` when nothing more specific matches)."""
    for name, pattern in _REASONS:
        if text and pattern.search(text):
            return name
    return "error"


def trace_id(key: str) -> str:
    """A Cloud Trace id (32 hex digits) derived from a tale id: every record of one tale,
    whatever stage or instance wrote it, is on one trace."""
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def user_hash(user_id: str) -> str:
    """A stable pseudonym of a user (counts active users without logging their ids)."""
    return hashlib.sha256(f"tale-user:{user_id}".encode()).hexdigest()[:16]


#: The provider each generator client is, per scenario (the names usage records carry).
_PROVIDERS = {
    "offline": {"planner": "offline", "images": "offline", "videos": "offline"},
    "A": {"planner": "gemini", "images": "gemini-image", "videos": "veo", "explainer": "gemini"},
    "B": {
        "planner": "self-hosted",
        "images": "self-hosted",
        "videos": "self-hosted",
        "explainer": "self-hosted",
    },
}


def provider_for(needs: tuple[str, ...], scenario: str) -> str | None:
    """The provider a function calls (by the clients it needs), or None."""
    names = _PROVIDERS.get(scenario, {})
    for client in ("videos", "images", "planner", "explainer"):
        if client in needs and client in names:
            return names[client]
    return None


def emit(
    logger: logging.Logger,
    event: str,
    message: str,
    level: int = logging.INFO,
    *,
    stacklevel: int = 2,
    **fields: Any,
) -> None:
    """Write one structured record (fields with ``None`` values are left out); its source
    location is ``stacklevel`` frames up (the caller of ``emit`` by default)."""
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}; add it to EVENTS")
    unknown = set(fields) - FIELDS
    if unknown:
        raise ValueError(f"unknown log fields {sorted(unknown)}; add them to FIELDS")
    values = {k: v for k, v in fields.items() if v is not None}
    extra = {"tale_fields": {"event": event, **values}}
    logger.log(level, message, extra=extra, stacklevel=stacklevel)


def about(**fields: Any) -> dict[str, Any]:
    """``extra=`` for a plain log call that concerns a tale outside an invocation."""
    unknown = set(fields) - FIELDS
    if unknown:
        raise ValueError(f"unknown log fields {sorted(unknown)}; add them to FIELDS")
    return {"tale_fields": {k: v for k, v in fields.items() if v is not None}}


# --- the records the pipeline writes -------------------------------------------------------

_log = logging.getLogger("tale.events")
# The helpers below log on behalf of their callers: that is the records' source location.
_emit = functools.partial(emit, stacklevel=3)


def invocation_outcome(
    *, seconds: float, failure: str | None, retry: str | None, provider: str | None
) -> None:
    """One record per Pub/Sub invocation (the invocation's context supplies the rest)."""
    ms = round(seconds * 1000, 1)
    if retry is not None:
        reason = reason_of(retry)
        _emit(
            _log,
            "stage.retry",
            f"attempt failed (will be retried): {retry}",
            logging.WARNING,
            outcome="retry",
            reason=reason,
            duration_ms=ms,
            provider=provider,
        )
        if reason == "throttled" and provider is not None:
            _emit(
                _log,
                "provider.throttled",
                f"{provider} throttled the call",
                logging.WARNING,
                provider=provider,
            )
    elif failure is not None:
        _emit(
            _log,
            "stage.failed",
            f"permanent failure: {failure}",
            logging.ERROR,
            outcome="failed",
            reason=reason_of(failure),
            duration_ms=ms,
            provider=provider,
        )
    else:
        _emit(_log, "stage.done", "done", outcome="ok", duration_ms=ms, provider=provider)


def tale_started(tale_id: str, owner: str, shots: int) -> None:
    _emit(_log, "tale.started", "tale started", tale_id=tale_id, user=user_hash(owner), shots=shots)


def tale_finished(
    tale_id: str, outcome: str, error_stage: str | None, error_reason: str | None
) -> None:
    failed = outcome == "failed"
    _emit(
        _log,
        "tale.finished",
        f"tale {outcome}",
        tale_id=tale_id,
        outcome=outcome,
        error_stage=error_stage if failed else None,
        reason=reason_of(error_reason) if failed else None,
    )


def credits_changed(event: str, tale_id: str, credits: int | None = None) -> None:
    """``credits.reserved`` (with the amount), ``credits.settled`` or ``credits.refunded``."""
    outcome = event.removeprefix("credits.")
    _emit(_log, event, f"credits {outcome}", tale_id=tale_id, outcome=outcome, credits=credits)


def model_missing(provider: str, model: str, reason: str) -> None:
    """A configured model the provider does not know (the critical ``model missing`` alert):
    every tale that needs it fails until an operator configures a current one."""
    _emit(
        _log,
        "provider.model_missing",
        f"{provider} model {model} is not available: {reason}",
        logging.ERROR,
        provider=provider,
        model=model,
        reason="model-missing",
    )
