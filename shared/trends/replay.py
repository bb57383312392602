"""Replaying the sample data set through the real collector, offline.

``stand_in(data, n)`` builds the YouTube stand-in (``shared.trends.standin``) at collection
round ``n``: the videos with their counts of that round, each region's charts (its
home-region videos that gained most in the last 24 hours, of all categories and per
category), the search index (the queries each video matches) and the channels. ``replay``
runs every round through ``collect_region`` — the same collector, quota planner, parser and
store as a live collection — and then analyses the last round of each region (scoring,
write-ups, digests), exactly as ``analyze_trends`` does. The sample's quota spend goes to its
own ledger (``sample-…``), never the live key's.

Running it again on the same home is idempotent: every round's slot is found collected, the
analysis is reused and no digest is sent twice.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from schemas.trends import TrendsCollected
from shared.config import Settings
from shared.ports.claims import Claims
from shared.ports.notifier import Notifier
from shared.ports.trends import TrendStore
from shared.trends.collect import collection_id
from shared.trends.explain import TrendExplainer
from shared.trends.models import CollectionSummary, Trend
from shared.trends.parse import count, timestamp
from shared.trends.pipeline import analyze_and_notify, collect_region, collector_for
from shared.trends.standin import YouTubeStandIn
from shared.trends.youtube import YouTubeClient

SAMPLE_KEY = "SAMPLE-KEY-NOT-A-REAL-KEY"
#: Rounds in 24 hours (the chart ranks by the views gained in the last day).
_DAY_ROUNDS = 4


def round_at(data: dict[str, Any], round_: int) -> float:
    at = timestamp(data["rounds"][round_])
    assert at is not None
    return at


def _views(video: dict[str, Any], round_: int) -> int:
    stats = video["statistics"][round_]
    return (count(stats.get("viewCount")) or 0) if stats else 0


def _day_gain(data: dict[str, Any], video: dict[str, Any], round_: int) -> int:
    """Views gained in the 24 hours before the round (before the first day of the sample:
    since publication, for a video published within those 24 hours)."""
    if round_ >= _DAY_ROUNDS:
        return _views(video, round_) - _views(video, round_ - _DAY_ROUNDS)
    published = timestamp(video["resource"]["snippet"]["publishedAt"]) or 0.0
    day_before = round_at(data, round_) - 86400
    base = _views(video, 0) if published < day_before else 0
    return _views(video, round_) - base if round_ else _views(video, 0) - base


def stand_in(data: dict[str, Any], round_: int) -> YouTubeStandIn:
    """The sample behind the YouTube Data API at collection round ``round_``."""
    api = YouTubeStandIn()
    index: dict[str, list[str]] = defaultdict(list)
    for video_id, video in data["videos"].items():
        stats = video["statistics"][round_]
        if stats is None:
            continue
        api.videos[video_id] = {**video["resource"], "statistics": stats}
        if video["size"]:
            api.sizes[video_id] = (video["size"][0], video["size"][1])
        for query in video["queries"]:
            index[query].append(video_id)
    api.index = dict(index)
    api.channels = dict(data["channels"])
    for region in data["regions"]:
        home = {v: d for v, d in data["videos"].items() if d["region"] == region}
        categories = {d["resource"]["snippet"]["categoryId"] for d in home.values()}
        for category in data["categories"]:
            if category and category not in categories:
                continue  # no chart: videoChartNotFound
            gains = {
                v: _day_gain(data, d, round_)
                for v, d in home.items()
                if v in api.videos
                and (not category or d["resource"]["snippet"]["categoryId"] == category)
            }
            ranked = sorted((v for v, g in gains.items() if g > 0), key=lambda v: -gains[v])
            api.charts[(region, category)] = ranked[: data["chart_size"]]
    return api


@dataclass
class ReplayResult:
    summaries: list[CollectionSummary]
    trends: dict[str, list[Trend]]
    """Region → its trends at the last round."""
    digests: list[str]
    units: int
    quota_account: str


def replay(
    data: dict[str, Any],
    *,
    trends: TrendStore,
    claims: Claims,
    explainer: TrendExplainer,
    notifier: Notifier,
    settings: Settings,
    on_summary: Callable[[CollectionSummary], None] | None = None,
) -> ReplayResult:
    """Collect every round of the sample, then analyse the last one (see the module doc)."""
    account = f"sample-{secrets.token_hex(4)}"
    claimant = f"sample-replay-{secrets.token_hex(4)}"
    summaries: list[CollectionSummary] = []
    for n in range(len(data["rounds"])):
        api = stand_in(data, n)
        client = YouTubeClient(httpx.Client(transport=httpx.MockTransport(api)), SAMPLE_KEY)
        collector = collector_for(
            client,
            trends,
            settings,
            niches=data["niches"],
            categories=data["categories"],
            account=account,
        )
        for region in data["regions"]:
            summary = collect_region(collector, claims, region, round_at(data, n), claimant)
            summaries.append(summary)
            if on_summary is not None:
                on_summary(summary)
    last = round_at(data, len(data["rounds"]) - 1)
    found: dict[str, list[Trend]] = {}
    digests: list[str] = []
    for region in data["regions"]:
        message = TrendsCollected(
            region=region, collection_id=collection_id(region, last), at=last, sample=True
        )
        found[region], sent = analyze_and_notify(
            message,
            trends=trends,
            explainer=explainer,
            notifier=notifier,
            claims=claims,
            settings=settings,
            claimant=claimant,
        )
        digests += sent
    return ReplayResult(summaries, found, digests, sum(s.units for s in summaries), account)
