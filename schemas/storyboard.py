"""A storyboard edit: what the owner changes before approving it
(``PATCH /v1/tales/{id}/storyboard``, ``tale edit``).

A small, patch-like list of operations, applied in order, each to the storyboard the one
before it left. Shots are named by number, from 1, as the owner sees them; scenes by their
``scene_index`` in the storyboard as read. The edited storyboard is held to the planned
storyboard's rules (``shared.domain.storyboard``); shots and scenes are numbered again
afterwards.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.plan import Camera
from schemas.story import MAX_SHOTS, ShotSeconds

MAX_OPERATIONS = 64
ShotNumber = Annotated[int, Field(ge=1, le=MAX_SHOTS, description="A shot's number, from 1.")]
Narration = Annotated[
    str, Field(max_length=2000, description="Narration, in the story's language ('' for none).")
]
Prompt = Annotated[
    str,
    Field(
        min_length=1,
        max_length=4000,
        description="The visual prompt for the video model, in English. The description of "
        "each character the shot shows is added when the prompt lacks it, as the planner "
        "does.",
    ),
]
Names = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=60)]],
    Field(max_length=16, description="The characters the shot shows, by name."),
]


class _Operation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EditShot(_Operation):
    """Change what is given of one shot; the rest stays."""

    op: Literal["edit_shot"]
    shot: ShotNumber
    narration: Narration | None = None
    prompt: Prompt | None = None
    camera: Camera | None = None
    duration_s: ShotSeconds | None = Field(
        default=None, description="Seconds; the video model must render that length."
    )
    characters: Names | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> EditShot:
        if all(
            v is None
            for v in (self.narration, self.prompt, self.camera, self.duration_s, self.characters)
        ):
            raise ValueError(
                "say what changes: narration, prompt, camera, duration_s or characters"
            )
        return self


class AddShot(_Operation):
    """A new shot at number ``at``; the shots from there on move one later."""

    op: Literal["add_shot"]
    at: ShotNumber
    prompt: Prompt
    narration: Narration = ""
    camera: Camera = Camera.MEDIUM
    duration_s: ShotSeconds | None = Field(
        default=None, description="Seconds; default: the length of the shot before it."
    )
    characters: Names = Field(default_factory=list)
    scene_index: int | None = Field(
        default=None,
        ge=0,
        description="The scene it belongs to, as the storyboard numbers its scenes; default: "
        "the scene of the shot before it.",
    )


class RemoveShot(_Operation):
    """Remove one shot (a storyboard keeps at least one)."""

    op: Literal["remove_shot"]
    shot: ShotNumber


class MoveShot(_Operation):
    """Move one shot so that it becomes number ``to``."""

    op: Literal["move_shot"]
    shot: ShotNumber
    to: ShotNumber


class EditCharacter(_Operation):
    """A new visual description of a character (English). Every shot prompt that repeats the
    old description gets the new one; the character's reference image is drawn from it when
    the storyboard is approved."""

    op: Literal["edit_character"]
    name: str = Field(min_length=1, max_length=60)
    description: str = Field(min_length=1, max_length=400)


StoryboardOperation = Annotated[
    EditShot | AddShot | RemoveShot | MoveShot | EditCharacter, Field(discriminator="op")
]


class StoryboardEdit(BaseModel):
    """Operations on a storyboard awaiting approval, applied in order, all or none."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    operations: list[StoryboardOperation] = Field(min_length=1, max_length=MAX_OPERATIONS)
