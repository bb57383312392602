"""What the configured scenario's video model can render, checked at submission.

A tale the video model cannot render (an aspect ratio or a shot length it does not take)
is refused before anything is paid — not after the planner and the image model ran. Each
scenario's table lives with its provider; this module only dispatches, and imports the table
it needs lazily (the API function must not load a provider's SDK to answer).
"""

from __future__ import annotations

from shared.config import Settings
from shared.providers.unsupported import Unsupported

__all__ = ["Unsupported", "check_renderable"]


def check_renderable(
    settings: Settings, aspect_ratio: str, shot_seconds: int
) -> Unsupported | None:
    """``None`` when the scenario's video model renders shots of this shape and length."""
    if settings.scenario == "A":
        from shared.providers.google.veo_models import renderable

        return renderable(settings.veo_model, aspect_ratio, shot_seconds)
    if settings.scenario == "B":
        from shared.providers.selfhosted.video_models import renderable as self_hosted

        return self_hosted(settings.gpu_pipeline, aspect_ratio, shot_seconds)
    return None  # the offline renderer draws any shape and length
