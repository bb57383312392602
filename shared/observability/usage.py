"""A ``provider.call`` record for every provider usage record.

Every paid provider call (planner tokens, reference images, seconds of video) is recorded
through the ``UsageRecorder`` port, so wrapping the recorder once in the composition root
logs every call, whichever provider made it, without touching the providers. The platform's
own per-invocation records (provider ``gcp``, ``shared.entrypoints``) are not provider calls
and are not logged. The record's logical key is not logged either: it can hold a character's
name (``character:<name>``).

A redelivered call records the same usage again (the store replaces it); its log line is
written again, so the log-based call count is at-least-once, like the deliveries.
"""

from __future__ import annotations

import logging

from shared.observability.events import emit
from shared.ports.usage import Usage, UsageRecorder

PLATFORM = "gcp"
_log = logging.getLogger("tale.providers")


class ObservedUsage(UsageRecorder):
    def __init__(self, inner: UsageRecorder) -> None:
        self.inner = inner

    def record(self, usage: Usage) -> None:
        self.inner.record(usage)
        if usage.provider == PLATFORM:
            return
        units = usage.units

        def amount(unit: str) -> float | None:
            value = units.get(unit)
            return float(value) if value else None

        emit(
            _log,
            "provider.call",
            f"{usage.provider} {usage.model}",
            tale_id=usage.tale_id,
            provider=usage.provider,
            model=usage.model,
            video_seconds=amount("video_seconds"),
            images=amount("images"),
            input_tokens=amount("input_tokens"),
            output_tokens=amount("output_tokens"),
        )

    def for_tale(self, tale_id: str) -> list[Usage]:
        return self.inner.for_tale(tale_id)
