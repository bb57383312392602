"""The story submission: what a user asks Tale to make."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: Hard ceiling of the wire format; the deployment's own limit (settings) is lower.
MAX_STORY_CHARS_WIRE = 100_000

Language = Literal["ko", "en"]
AspectRatio = Literal["9:16", "16:9", "1:1"]

#: Shot lengths every video backend accepts (Veo allows 4, 6 and 8 seconds).
ShotSeconds = Literal[4, 6, 8]

#: The most shots a tale has (asked for, or after the storyboard was edited).
MAX_SHOTS = 16


class Style(StrEnum):
    """Visual styles a user can choose; each maps to prompt wording in the planner."""

    STORYBOOK = "storybook"
    CINEMATIC = "cinematic"
    ANIME = "anime"
    WATERCOLOR = "watercolor"
    DOCUMENTARY = "documentary"


class StoryOptions(BaseModel):
    """Switches that change the pipeline's path, not the plan's content."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    approval_required: bool = Field(
        default=False,
        description="Stop after planning until the owner approves the storyboard.",
    )
    voice: str = Field(
        default="",
        max_length=64,
        pattern=r"^[A-Za-z0-9_.-]*$",
        description=(
            "The narrator's voice, one of the deployment's voices for the story's language; "
            "empty: that language's default; 'none': no narration."
        ),
    )
    captions: Literal["off", "soft", "burned"] = Field(
        default="soft",
        description="Captions of the narration: none, a subtitle track, or burned into the frames.",
    )


class StorySubmission(BaseModel):
    """A story and how the user wants it filmed.

    ``language`` may be omitted: it is then detected from the text (Hangul → ``ko``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    text: str = Field(max_length=MAX_STORY_CHARS_WIRE, description="The story; must not be empty.")
    language: Language | None = None
    style: Style = Style.STORYBOOK
    aspect_ratio: AspectRatio = "9:16"
    shot_count: int = Field(default=8, ge=1, le=MAX_SHOTS)
    shot_seconds: ShotSeconds = 8
    options: StoryOptions = StoryOptions()
    trend_id: str | None = Field(
        default=None,
        pattern=r"^trd-[0-9a-f]{16}$",
        description="The trend the story came from (POST /v1/trends/{id}/tales, "
        "tale trends start); recorded with the tale.",
    )

    @field_validator("text")
    @classmethod
    def _readable_text(cls, value: str) -> str:
        stripped = value.strip()
        if not stripped:
            raise ValueError("the story is empty")
        control = sum(1 for ch in stripped if ord(ch) < 32 and ch not in "\n\r\t")
        if "\x00" in stripped or "\ufffd" in stripped or control > len(stripped) // 100:
            raise ValueError("the story is not readable text (binary data or control characters)")
        return stripped

    @property
    def total_seconds(self) -> int:
        return self.shot_count * self.shot_seconds

    def resolved_language(self) -> Language:
        """The given language, or the one the text is written in."""
        if self.language is not None:
            return self.language
        return detect_language(self.text)


def detect_language(text: str) -> Language:
    """Korean when at least a fifth of the letters are Hangul syllables, else English."""
    hangul = sum(1 for ch in text if "\uac00" <= ch <= "\ud7a3")
    letters = sum(1 for ch in text if ch.isalpha())
    return "ko" if letters and hangul * 5 >= letters else "en"
