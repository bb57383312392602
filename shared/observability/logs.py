"""Log records as Cloud Logging structured JSON (GCP) or a readable console line (locally).

On Cloud Run functions a JSON object printed on one line of stdout becomes one log entry:
``severity``, ``message`` and ``time`` are its own fields, ``logging.googleapis.com/trace``
links it to a trace and ``logging.googleapis.com/sourceLocation`` to the code; every other
field lands in ``jsonPayload`` (what ``terraform/monitoring.tf`` filters and extracts).

The trace of a record is derived from its tale id (``events.trace_id``), so every record of a
tale — across stages, instances and redeliveries — is on one trace; a record about no tale
uses its message id, one about nothing has none.

The redaction guard: fields whose names look like content or credentials (``text``,
``prompt``, ``story``, ``token``, ``authorization`` …) are dropped, bearer tokens, JWTs,
webhook secrets, API keys and URL signatures are masked in messages and stack traces, and
long strings are truncated.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from datetime import UTC, datetime
from typing import Any

from shared.config import Settings
from shared.observability.context import current
from shared.observability.events import FORBIDDEN, trace_id

MAX_MESSAGE = 2000
MAX_FIELD = 300
MAX_STACK = 8000

_SECRETS = (
    (re.compile(r"(?i)\bBearer\s+[A-Za-z0-9._~+/=-]+"), "Bearer [redacted]"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"), "[redacted-jwt]"),
    (re.compile(r"\bwhsec_[A-Za-z0-9+/=]+"), "[redacted-secret]"),
    (re.compile(r"\bAIza[0-9A-Za-z_-]{20,}"), "[redacted-key]"),
    (
        re.compile(r"(?i)([?&](?:key|api_?key|token|access_token|[a-z-]*signature)=)[^&\s\"']+"),
        r"\1[redacted]",
    ),
)

_SEVERITY = ((logging.CRITICAL, "CRITICAL"), (logging.ERROR, "ERROR"), (logging.WARNING, "WARNING"))


def severity(levelno: int) -> str:
    for level, name in _SEVERITY:
        if levelno >= level:
            return name
    return "INFO" if levelno >= logging.INFO else "DEBUG"


def scrub(text: str, limit: int = MAX_MESSAGE) -> str:
    """Mask credentials and truncate."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    if len(text) > limit:
        text = f"{text[:limit]}… [{len(text) - limit} more characters]"
    return text


def clean(fields: dict[str, Any]) -> dict[str, Any]:
    """Drop empty and forbidden fields; scrub and truncate strings."""
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if value is None or FORBIDDEN.search(key):
            continue
        if isinstance(value, str):
            value = scrub(value, MAX_FIELD)
        elif not isinstance(value, int | float | bool):
            value = scrub(str(value), MAX_FIELD)
        out[key] = value
    return out


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The invocation's context and the record's own structured fields, cleaned."""
    own = getattr(record, "tale_fields", None)
    return clean({**current().fields(), **(own if isinstance(own, dict) else {})})


class JsonFormatter(logging.Formatter):
    """One Cloud Logging structured JSON object per record."""

    def __init__(self, project: str | None = None) -> None:
        super().__init__()
        self.project = project or "local"

    def format(self, record: logging.LogRecord) -> str:
        fields = record_fields(record)
        entry: dict[str, Any] = {
            "severity": severity(record.levelno),
            "message": scrub(record.getMessage()),
            "time": datetime.fromtimestamp(record.created, UTC).isoformat().replace("+00:00", "Z"),
            "logger": record.name,
            **fields,
        }
        key = fields.get("tale_id") or fields.get("message_id")
        if key:
            entry["logging.googleapis.com/trace"] = (
                f"projects/{self.project}/traces/{trace_id(str(key))}"
            )
        entry["logging.googleapis.com/sourceLocation"] = {
            "file": record.pathname,
            "line": str(record.lineno),
            "function": record.funcName,
        }
        if record.exc_info:
            entry["stack_trace"] = scrub(self.formatException(record.exc_info), MAX_STACK)
        return json.dumps(entry, ensure_ascii=False, default=str)


class ConsoleFormatter(logging.Formatter):
    """``12:00:01 WARNING tale.events [tale-1 render_shot#2 shot 3] message  event=…``."""

    def format(self, record: logging.LogRecord) -> str:
        fields = record_fields(record)
        when = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        where = [str(fields.pop(k)) for k in ("tale_id",) if k in fields]
        function = fields.pop("function", None)
        attempt = fields.pop("attempt", None)
        if function:
            where.append(f"{function}#{attempt}" if attempt else str(function))
        if "shot" in fields:
            where.append(f"shot {fields.pop('shot')}")
        for noise in ("stage", "message_id"):
            fields.pop(noise, None)
        context = f" [{' '.join(where)}]" if where else ""
        extra = "  " + " ".join(f"{k}={v}" for k, v in fields.items()) if fields else ""
        line = f"{when} {record.levelname} {record.name}{context} {scrub(record.getMessage())}"
        if record.exc_info:
            line += "\n" + scrub(self.formatException(record.exc_info), MAX_STACK)
        return line + extra


class TaleHandler(logging.Handler):
    """Writes to whatever ``sys.stdout`` / ``sys.stderr`` is at the time of the record."""

    def __init__(self, target: str = "stdout") -> None:
        super().__init__()
        self.target = target

    def emit(self, record: logging.LogRecord) -> None:
        try:
            stream = getattr(sys, self.target)
            stream.write(self.format(record) + "\n")
            stream.flush()
        except Exception:  # logging must never break the caller
            self.handleError(record)


def log_format(settings: Settings) -> str:
    """``json`` on GCP (``TALE_GCP_PROJECT``) or when asked (``TALE_LOG_FORMAT=json``)."""
    if settings.log_format != "auto":
        return settings.log_format
    return "json" if settings.gcp_project else "console"


def formatter(settings: Settings) -> logging.Formatter:
    if log_format(settings) == "json":
        return JsonFormatter(settings.gcp_project)
    return ConsoleFormatter()


_NOISY = ("httpx", "httpcore", "urllib3")


def setup_logging(settings: Settings, *, level: int = logging.INFO, target: str = "stdout") -> str:
    """Send the root logger's records to ``target`` in the settings' format; return it.

    Idempotent. Like ``logging.basicConfig``, the console format is not installed where
    something else already handles the root logger (an embedding application, pytest);
    the JSON format always is (it is what the platform reads).
    """
    root = logging.getLogger()
    chosen = log_format(settings)
    ours = [h for h in root.handlers if isinstance(h, TaleHandler)]
    if not ours and chosen == "console" and root.handlers:
        return chosen
    handler = ours[0] if ours else TaleHandler(target)
    handler.target = target
    handler.setFormatter(formatter(settings))
    if not ours:
        root.addHandler(handler)
    root.setLevel(level)
    for noisy in _NOISY:  # a line per HTTP request (every provider poll) is not worth its cost
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    return chosen


_installed = False


def ensure_logging(settings: Settings) -> None:
    """Called by every function entry point: once per process, where the process is a
    deployed function (Cloud Run sets ``K_SERVICE``) or the format was asked for explicitly.
    Local processes configure logging themselves (the ``tale`` command)."""
    global _installed
    if _installed:
        return
    _installed = True
    configured = any(isinstance(h, TaleHandler) for h in logging.getLogger().handlers)
    if not configured and (os.environ.get("K_SERVICE") or settings.log_format != "auto"):
        setup_logging(settings)
