"""The story plan: the planner's output and every later stage's input."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.story import AspectRatio, Language, Style


class Camera(StrEnum):
    WIDE = "wide establishing shot"
    MEDIUM = "medium shot"
    CLOSE_UP = "close-up"
    OVER_SHOULDER = "over-the-shoulder shot"
    TRACKING = "tracking shot"
    LOW_ANGLE = "low-angle shot"
    AERIAL = "aerial shot"


class Character(BaseModel):
    """A recurring character. ``description`` is repeated verbatim in every shot prompt."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=60)
    description: str = Field(
        min_length=1, max_length=400, description="Visual description, English."
    )


class Scene(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    index: int = Field(ge=0)
    setting: str = Field(description="Where and when, English.")
    summary: str = Field(description="What happens, in the story's language.")


class Shot(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    index: int = Field(ge=0)
    scene_index: int = Field(ge=0)
    prompt: str = Field(min_length=1, description="Visual prompt for the video model, English.")
    camera: Camera
    duration_s: Literal[4, 6, 8]
    characters: list[str] = Field(default_factory=list)
    narration: str = Field(description="Narration line in the story's language.")


class StoryPlan(BaseModel):
    """Title, characters, scenes and shots of one tale."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    title: str = Field(min_length=1, max_length=120)
    language: Language
    style: Style
    aspect_ratio: AspectRatio
    characters: list[Character] = Field(default_factory=list)
    scenes: list[Scene] = Field(min_length=1)
    shots: list[Shot] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> StoryPlan:
        if [s.index for s in self.shots] != list(range(len(self.shots))):
            raise ValueError("shots must be numbered 0..N-1 in order")
        scene_ids = {s.index for s in self.scenes}
        names = {c.name for c in self.characters}
        for shot in self.shots:
            if shot.scene_index not in scene_ids:
                raise ValueError(f"shot {shot.index} names unknown scene {shot.scene_index}")
            unknown = set(shot.characters) - names
            if unknown:
                raise ValueError(f"shot {shot.index} names unknown characters {sorted(unknown)}")
        return self

    @property
    def total_seconds(self) -> int:
        return sum(s.duration_s for s in self.shots)

    def character(self, name: str) -> Character:
        for c in self.characters:
            if c.name == name:
                return c
        raise KeyError(name)
