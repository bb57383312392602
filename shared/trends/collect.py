"""One collection of one region: search, measure, size the channels, keep, prune.

1. ``search.list`` (100 units a page) for each topic: short videos published within the
   look-back, most viewed first, following ``nextPageToken`` for up to ``pages`` pages.
2. ``videos.list`` (1 unit per 50 ids) for the videos found plus up to ``TRACKED_LIMIT``
   videos already tracked in the region — re-measuring known videos is what gives each
   video a time series, and so an acceleration.
3. ``channels.list`` (1 unit per 50 ids) for the channels' sizes (the outlier score).
4. Videos and snapshots are stored; snapshots older than the retention are deleted.

Every call is charged to the ``QuotaPlanner`` first. When the planner refuses (the budget
would be exceeded) or the API answers ``quotaExceeded``, the collection stops there, keeps
what it measured, and says so in its summary; a day marked exhausted makes later
collections return at once until the reset. A call that fails transiently or answers
malformed JSON is skipped and counted; when nothing at all could be measured because of
transient failures, the error is raised so that the message is redelivered later.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

from shared.domain.errors import TransientError
from shared.ports.trends import TrendStore
from shared.trends.models import CollectionSummary, Snapshot, VideoInfo
from shared.trends.parse import ChannelStats, parse_channels, parse_videos, search_ids
from shared.trends.quota import (
    MAX_IDS_PER_CALL,
    TRACKED_LIMIT,
    QuotaExhausted,
    QuotaPlanner,
    QuotaRefused,
)
from shared.trends.youtube import MalformedResponse, QuotaExceededError, YouTubeClient

log = logging.getLogger("tale.trends")


def collection_id(region: str, at: float, bucket_s: int = 900) -> str:
    """``KR-20250601T0400Z``: the region and the start of the 15-minute slot of ``at`` — the
    logical key of a scheduled collection (a redelivery or a second tick in the same slot
    finds it taken)."""
    slot = int(at // bucket_s * bucket_s)
    return f"{region}-{datetime.fromtimestamp(slot, UTC):%Y%m%dT%H%MZ}"


def utc_text(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M UTC")


@dataclass
class _Run:
    region: str
    at: float
    summary: CollectionSummary
    found: dict[str, list[str]] = field(default_factory=dict)
    """Video id → the topics it was found under."""
    videos: dict[str, VideoInfo] = field(default_factory=dict)
    snapshots: list[Snapshot] = field(default_factory=list)
    channels: dict[str, ChannelStats] = field(default_factory=dict)
    failures: list[TransientError] = field(default_factory=list)


@dataclass
class Collector:
    client: YouTubeClient
    store: TrendStore
    quota: QuotaPlanner
    topics: Sequence[str]
    pages: int = 1
    lookback_h: int = 48
    retention_days: int = 14

    def collect(self, region: str, at: float, collection: str) -> CollectionSummary:
        summary = CollectionSummary(region, collection, at)
        blocked = self.quota.blocked_until(at)
        if blocked is not None:
            summary.status = "quota-exhausted"
            summary.message = f"quota exhausted until {utc_text(blocked)}; nothing collected"
            return summary
        run = _Run(region, at, summary)
        try:
            self._search(run)
            self._measure(run)
            self._size_channels(run)
        except (QuotaExceededError, QuotaExhausted) as exc:
            reason = exc.reason
            until = (
                exc.until if isinstance(exc, QuotaExhausted) else self.quota.exhausted(at, reason)
            )
            summary.status = "quota-exhausted"
            summary.message = f"quota exhausted ({reason}) until {utc_text(until)}; stopped"
        except QuotaRefused as exc:
            summary.status = "budget"
            summary.message = f"stopped before the daily budget: {exc}"
        self._keep(run)
        if not run.snapshots and run.failures:
            raise run.failures[0]
        if run.failures and summary.status == "collected":
            summary.status = "partial"
        return summary

    # --- the calls -------------------------------------------------------------------------
    def _call(self, run: _Run, method: str, send: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """Charge, then send; a transient failure or a malformed body yields ``{}``."""
        call = self.quota.charge(
            method, at=run.at, region=run.region, collection_id=run.summary.collection_id
        )
        run.summary.units += call.units
        run.summary.calls[method] = run.summary.calls.get(method, 0) + 1
        try:
            return send()
        except TransientError as exc:
            log.warning("%s %s failed: %s", run.summary.collection_id, method, exc)
            run.failures.append(exc)
            run.summary.skip("failed_calls")
        except MalformedResponse as exc:
            log.warning("%s %s: %s", run.summary.collection_id, method, exc)
            run.summary.skip("malformed")
        return {}

    def _search(self, run: _Run) -> None:
        """Search every topic; when the budget refuses a page, stop searching but go on to
        measure what was found (``videos.list`` costs 1 unit, a search page 100)."""
        try:
            self._search_topics(run)
        except QuotaRefused as exc:
            run.summary.status = "budget"
            run.summary.message = f"searching stopped before the daily budget: {exc}"

    def _search_topics(self, run: _Run) -> None:
        since = run.at - self.lookback_h * 3600
        for topic in self.topics:
            token: str | None = None
            for _ in range(self.pages):
                send = partial(
                    self.client.search,
                    region=run.region,
                    query=topic,
                    published_after=since,
                    page_token=token,
                )
                body = self._call(run, "search.list", send)
                ids, malformed = search_ids(body)
                run.summary.skip("malformed", malformed)
                for video_id in ids:
                    topics = run.found.setdefault(video_id, [])
                    if topic not in topics:
                        topics.append(topic)
                next_token = body.get("nextPageToken")
                if not isinstance(next_token, str) or not next_token:
                    break
                token = next_token

    def _tracked(self, run: _Run) -> list[str]:
        """Known videos of the region, most viewed first (latest snapshot), not found now."""
        latest: dict[str, int] = {}
        for s in self.store.snapshots(run.region, run.at - self.lookback_h * 3600, run.at):
            latest[s.video_id] = s.views
        ranked = sorted((v for v in latest if v not in run.found), key=lambda v: -latest[v])
        return ranked[:TRACKED_LIMIT]

    def _measure(self, run: _Run) -> None:
        ids = [*run.found, *self._tracked(run)]
        for start in range(0, len(ids), MAX_IDS_PER_CALL):
            batch = ids[start : start + MAX_IDS_PER_CALL]
            body = self._call(run, "videos.list", partial(self.client.videos, batch))
            if not body:
                continue
            parsed = parse_videos(body, batch, run.region, run.at)
            for reason, n in parsed.skipped.items():
                run.summary.skip(reason, n)
            run.videos.update((v.video_id, v) for v in parsed.videos)
            run.snapshots += parsed.snapshots

    def _size_channels(self, run: _Run) -> None:
        ids = sorted({v.channel_id for v in run.videos.values()})
        for start in range(0, len(ids), MAX_IDS_PER_CALL):
            batch = ids[start : start + MAX_IDS_PER_CALL]
            body = self._call(run, "channels.list", partial(self.client.channels, batch))
            found, malformed = parse_channels(body)
            run.summary.skip("malformed", malformed)
            run.channels.update(found)

    # --- keeping ---------------------------------------------------------------------------
    def _keep(self, run: _Run) -> None:
        known = self.store.videos(run.videos)
        merged: list[VideoInfo] = []
        for video_id, video in run.videos.items():
            before = known.get(video_id)
            topics = tuple(
                dict.fromkeys([*(before.topics if before else ()), *run.found.get(video_id, [])])
            )
            channel = run.channels.get(video.channel_id)
            if channel is not None:
                video = replace(
                    video,
                    channel_subscribers=channel.subscribers,
                    channel_views=channel.views,
                    channel_videos=channel.videos,
                )
            elif before is not None:
                video = replace(
                    video,
                    channel_subscribers=before.channel_subscribers,
                    channel_views=before.channel_views,
                    channel_videos=before.channel_videos,
                )
            merged.append(replace(video, topics=topics))
        self.store.save_videos(merged)
        self.store.add_snapshots(run.snapshots)
        run.summary.videos = len(merged)
        run.summary.snapshots = len(run.snapshots)
        run.summary.pruned = self.store.prune_snapshots(
            run.region, run.at - self.retention_days * 86400
        )
