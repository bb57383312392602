"""Retired models: what each provider table says about an id it no longer serves.

Google retires model ids on dates listed at
https://docs.cloud.google.com/gemini-enterprise-agent-platform/models/model-versions (Vertex AI)
and https://ai.google.dev/gemini-api/docs/deprecations (Gemini API); a retired id answers 404.
Each table (``veo_models``, ``image_models``, ``text_models``) keeps the ids it used to know,
so a configuration that names one is told what replaced it instead of failing at run time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Retired:
    model_id: str
    retired_on: str
    """The date the provider lists, or ``""`` when it lists none (a preview endpoint)."""
    replacement: str


def unknown_reason(
    kind: str, model_id: str, retired: dict[str, Retired], known: Iterable[str], setting: str
) -> str:
    """Why ``model_id`` is not in a table: retired (with its replacement) or unknown."""
    gone = retired.get(model_id)
    if gone is not None:
        when = f" on {gone.retired_on}" if gone.retired_on else ""
        return f"{kind} model {model_id} is retired{when}; use {gone.replacement} ({setting})"
    names = ", ".join(sorted(known))
    return f"unknown {kind} model {model_id!r}; known models: {names} ({setting})"
