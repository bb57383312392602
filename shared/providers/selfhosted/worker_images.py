"""Scenario B's character references: drawn by the GPU worker (SDXL / Flux through diffusers)
at the start of the tale's job execution, so no story text reaches an image service."""

from __future__ import annotations

from schemas.plan import Character, StoryPlan
from shared.ports.generators import ImageGenerator


class WorkerImages(ImageGenerator):
    deferred = True

    def character_reference(
        self, character: Character, plan: StoryPlan, *, tale_id: str = ""
    ) -> bytes:
        raise RuntimeError("scenario B draws character references in the GPU worker")
