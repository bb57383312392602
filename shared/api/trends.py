"""``/v1/trends``: the trend scout's trends by plan, business API keys and their usage,
unsubscribing from the digest, and starting a tale from a trend's story idea.

Access is the product (docs/trends.md):

- **free**: the day's top few — the first analysis each region published on the current UTC
  day (until there is one, the latest), its ``TALE_TRENDS_FREE_TOP`` best rising trends;
  other trends answer 403 ``plan-required``.
- **pro**: every trend of the latest analyses, with every figure.
- **business**: as pro, and programmatic access with API keys (``X-API-Key``): a key belongs
  to the customer's account, expires, rotates, and is metered per call and per month (429
  ``monthly-limit`` beyond its allowance, with ``Retry-After`` until the next month; the
  per-minute rate limit as before). ``GET /v1/trends/usage`` shows the month's calls.

``POST /v1/trends/{id}/tales`` needs a user: it turns story idea ``idea`` into a story
submission that records the trend (``trend_id``) with storyboard approval on
(``options.approval_required``), and creates the tale exactly as ``POST /v1/tales`` does
(credits reserved, ``Idempotency-Key`` honoured), so the tale stops at its storyboard for
the owner to approve.

``POST /v1/trends/unsubscribe?token=…`` is the digest's RFC 8058 one-click unsubscribe (no
login: the token is signed); ``GET`` with the same token only says whom it would remove —
mail scanners fetch links, so a ``GET`` changes nothing.
"""

from __future__ import annotations

import re
import time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.story import AspectRatio, Language, ShotSeconds, StoryOptions, StorySubmission, Style
from shared.api.problems import Problem, not_found
from shared.api.requests import json_body
from shared.api.routes import Call, start_tale
from shared.auth.tokens import Identity
from shared.bootstrap import Container
from shared.trends.apikeys import InvalidApiKey, MonthlyLimit, meter, month, next_month, verify
from shared.trends.codec import utc_day
from shared.trends.models import Trend, TrendStatus
from shared.trends.readers import WRITTEN, region_language_of
from shared.trends.unsubscribe import InvalidToken, follower_of, secret

API_KEY_HEADER = "X-API-Key"
_REGION = re.compile(r"^[A-Za-z]{2}$")
_STATUSES = ("rising", "steady", "fading", "new")
Tier = Literal["free", "pro", "business", "api-key"]


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
    age_h: float = Field(description="Hours since publication.")
    velocity: float = Field(description="Views per hour since publication.")
    recent_velocity: float = Field(description="Views per hour in the latest interval.")
    growth_pct: float | None = Field(description="That against the interval before, in %.")
    vs_expected: float | None = Field(
        description="That change against the decay expected at its age (1 = a normal decay)."
    )
    status: TrendStatus
    acceleration: float = Field(description="Change of that velocity, views/hour per hour.")
    outlier: float | None = Field(
        description="Age-adjusted views against the median of the channel's recent Shorts."
    )


class TrendView(BaseModel):
    id: str
    region: str
    rank: int
    label: str
    status: TrendStatus = Field(description="Against the expected decay of Shorts.")
    window: tuple[float, float] | None = Field(
        description="(start, end) Unix times of the two intervals the growth compares."
    )
    growth_pct: float | None = Field(description="Views per hour, latest interval vs before.")
    vs_expected: float | None
    views_per_hour: float = Field(description="The last point of the series.")
    age_h: float = Field(description="Median hours since publication of its videos.")
    channels: int
    rise: float | None = Field(description="Its label's views this window vs the one before.")
    keywords: list[str]
    topics: list[str]
    niches: list[str]
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
            status=trend.status,
            window=trend.window,
            growth_pct=trend.growth_pct,
            vs_expected=trend.vs_expected,
            views_per_hour=round(trend.views_per_hour, 2),
            age_h=trend.age_h,
            channels=trend.channels,
            rise=trend.rise,
            keywords=trend.keywords,
            topics=trend.topics,
            niches=trend.niches,
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
                    age_h=v.age_h,
                    velocity=v.velocity,
                    recent_velocity=v.recent_velocity,
                    growth_pct=v.growth_pct,
                    vs_expected=v.vs_expected,
                    status=v.status,
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
    tier: Tier = Field(description="What the caller's plan shows (free: the day's top few).")
    trends: list[TrendView]


class KeyUsage(BaseModel):
    id: str
    name: str
    created_at: float
    expires_at: float | None
    revoked: bool
    rotated_to: str
    rate_per_minute: int
    monthly_calls: int = Field(description="Calls allowed this month.")
    calls: int = Field(description="Calls made this month (refused ones too).")


class TrendUsage(BaseModel):
    customer: str
    period: str = Field(description="The calendar month (UTC), YYYY-MM.")
    resets_at: float
    calls: int
    keys: list[KeyUsage]


class Unsubscribed(BaseModel):
    kind: str
    value: str
    email: str = Field(description="The address, partly hidden.")
    subscribed: bool = Field(description="Whether it still gets the digest.")


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


# --- business API keys ------------------------------------------------------------------------


def key_identity(container: Container, presented: str) -> tuple[Identity, int]:
    """The caller behind a business API key, metered, and its requests-a-minute limit (401
    for a key that is not valid, 429 beyond the month's calls)."""
    now = time.time()
    try:
        key = verify(container.trends, presented, now)
        profile = container.ledger.profile(key.customer)
        if profile is None or profile.plan != "business":
            raise InvalidApiKey("the customer is not on the business plan")
        meter(container.trends, key, now, container.settings.trends_key_monthly_calls)
    except InvalidApiKey as exc:
        raise Problem(
            401,
            "unauthorized",
            "Not authenticated",
            "the API key is not valid (unknown, malformed, expired or revoked)",
            headers={"WWW-Authenticate": 'ApiKey header="X-API-Key"'},
        ) from exc
    except MonthlyLimit as exc:
        raise Problem(
            429,
            "monthly-limit",
            "Monthly limit reached",
            str(exc),
            headers={"Retry-After": str(max(1, int(exc.resets_at - now)))},
        ) from exc
    claims = {"key_id": key.key_id, "customer": key.customer}
    identity = Identity(user_id=f"apikey:{key.key_id}", email=None, role="api-key", claims=claims)
    return identity, key.rate_per_minute


def trend_usage(call: Call) -> TrendUsage:
    """This month's calls of the customer's keys (an API key's customer, or the user)."""
    c, now = call.container, time.time()
    customer = str(call.identity.claims.get("customer") or call.user)
    keys = [k for k in c.trends.api_keys() if k.customer == customer]
    calls = c.trends.calls([k.key_id for k in keys], month(now))
    default = c.settings.trends_key_monthly_calls
    return TrendUsage(
        customer=customer,
        period=month(now),
        resets_at=next_month(now),
        calls=sum(calls.values()),
        keys=[
            KeyUsage(
                id=k.key_id,
                name=k.name,
                created_at=k.created_at,
                expires_at=k.expires_at,
                revoked=k.revoked,
                rotated_to=k.rotated_to,
                rate_per_minute=k.rate_per_minute,
                monthly_calls=k.monthly_calls or default,
                calls=calls[k.key_id],
            )
            for k in keys
        ],
    )


# --- reading trends, by plan --------------------------------------------------------------------


def tier_of(call: Call) -> Tier:
    if call.identity.role == "api-key":
        return "api-key"
    profile = call.container.ledger.profile(call.user)
    plan = profile.plan if profile is not None else "free"
    return "free" if plan not in ("pro", "business") else plan


def free_trends(container: Container, region: str | None) -> list[Trend]:
    """The day's top few: per region, the best rising trends of its first analysis today
    (or, before there is one, of its latest)."""
    day = container.trends.daily(region, utc_day(time.time()))
    today = {t.region for t in day}
    found = day + [t for t in container.trends.latest(region, 200) if t.region not in today]
    top = container.settings.trends_free_top
    out: list[Trend] = []
    for name in sorted({t.region for t in found}):
        rising = [t for t in found if t.region == name and t.status == "rising"]
        out += sorted(rising, key=lambda t: t.rank)[:top]
    return out


def _language(call: Call, default: str = "en") -> str:
    """The write-up asked for (``language``). A trend lacking it answers with the English one,
    and its ``language`` says so (Japanese and Chinese are written only where read:
    ``shared.trends.readers``)."""
    value = call.request.args.get("language", default)
    if value not in WRITTEN:
        raise Problem(
            422, "invalid-request", "Invalid request", "language: must be ko, en, ja or zh"
        )
    return value


def list_trends(call: Call) -> TrendList:
    args = call.request.args
    region = args.get("region")
    if region is not None and not _REGION.match(region):
        raise Problem(422, "invalid-request", "Invalid request", "region: a two-letter region code")
    raw_limit = args.get("limit", "20")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 100:
        raise Problem(422, "invalid-request", "Invalid request", "limit: 1 to 100")
    status = args.get("status")
    if status is not None and status not in _STATUSES:
        raise Problem(422, "invalid-request", "Invalid request", "status: rising, steady, …")
    language = _language(call)
    tier = tier_of(call)
    wanted = region.upper() if region else None
    if tier == "free":
        found = free_trends(call.container, wanted)
    else:
        found = call.container.trends.latest(wanted, 200)
    if status is not None:
        found = [t for t in found if t.status == status]
    found = sorted(found, key=lambda t: (t.rank, t.region))[: int(raw_limit)]
    return TrendList(tier=tier, trends=[TrendView.of(t, language) for t in found])


def _trend(call: Call) -> Trend:
    trend = call.container.trends.trend(call.params["trend_id"])
    if trend is None:
        raise not_found(f"trend {call.params['trend_id']}")
    if tier_of(call) == "free" and trend.trend_id not in {
        t.trend_id for t in free_trends(call.container, trend.region)
    }:
        raise Problem(
            403,
            "plan-required",
            "Plan required",
            f"trend {trend.trend_id} is not among today's top "
            f"{call.container.settings.trends_free_top} of {trend.region}: the pro plan shows "
            "every trend",
        )
    return trend


def get_trend(call: Call) -> TrendView:
    trend = _trend(call)
    return TrendView.of(trend, _language(call, region_language_of(trend.region)))


def create_trend_tale(call: Call) -> tuple[int, BaseModel, dict[str, str]]:
    settings = call.container.settings
    request = json_body(call.request, TrendTaleRequest, settings.api_max_body_bytes)
    trend = _trend(call)
    language = request.language or region_language_of(trend.region)
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
        trend_id=trend.trend_id,
    )
    return start_tale(call, submission)


# --- unsubscribing from the digest --------------------------------------------------------------


def _masked(email: str) -> str:
    name, _, domain = email.partition("@")
    return f"{name[:1]}…@{domain}"


def _follower_id(call: Call) -> str:
    c = call.container
    try:
        return follower_of(call.request.args.get("token", ""), secret(c.settings, c.home))
    except InvalidToken as exc:
        raise Problem(
            400, "invalid-token", "Invalid unsubscribe link", "the link is not valid"
        ) from exc


def unsubscribe_preview(call: Call) -> Unsubscribed:
    """Whom the link would remove; changes nothing (mail scanners fetch links)."""
    follower = call.container.trends.follower(_follower_id(call))
    if follower is None:
        return Unsubscribed(kind="", value="", email="", subscribed=False)
    return Unsubscribed(
        kind=follower.kind, value=follower.value, email=_masked(follower.email), subscribed=True
    )


def unsubscribe(call: Call) -> Unsubscribed:
    """RFC 8058 one-click: remove the follower the signed token names (idempotent)."""
    follower = call.container.trends.follower(_follower_id(call))
    if follower is None:
        return Unsubscribed(kind="", value="", email="", subscribed=False)
    call.container.trends.unfollow(follower)
    return Unsubscribed(
        kind=follower.kind, value=follower.value, email=_masked(follower.email), subscribed=False
    )
