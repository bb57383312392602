"""Response bodies of the API, as pydantic models (they also feed the OpenAPI document)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from shared.domain.music import MusicTrack
from shared.domain.tale import ShotRecord, TaleRecord


class MusicView(BaseModel):
    """The tale's background music: the owner's uploaded track, looped under the whole cut
    and ducked under the narration (``PUT /v1/tales/{id}/music``)."""

    content_type: str = Field(description="The format it was read as (audio/mpeg, …).")
    bytes: int
    seconds: float
    channels: int
    sample_rate: int
    sha256: str

    @classmethod
    def of(cls, track: MusicTrack | None) -> MusicView | None:
        if track is None:
            return None
        return cls(
            content_type=track.content_type,
            bytes=track.bytes,
            seconds=track.seconds,
            channels=track.channels,
            sample_rate=track.sample_rate,
            sha256=track.sha256,
        )


class ShotView(BaseModel):
    index: int
    attempt: int
    status: str


class CostEstimate(BaseModel):
    """What the tale is expected to cost to make (USD), by stage, with the price table used."""

    usd: float
    by_stage: dict[str, float]
    scenario: str
    price_table: str


class TaleView(BaseModel):
    id: str
    title: str
    status: str
    stage: str
    progress: int = Field(ge=0, le=100)
    language: str
    shot_count: int
    error_stage: str | None = None
    error_reason: str | None = None
    has_video: bool
    created_at: float
    updated_at: float
    shots: list[ShotView] | None = None
    estimate: CostEstimate | None = None
    """Before and during generation (with the storyboard once it exists)."""
    music: MusicView | None = None
    """The owner's background music; null: none."""

    @classmethod
    def of(cls, tale: TaleRecord, shots: list[ShotRecord] | None = None) -> TaleView:
        return cls(
            id=tale.tale_id,
            title=tale.title,
            status=tale.state.value,
            stage=tale.stage,
            progress=tale.progress,
            language=tale.language,
            shot_count=tale.shot_count,
            error_stage=tale.error_stage,
            error_reason=tale.error_reason,
            has_video="video" in tale.outputs,
            created_at=tale.created_at,
            updated_at=tale.updated_at,
            shots=None
            if shots is None
            else [ShotView(index=s.index, attempt=s.attempt, status=s.status.value) for s in shots],
            music=MusicView.of(tale.music),
        )


class TaleList(BaseModel):
    tales: list[TaleView]


class CharacterView(BaseModel):
    name: str
    description: str
    image_url: str | None = None
    """A signed URL of the character's reference image, once it is drawn."""


class SceneView(BaseModel):
    index: int
    setting: str
    summary: str


class StoryboardShot(BaseModel):
    index: int
    scene_index: int
    camera: str
    duration_s: int
    narration: str
    prompt: str
    """The visual prompt the video model is given."""
    characters: list[str]
    status: str
    """``planned`` until the storyboard is approved; then the shot's status (``pending``,
    ``claimed``, ``started``, ``rendered``, ``failed``)."""
    attempt: int
    """0 until the storyboard is approved."""
    thumbnail_url: str | None = None
    """Once rendered: a signed URL of a PNG frame from the middle of the clip."""
    clip_url: str | None = None
    voice_url: str | None = None
    """Once voiced: a signed URL of the narration (WAV); none when there is nothing to say."""


class StoryboardView(BaseModel):
    """What the owner is asked to approve, and later what was rendered from it. Every URL is
    signed and expires after ``expires_in`` seconds, as the video's does."""

    id: str
    status: str
    version: int
    """The storyboard's version (it changes with every edit)."""
    title: str
    language: str
    style: str
    aspect_ratio: str
    characters: list[CharacterView]
    scenes: list[SceneView]
    shots: list[StoryboardShot]
    storyboard_url: str | None = None
    """The storyboard sheet (a PNG of every shot), once stitched."""
    poster_url: str | None = None
    video_url: str | None = None
    expires_in: int
    estimate: CostEstimate | None = None
    """Before and during generation."""
    music: MusicView | None = None
    """The owner's background music, mixed in when the tale is stitched; null: none."""


class VideoLink(BaseModel):
    url: str
    expires_in: int


class Usage(BaseModel):
    period: str
    tales_started: int
    credits_spent: int


class Me(BaseModel):
    user_id: str
    email: str
    plan: str
    balance: int
    monthly_credits: int
    usage: Usage
    subscribed: bool = False
    """The plan is paid through a subscription (manage it: ``POST /v1/billing/portal``)."""


class Accepted(BaseModel):
    id: str
    status: str
