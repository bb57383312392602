"""The trend scout's two steps as the functions and the CLI run them, idempotent per key.

``collect_region`` runs one collection under the logical key ``<region>-<15-minute slot>``:
the first delivery claims the slot (a second tick or a re-published message in the same slot
drops itself; a redelivery of the claiming message resumes), and a marker written after the
collection makes later deliveries skip it. ``analyze_and_notify`` analyses one collection
(stored once, each write-up paid once, resumed on redelivery) and sends the digests (at most
one per follower and period).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from schemas.trends import TrendsCollected
from shared.config import Settings
from shared.ports import claims as keys
from shared.ports.bus import EventBus
from shared.ports.claims import Claims
from shared.ports.notifier import Notifier
from shared.ports.trends import TrendStore
from shared.trends.analyze import AnalysisParams, analyze
from shared.trends.collect import Collector, collection_id
from shared.trends.digest import DigestLinks, send_digests
from shared.trends.explain import TrendExplainer
from shared.trends.models import CollectionSummary, Trend
from shared.trends.quota import QuotaPlanner
from shared.trends.youtube import YouTubeClient


def planner_for(trends: TrendStore, settings: Settings, account: str = "youtube") -> QuotaPlanner:
    return QuotaPlanner(
        trends, settings.youtube_daily_quota, settings.youtube_daily_searches, account
    )


def collector_for(
    client: YouTubeClient,
    trends: TrendStore,
    settings: Settings,
    *,
    niches: Mapping[str, Sequence[str]] | None = None,
    categories: Sequence[str] | None = None,
    account: str = "youtube",
) -> Collector:
    return Collector(
        client=client,
        store=trends,
        quota=planner_for(trends, settings, account),
        niches=dict(settings.trends_niches if niches is None else niches),
        categories=list(settings.trends_chart_categories if categories is None else categories),
        chart_pages=settings.trends_chart_pages,
        search_pages=settings.trends_search_pages,
        search_order=settings.trends_search_order,
        lookback_h=settings.trends_lookback_hours,
        retention_days=settings.trends_retention_days,
        track_limit=settings.trends_track_limit,
        max_age_h=settings.trends_track_max_age_hours,
        baseline_channels=settings.trends_baseline_channels,
        baseline_hours=settings.trends_baseline_hours,
        min_gap_s=settings.trends_min_gap_minutes * 60.0,
    )


def collect_region(
    collector: Collector,
    claims: Claims,
    region: str,
    at: float,
    claimant: str,
    *,
    bus: EventBus | None = None,
    sample: bool = False,
) -> CollectionSummary:
    """Collect ``region`` at ``at`` once per slot (see the module doc) and, with a ``bus``,
    announce it before marking the slot done (a crash in between re-announces; the
    analysis is idempotent)."""
    cid = collection_id(region, at)
    done = keys.trends_collected(cid)
    if claims.marked(done) or claims.claim(keys.trends_collect(cid), claimant) != claimant:
        return CollectionSummary(
            region, cid, at, status="already-collected", message="this slot was collected"
        )
    summary = collector.collect(region, at, cid)
    if bus is not None:
        announce(bus, summary, sample=sample)
    claims.claim_once(done)
    return summary


def announce(bus: EventBus, summary: CollectionSummary, *, sample: bool = False) -> str | None:
    """Publish ``trends.collected`` when the collection stored anything; the message id."""
    if summary.snapshots == 0:
        return None
    message = TrendsCollected(
        region=summary.region,
        collection_id=summary.collection_id,
        at=summary.at,
        status=summary.status,
        sample=sample,
    )
    return bus.publish_raw(
        message.TYPE,
        message.model_dump_json().encode(),
        {"type": message.TYPE, "version": str(message.version), "key": message.key},
    )


def params_for(settings: Settings, *, sample: bool = False) -> AnalysisParams:
    return AnalysisParams(
        window_h=settings.trends_window_hours,
        lookback_h=settings.trends_lookback_hours,
        top=settings.trends_top,
        sample=sample,
        min_gap_s=settings.trends_min_gap_minutes * 60.0,
    )


def links_for(settings: Settings, home: Path) -> DigestLinks:
    from shared.trends.unsubscribe import secret

    return DigestLinks(
        origin=settings.cors_origin,
        api_url=settings.trends_api_url,
        secret=lambda: secret(settings, home),
    )


def analyze_and_notify(
    message: TrendsCollected,
    *,
    trends: TrendStore,
    explainer: TrendExplainer,
    notifier: Notifier,
    claims: Claims,
    settings: Settings,
    claimant: str,
) -> tuple[list[Trend], list[str]]:
    """The collection's trends and where the digests went (see the module doc). The
    followers are read once: they decide which languages the trends are written in (Japanese
    and Chinese only for trends someone reads in them) and who gets a digest."""
    followers = trends.followers()
    found = analyze(
        trends,
        explainer,
        message.region,
        message.collection_id,
        message.at,
        params_for(settings, sample=message.sample),
        followers,
    )
    sent = send_digests(
        found,
        followers,
        at=message.at,
        notifier=notifier,
        claims=claims,
        claimant=claimant,
        links=links_for(settings, settings.home),
    )
    return found, sent
