"""``/v1/trends``: the trend scout's trends, and starting a tale from one of their ideas.

``GET /v1/trends`` and ``GET /v1/trends/{id}`` accept a user's access token or a business
API key (``X-API-Key``: unknown, malformed or revoked → 401; each key has its own rate
limit). ``POST /v1/trends/{id}/tales`` needs a user: it turns story idea ``idea`` into a
story submission with storyboard approval on and creates the tale exactly as
``POST /v1/tales`` does (credits reserved, ``Idempotency-Key`` honoured), so the tale stops
at its storyboard for the owner to approve.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field

from schemas.story import AspectRatio, Language, ShotSeconds, StoryOptions, StorySubmission, Style
from shared.api.problems import Problem, not_found
from shared.api.requests import json_body
from shared.api.routes import Call, start_tale
from shared.auth.tokens import Identity
from shared.bootstrap import Container
from shared.trends.apikeys import InvalidApiKey, verify
from shared.trends.models import Trend

API_KEY_HEADER = "X-API-Key"
_REGION = re.compile(r"^[A-Za-z]{2}$")


class TrendIdeaView(BaseModel):
    index: int
    title: str
    story: str


class TrendVideoView(BaseModel):
    id: str
    title: str
    channel: str
    url: str
    views: int
    velocity: float = Field(description="Views per hour since publication.")
    recent_velocity: float = Field(description="Views per hour between the last two snapshots.")
    acceleration: float = Field(description="Change of that velocity, views/hour per hour.")
    outlier: float = Field(description="Views against the channel's average per video.")


class TrendView(BaseModel):
    id: str
    region: str
    rank: int
    label: str
    keywords: list[str]
    topics: list[str]
    score: float
    language: str
    summary: str
    ideas: list[TrendIdeaView]
    written_by: str
    videos: list[TrendVideoView]
    series: list[tuple[float, float]] = Field(
        description="(Unix time, views per hour of the trend's videos) between snapshots."
    )
    analyzed_at: float
    sample: bool = Field(description="True when computed from the shipped sample data set.")

    @classmethod
    def of(cls, trend: Trend, language: str) -> TrendView:
        explanation = trend.explanation(language)
        writeup = explanation.writeup if explanation else None
        return cls(
            id=trend.trend_id,
            region=trend.region,
            rank=trend.rank,
            label=trend.label,
            keywords=trend.keywords,
            topics=trend.topics,
            score=trend.score,
            language=explanation.language if explanation else language,
            summary=writeup.summary if writeup else "",
            ideas=[
                TrendIdeaView(index=n, title=i.title, story=i.story)
                for n, i in enumerate(writeup.ideas if writeup else [])
            ],
            written_by=explanation.written_by if explanation else "",
            videos=[
                TrendVideoView(
                    id=v.video_id,
                    title=v.title,
                    channel=v.channel_title,
                    url=v.url,
                    views=v.views,
                    velocity=v.velocity,
                    recent_velocity=v.recent_velocity,
                    acceleration=v.acceleration,
                    outlier=v.outlier,
                )
                for v in trend.videos
            ],
            series=trend.series,
            analyzed_at=trend.analyzed_at,
            sample=trend.sample,
        )


class TrendList(BaseModel):
    trends: list[TrendView]


class TrendTaleRequest(BaseModel):
    """Which story idea of the trend to make into a tale, and how to film it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    idea: int = Field(ge=0, le=2, description="Index of the story idea (0-2).")
    language: Language | None = Field(
        default=None, description="The idea's language; default: the region's (ko for KR)."
    )
    style: Style = Style.STORYBOOK
    aspect_ratio: AspectRatio = "9:16"
    shot_count: int = Field(default=8, ge=1, le=16)
    shot_seconds: ShotSeconds = 8


def key_identity(container: Container, presented: str) -> tuple[Identity, int]:
    """The caller behind a business API key and its requests-a-minute limit (401 otherwise)."""
    try:
        key = verify(container.trends, presented)
    except InvalidApiKey as exc:
        raise Problem(
            401,
            "unauthorized",
            "Not authenticated",
            "the API key is not valid (unknown, malformed or revoked)",
            headers={"WWW-Authenticate": 'ApiKey header="X-API-Key"'},
        ) from exc
    identity = Identity(user_id=f"apikey:{key.key_id}", email=None, role="api-key", claims={})
    return identity, key.rate_per_minute


def _language(call: Call, default: str = "en") -> str:
    value = call.request.args.get("language", default)
    if value not in ("ko", "en"):
        raise Problem(422, "invalid-request", "Invalid request", "language: must be ko or en")
    return value


def list_trends(call: Call) -> TrendList:
    args = call.request.args
    region = args.get("region")
    if region is not None and not _REGION.match(region):
        raise Problem(422, "invalid-request", "Invalid request", "region: a two-letter region code")
    raw_limit = args.get("limit", "20")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 100:
        raise Problem(422, "invalid-request", "Invalid request", "limit: 1 to 100")
    language = _language(call)
    found = call.container.trends.latest(region.upper() if region else None, int(raw_limit))
    return TrendList(trends=[TrendView.of(t, language) for t in found])


def _trend(call: Call) -> Trend:
    trend = call.container.trends.trend(call.params["trend_id"])
    if trend is None:
        raise not_found(f"trend {call.params['trend_id']}")
    return trend


def get_trend(call: Call) -> TrendView:
    trend = _trend(call)
    return TrendView.of(trend, _language(call, "ko" if trend.region == "KR" else "en"))


def create_trend_tale(call: Call) -> tuple[int, BaseModel, dict[str, str]]:
    settings = call.container.settings
    request = json_body(call.request, TrendTaleRequest, settings.api_max_body_bytes)
    trend = _trend(call)
    language = request.language or ("ko" if trend.region == "KR" else "en")
    explanation = trend.explanation(language)
    ideas = explanation.writeup.ideas if explanation else []
    if request.idea >= len(ideas):
        raise Problem(
            422,
            "invalid-request",
            "Invalid request",
            f"idea: trend {trend.trend_id} has {len(ideas)} ideas (0-{len(ideas) - 1})",
        )
    idea = ideas[request.idea]
    submission = StorySubmission(
        text=f"{idea.title}\n\n{idea.story}",
        language=explanation.language if explanation else language,
        style=request.style,
        aspect_ratio=request.aspect_ratio,
        shot_count=request.shot_count,
        shot_seconds=request.shot_seconds,
        options=StoryOptions(approval_required=True),
    )
    return start_tale(call, submission)
