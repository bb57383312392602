"""Why a video model cannot render a submission: the value every provider's model table
returns (a leaf module, so that the tables and ``capabilities``' dispatch import it without
importing each other)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Unsupported:
    """Why the configured video model cannot render a submission, and what it can."""

    reason: str
    supported_aspect_ratios: tuple[str, ...]
    supported_seconds: tuple[int, ...]
