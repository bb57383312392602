"""Offline character references: drawn cards (a placeholder for Imagen / SDXL, not a model)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from schemas.plan import Character, StoryPlan
from shared.ports.generators import ImageGenerator


def seed_of(text: str) -> int:
    """A stable small integer from text (Python's ``hash`` is salted per process)."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")


class OfflineImageGenerator(ImageGenerator):
    def __init__(self, font: Path | None = None) -> None:
        self.font = font

    def character_reference(
        self, character: Character, plan: StoryPlan, *, tale_id: str = ""
    ) -> bytes:
        from shared.media.cards import render_character_card

        return render_character_card(
            character.name,
            character.description,
            plan.style.value,
            seed=seed_of(character.name),
            font=self.font,
            language=plan.language,
        )
