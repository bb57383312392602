"""Usage port: what each provider call consumed, per tale — the raw material of cost reports.

Units are named quantities: ``input_tokens``, ``output_tokens``, ``images``, ``video_seconds``,
``gpu_seconds``. A record is keyed by its tale and a logical key (``plan:1``,
``character:Mina``, ``shot:3:1``), so recording the same call again (a redelivery) replaces
it rather than counting twice.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Usage:
    tale_id: str
    key: str
    provider: str
    model: str
    units: dict[str, float] = field(default_factory=dict)
    at: float = 0.0


class UsageRecorder(ABC):
    @abstractmethod
    def record(self, usage: Usage) -> None:
        """Store it; the same (tale, key) replaces an earlier record."""

    @abstractmethod
    def for_tale(self, tale_id: str) -> list[Usage]:
        """The tale's records, ordered by key."""


class NoUsage(UsageRecorder):
    """For providers that cost nothing (the offline placeholders)."""

    def record(self, usage: Usage) -> None:
        return None

    def for_tale(self, tale_id: str) -> list[Usage]:
        return []
