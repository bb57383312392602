"""The story submission: what a user asks Tale to make."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: Hard ceiling of the wire format; the deployment's own limit (settings) is lower.
MAX_STORY_CHARS_WIRE = 100_000

#: Story languages: Korean, English, Japanese and Chinese (simplified or traditional script).
Language = Literal["ko", "en", "ja", "zh"]
AspectRatio = Literal["9:16", "16:9", "1:1"]

#: Shot lengths every video backend accepts (Veo allows 4, 6 and 8 seconds).
ShotSeconds = Literal[4, 6, 8]

#: The most shots a tale has (asked for, or after the storyboard was edited).
MAX_SHOTS = 16

#: What a voice name may be (``StoryOptions.voice``; also ``GET /v1/estimate?voice=``).
VOICE_PATTERN = r"^[A-Za-z0-9_.-]*$"
VOICE_MAX_CHARS = 64


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
        max_length=VOICE_MAX_CHARS,
        pattern=VOICE_PATTERN,
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

    ``language`` may be omitted: it is then detected from the text by script
    (``detect_language``: Hangul → ``ko``, kana → ``ja``, Han without kana → ``zh``, else
    ``en``); a given language overrides the detection.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    text: str = Field(max_length=MAX_STORY_CHARS_WIRE, description="The story; must not be empty.")
    language: Language | None = Field(
        default=None,
        description="ko, en, ja or zh (Chinese, simplified or traditional); omitted: detected "
        "from the text's script (Hangul: ko; kana: ja; Han without kana: zh; otherwise en).",
    )
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


def _is_hangul(ch: str) -> bool:
    return "\uac00" <= ch <= "\ud7a3" or "\u1100" <= ch <= "\u11ff" or "\u3130" <= ch <= "\u318f"


def _is_kana(ch: str) -> bool:
    # hiragana, katakana (without the middle dot and the prolonged sound mark shared with
    # Chinese text), katakana extensions, half-width katakana
    return (
        ("\u3041" <= ch <= "\u30ff" and ch not in "\u30fb\u30fc")
        or "\u31f0" <= ch <= "\u31ff"
        or "\uff66" <= ch <= "\uff9d"
    )


def _is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" or "\uf900" <= ch <= "\ufaff"


def detect_language(text: str) -> Language:
    """The story's language by its script, counted over its letters.

    Korean when at least a fifth of the letters are Hangul; otherwise Japanese when kana make
    up at least a twentieth of the letters (Japanese prose mixes kana into its kanji; a Chinese
    text never has kana); otherwise Chinese when at least a fifth are Han characters;
    otherwise English. Hanja in Korean text and a Latin name in a CJK story do not change the
    answer. A submission's ``language`` overrides this.
    """
    letters = hangul = kana = han = 0
    for ch in text:
        if not ch.isalpha():
            continue
        letters += 1
        if _is_hangul(ch):
            hangul += 1
        elif _is_kana(ch):
            kana += 1
        elif _is_han(ch):
            han += 1
    if not letters:
        return "en"
    if hangul * 5 >= letters:
        return "ko"
    if kana and kana * 20 >= letters:
        return "ja"
    if han * 5 >= letters:
        return "zh"
    return "en"
