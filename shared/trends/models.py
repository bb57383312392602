"""The trend scout's records: videos, statistics snapshots, quota spend, trends, followers and
API keys. Plain values; the stores keep them and the stages compute on them.

Trends and their write-ups are pydantic models because they travel as JSON (stored, served by
the API, and — the write-up — asked of a language model as structured output).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.story import Language


@dataclass(frozen=True)
class VideoInfo:
    """What a video is (``videos.list`` snippet and content details, its channel's size)."""

    video_id: str
    title: str
    channel_id: str
    channel_title: str
    published_at: float
    """Unix seconds."""
    duration_s: int | None = None
    tags: tuple[str, ...] = ()
    description: str = ""
    topics: tuple[str, ...] = ()
    """The search topics it was found under."""
    channel_subscribers: int | None = None
    """None when the channel hides it."""
    channel_views: int | None = None
    channel_videos: int | None = None

    @property
    def url(self) -> str:
        return f"https://www.youtube.com/shorts/{self.video_id}"


@dataclass(frozen=True)
class Snapshot:
    """A video's public counts at one collection."""

    region: str
    video_id: str
    at: float
    views: int
    likes: int | None = None
    """None when the owner hides the like count."""
    comments: int | None = None


@dataclass(frozen=True)
class QuotaCall:
    """One YouTube Data API request, recorded before it is sent."""

    day: str
    """The quota day (``<account>:<Pacific date>``)."""
    at: float
    method: str
    units: int
    region: str = ""
    collection_id: str = ""


@dataclass(frozen=True)
class QuotaState:
    spent: int = 0
    exhausted_until: float | None = None
    """Set when the API answered ``quotaExceeded``: no call before this time."""
    reason: str = ""


@dataclass(frozen=True)
class Follower:
    """Someone who gets the digest for a region (``KR``) or a topic (``#먹방``, ``cooking``)."""

    email: str
    kind: Literal["region", "topic"]
    value: str
    language: Language = "en"
    created_at: float = 0.0

    @property
    def follower_id(self) -> str:
        raw = f"{self.email.strip().lower()}|{self.kind}|{self.value.lower()}"
        return hashlib.sha256(raw.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ApiKey:
    """A business customer's key. Only ``key_hash`` (SHA-256 of the key) is stored."""

    key_id: str
    name: str
    key_hash: str
    created_at: float
    rate_per_minute: int
    revoked_at: float | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


@dataclass
class CollectionSummary:
    """What one collection did, for logs, the CLI and the ``trends.collected`` message."""

    region: str
    collection_id: str
    at: float
    status: Literal["collected", "partial", "quota-exhausted", "budget", "already-collected"] = (
        "collected"
    )
    videos: int = 0
    snapshots: int = 0
    units: int = 0
    calls: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    """Reason → count: ``deleted``, ``no_statistics``, ``malformed``, ``hidden_likes`` (kept)."""
    pruned: int = 0
    message: str = ""

    def skip(self, reason: str, count: int = 1) -> None:
        if count:
            self.skipped[reason] = self.skipped.get(reason, 0) + count

    def line(self) -> str:
        calls = ", ".join(f"{m} ×{n}" for m, n in sorted(self.calls.items())) or "no calls"
        skipped = ", ".join(f"{n} {r.replace('_', ' ')}" for r, n in sorted(self.skipped.items()))
        text = (
            f"{self.region} {self.status}: {self.videos} videos, {self.snapshots} snapshots, "
            f"{self.units} units ({calls})"
        )
        if skipped:
            text += f"; skipped/noted: {skipped}"
        return text + (f" — {self.message}" if self.message else "")


# --- trends (JSON) --------------------------------------------------------------------------


class StoryIdea(BaseModel):
    """A seed for a tale: a title and a short story the planner can turn into shots."""

    model_config = ConfigDict(frozen=True)

    title: str = Field(min_length=1, max_length=80)
    story: str = Field(min_length=40, max_length=2000, description="3-8 sentences.")


class TrendWriteup(BaseModel):
    """A trend explained for people, in one language (what the language model is asked for)."""

    model_config = ConfigDict(frozen=True)

    summary: str = Field(min_length=20, max_length=700, description="2-3 sentences.")
    ideas: list[StoryIdea] = Field(min_length=2, max_length=3)


class Explanation(BaseModel):
    model_config = ConfigDict(frozen=True)

    language: Language
    writeup: TrendWriteup
    written_by: str
    """The model that wrote it, or ``offline summariser`` (a rule-based placeholder)."""


class TrendVideo(BaseModel):
    model_config = ConfigDict(frozen=True)

    video_id: str
    title: str
    channel_title: str
    url: str
    views: int
    velocity: float
    """Views per hour since publication."""
    recent_velocity: float
    """Views per hour between the last two snapshots."""
    acceleration: float
    """Change of the between-snapshot velocity, views per hour per hour."""
    outlier: float
    """Views against the channel's average views per video (1 = typical for the channel)."""
    score: float


class Trend(BaseModel):
    """Related rising videos in one region, at one analysis, with their write-ups."""

    model_config = ConfigDict(frozen=True)

    trend_id: str
    region: str
    analysis_id: str
    analyzed_at: float
    rank: int
    label: str
    keywords: list[str]
    topics: list[str]
    score: float
    videos: list[TrendVideo]
    series: list[tuple[float, float]] = Field(default_factory=list)
    """(time, views per hour summed over the trend's videos) between snapshots."""
    explanations: list[Explanation] = Field(default_factory=list)
    sample: bool = False
    """True when computed from the shipped sample data set, not from YouTube."""

    def explanation(self, language: str) -> Explanation | None:
        """The write-up in ``language``, else any."""
        for e in self.explanations:
            if e.language == language:
                return e
        return self.explanations[0] if self.explanations else None
