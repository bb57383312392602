"""The trend scout's records: videos, statistics snapshots, channel baselines, quota spend,
trends, followers and API keys. Plain values; the stores keep them and the stages compute on
them.

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
    """The seed queries it was found with (``search.list`` ``q``)."""
    channel_subscribers: int | None = None
    """None when the channel hides it."""
    channel_views: int | None = None
    channel_videos: int | None = None
    aspect: float | None = None
    """Width / height of its player (``player.embedWidth`` / ``embedHeight``); None when the
    API did not say (the aspect ratio is unknown to it)."""
    category_id: str = ""
    niches: tuple[str, ...] = ()
    """The niches whose seed queries found it."""
    charts: tuple[str, ...] = ()
    """The regional charts it was on: ``KR`` (all categories) or ``KR/24`` (a category)."""

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
class ChannelBaseline:
    """What a channel's recent Shorts usually reach: each one's age-adjusted views (its views
    divided by the share of its lifetime views the decay curve expects by its age), from the
    channel's uploads playlist. The outlier score compares a video with the median of the
    *other* samples."""

    channel_id: str
    at: float
    """When it was measured (refreshed after ``TALE_TRENDS_BASELINE_HOURS``)."""
    samples: tuple[tuple[str, float], ...] = ()
    """(video id, age-adjusted views) of the channel's recent Shorts."""


@dataclass(frozen=True)
class QuotaCall:
    """One YouTube Data API request, recorded before it is sent."""

    day: str
    """The ledger of its bucket and quota day: ``<account>:<Pacific date>`` for the
    10,000-unit pool, ``<account>:search:<Pacific date>`` for the ``search.list`` bucket."""
    at: float
    method: str
    units: int
    region: str = ""
    collection_id: str = ""
    bucket: str = "units"


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
    frequency: Literal["daily", "weekly"] = "daily"
    """At most one digest a UTC day, or a week (ISO week, from Monday)."""

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
    customer: str = ""
    """The user id of the business account the key belongs to (its calls are theirs)."""
    expires_at: float | None = None
    monthly_calls: int = 0
    """Calls a calendar month (UTC); 0: ``TALE_TRENDS_KEY_MONTHLY_CALLS``."""
    rotated_to: str = ""
    """The key that replaced it (it expires after the rotation's grace period)."""

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def expired(self, at: float) -> bool:
        return self.expires_at is not None and at >= self.expires_at


@dataclass
class CollectionSummary:
    """What one collection did, for logs, the CLI and the ``trends.collected`` message."""

    region: str
    collection_id: str
    at: float
    status: Literal[
        "collected", "partial", "search-stopped", "quota-exhausted", "budget", "already-collected"
    ] = "collected"
    videos: int = 0
    snapshots: int = 0
    units: int = 0
    calls: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    """Reason → count: ``deleted``, ``no_statistics``, ``malformed``, ``not_short``,
    ``no_chart``, ``aged_out``, ``failed_calls``; ``hidden_likes`` and ``shape_unknown`` are
    kept."""
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


TrendStatus = Literal["rising", "steady", "fading", "new"]
"""Against the expected decay of a Short (``shared.trends.scoring``): gaining faster than
expected, about as expected, slower, or not measured twice yet."""


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
    """Views per hour in its latest measured interval."""
    acceleration: float
    """Change of the between-snapshot velocity, views per hour per hour."""
    outlier: float | None
    """Age-adjusted views against the median of its channel's other recent Shorts (1 = typical
    for the channel); None without a baseline."""
    score: float
    age_h: float = 0.0
    """Hours since publication, at the analysis."""
    growth_pct: float | None = None
    """Views per hour in the latest interval against the one before, in % (None: measured
    once)."""
    vs_expected: float | None = None
    """That change against what the decay curve expects at its age (1 = a normal decay)."""
    status: TrendStatus = "new"
    channel_id: str = ""
    tags: list[str] = Field(default_factory=list)


class Trend(BaseModel):
    """Related videos in one region, at one analysis, with their write-ups."""

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
    status: TrendStatus = "new"
    window: tuple[float, float] | None = None
    """(start, end) of what its growth compares: the interval before and the latest one."""
    growth_pct: float | None = None
    """The trend's views per hour in its latest interval against the one before, in %."""
    vs_expected: float | None = None
    """That change against the decay its videos' ages make expected (1 = a normal decay)."""
    age_h: float = 0.0
    """Median hours since publication of its videos."""
    channels: int = 0
    rise: float | None = None
    """How many times faster its label gained views in the last window than in the one
    before (the keyword rise; None when the label is no shared term)."""
    niches: list[str] = Field(default_factory=list)

    @property
    def key(self) -> str:
        """What stays the same across analyses while the trend lasts: its region and label."""
        return f"{self.region}:{self.label.strip().lower()}"

    @property
    def views_per_hour(self) -> float:
        """Views per hour in the latest interval — the last point of ``series`` (the chart)."""
        return self.series[-1][1] if self.series else 0.0

    def explanation(self, language: str) -> Explanation | None:
        """The write-up in ``language``, else the English one (a trend is written in Japanese
        or Chinese only where it has readers in them: ``shared.trends.readers``), else any.
        The answer's ``language`` says which it is."""
        by_language: dict[str, Explanation] = {e.language: e for e in self.explanations}
        found = by_language.get(language) or by_language.get("en")
        return found or (self.explanations[0] if self.explanations else None)
