"""What the invocation in progress is about, for every log line written inside it.

A context variable, like the meter of ``shared.metering``: concurrent invocations in one
process (the local runtime's worker threads) never mix, and a handler's log lines need no
extra arguments to carry the tale, the function, the stage, the shot and the attempt.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, replace
from typing import Any


@dataclass(frozen=True)
class LogContext:
    tale_id: str | None = None
    function: str | None = None
    stage: str | None = None
    shot: int | None = None
    attempt: int | None = None
    """The Pub/Sub delivery attempt (1 for the first delivery)."""
    message_id: str | None = None

    def fields(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


_EMPTY = LogContext()
_current: ContextVar[LogContext | None] = ContextVar("tale_log_context", default=None)


def current() -> LogContext:
    return _current.get() or _EMPTY


@contextmanager
def invocation(**fields: Any) -> Iterator[LogContext]:
    """A fresh context for the code inside (one function invocation)."""
    context = LogContext(**fields)
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


def bind(**fields: Any) -> None:
    """Add to the context of the invocation in progress (e.g. the shot, once parsed)."""
    _current.set(replace(current(), **fields))
