"""One collection of one region: the region's charts, the niche searches, re-measuring,
channel sizes and baselines; then keep and prune.

1. **Charts** — ``videos.list chart=mostPopular`` (1 unit a page) for the region and each
   configured category (``""``: all): what is popular *in the region*, measured in the same
   call. A category without a chart there (``videoChartNotFound``) is skipped and counted.
2. **Niche searches** — ``search.list`` (the search bucket: 1 call a page) for each niche's
   seed queries meant for the region's language, with ``regionCode`` (viewable there — not
   popular there), ``relevanceLanguage`` and ``publishedAfter`` = now − the look-back; then
   ``videos.list`` (1 unit per 50 ids) for what was found.
3. **Re-measure** — ``videos.list`` for known videos chosen by score and recency, with an
   age-out (``remeasure``).
4. **Channels** — ``channels.list`` (1 unit per 50 ids) for their size and uploads playlist;
   **baselines** — ``playlistItems.list`` + ``videos.list`` per channel whose baseline is
   missing or stale (``baselines``).
5. Videos, snapshots and baselines are stored; snapshots older than the retention go.

Every call is charged to its quota bucket first. The search bucket running out — refused by
the planner, or ``quotaExceeded`` on a search — stops searching only: charts, re-measuring
and channels go on from the 10,000-unit pool. The pool running out stops the collection,
which keeps what it measured and says so; a pool marked exhausted makes later collections
return at once until the reset. A call that fails transiently or answers malformed JSON is
skipped and counted; when nothing at all could be measured because of transient failures,
the error is raised so that the message is redelivered later.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

from shared.domain.errors import TransientError
from shared.ports.trends import TrendStore
from shared.trends import baselines
from shared.trends.models import ChannelBaseline, CollectionSummary, Snapshot, VideoInfo
from shared.trends.parse import (
    ChannelStats,
    ParsedVideos,
    parse_channels,
    parse_videos,
    playlist_videos,
    search_ids,
)
from shared.trends.quota import (
    MAX_IDS_PER_CALL,
    SEARCH,
    QuotaExhausted,
    QuotaPlanner,
    QuotaRefused,
)
from shared.trends.regions import queries_for, region_language
from shared.trends.remeasure import tracked
from shared.trends.scoring import DEFAULT_MIN_GAP_S
from shared.trends.youtube import (
    ChartNotFound,
    MalformedResponse,
    PlaylistNotFound,
    QuotaExceededError,
    YouTubeClient,
)

log = logging.getLogger("tale.trends")


def collection_id(region: str, at: float, bucket_s: int = 900) -> str:
    """``KR-20250601T0400Z``: the region and the start of the 15-minute slot of ``at`` — the
    logical key of a scheduled collection (a redelivery or a second tick in the same slot
    finds it taken)."""
    slot = int(at // bucket_s * bucket_s)
    return f"{region}-{datetime.fromtimestamp(slot, UTC):%Y%m%dT%H%MZ}"


def utc_text(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M UTC")


def chart_key(region: str, category: str) -> str:
    return f"{region}/{category}" if category else region


@dataclass
class _Run:
    region: str
    at: float
    summary: CollectionSummary
    found: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    """Video id → the (niche, query) pairs that found it."""
    charted: dict[str, list[str]] = field(default_factory=dict)
    videos: dict[str, VideoInfo] = field(default_factory=dict)
    snapshots: list[Snapshot] = field(default_factory=list)
    channels: dict[str, ChannelStats] = field(default_factory=dict)
    baselines: list[ChannelBaseline] = field(default_factory=list)
    failures: list[TransientError] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    """Videos a chart page returned already (charts overlap: measured and counted once)."""

    def unseen(self, body: dict[str, Any]) -> dict[str, Any]:
        items = [
            i
            for i in body.get("items") or []
            if not isinstance(i, dict) or i.get("id") not in self.seen
        ]
        self.seen.update(
            i["id"] for i in items if isinstance(i, dict) and isinstance(i.get("id"), str)
        )
        return {**body, "items": items}

    def add(self, parsed: ParsedVideos) -> None:
        for reason, n in parsed.skipped.items():
            self.summary.skip(reason, n)
        self.videos.update((v.video_id, v) for v in parsed.videos)
        self.snapshots += parsed.snapshots


@dataclass
class Collector:
    client: YouTubeClient
    store: TrendStore
    quota: QuotaPlanner
    niches: Mapping[str, Sequence[str]] = field(default_factory=dict)
    categories: Sequence[str] = ("",)
    chart_pages: int = 1
    search_pages: int = 1
    search_order: str = "relevance"
    lookback_h: int = 48
    retention_days: int = 14
    track_limit: int = 200
    max_age_h: int = 168
    baseline_channels: int = 20
    baseline_hours: int = 24
    min_gap_s: float = DEFAULT_MIN_GAP_S

    def collect(self, region: str, at: float, collection: str) -> CollectionSummary:
        summary = CollectionSummary(region, collection, at)
        blocked = self.quota.blocked_until(at)
        if blocked is not None:
            summary.status = "quota-exhausted"
            summary.message = f"quota exhausted until {utc_text(blocked)}; nothing collected"
            return summary
        run = _Run(region, at, summary)
        try:
            self._charts(run)
            self._search(run)
            self._measure(run)
            self._size_channels(run)
            self._baselines(run)
        except QuotaExhausted as exc:
            summary.status = "quota-exhausted"
            summary.message = f"{exc}; stopped"
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
        """Charge, then send; a transient failure or a malformed body yields ``{}``; the API's
        ``quotaExceeded`` marks the call's bucket exhausted (``QuotaExhausted``)."""
        call = self.quota.charge(
            method, at=run.at, region=run.region, collection_id=run.summary.collection_id
        )
        run.summary.units += call.units
        run.summary.calls[method] = run.summary.calls.get(method, 0) + 1
        try:
            return send()
        except QuotaExceededError as exc:
            raise self.quota.exhausted(run.at, exc.reason, method) from exc
        except TransientError as exc:
            log.warning("%s %s failed: %s", run.summary.collection_id, method, exc)
            run.failures.append(exc)
            run.summary.skip("failed_calls")
        except MalformedResponse as exc:
            log.warning("%s %s: %s", run.summary.collection_id, method, exc)
            run.summary.skip("malformed")
        return {}

    def _charts(self, run: _Run) -> None:
        for category in self.categories:
            token: str | None = None
            for _ in range(self.chart_pages):
                send = partial(
                    self.client.chart, region=run.region, category=category, page_token=token
                )
                try:
                    body = self._call(run, "videos.list", send)
                except ChartNotFound:
                    run.summary.skip("no_chart")
                    break
                for item in body.get("items") or []:
                    if isinstance(item, dict) and isinstance(item.get("id"), str):
                        keys = run.charted.setdefault(item["id"], [])
                        keys.append(chart_key(run.region, category))
                run.add(parse_videos(run.unseen(body), None, run.region, run.at))
                token = body.get("nextPageToken") if isinstance(body, dict) else None
                if not isinstance(token, str) or not token:
                    break

    def _search(self, run: _Run) -> None:
        """Search the niches; the search bucket running out stops searching, nothing else."""
        try:
            self._search_niches(run)
        except (QuotaRefused, QuotaExhausted) as exc:
            if getattr(exc, "bucket", None) != SEARCH:
                raise
            run.summary.status = "search-stopped"
            run.summary.message = f"searching stopped: {exc}; charts and re-measuring go on"

    def _search_niches(self, run: _Run) -> None:
        pairs = queries_for({k: list(v) for k, v in self.niches.items()}, run.region)
        if not pairs:
            return
        blocked = self.quota.blocked_until(run.at, SEARCH)
        if blocked is not None:
            raise QuotaExhausted(blocked, "quotaExceeded", SEARCH)
        since = run.at - self.lookback_h * 3600
        for niche, query in pairs:
            token: str | None = None
            for _ in range(self.search_pages):
                send = partial(
                    self.client.search,
                    region=run.region,
                    query=query,
                    published_after=since,
                    language=region_language(run.region),
                    order=self.search_order,
                    page_token=token,
                )
                body = self._call(run, "search.list", send)
                ids, malformed = search_ids(body)
                run.summary.skip("malformed", malformed)
                for video_id in ids:
                    pairs = run.found.setdefault(video_id, [])
                    if (niche, query) not in pairs:
                        pairs.append((niche, query))
                next_token = body.get("nextPageToken")
                if not isinstance(next_token, str) or not next_token:
                    break
                token = next_token

    def _measure(self, run: _Run) -> None:
        searched = [v for v in run.found if v not in run.videos]
        again = tracked(
            self.store,
            run.region,
            run.at,
            set(run.found) | set(run.videos),
            lookback_h=self.lookback_h,
            limit=self.track_limit,
            max_age_h=self.max_age_h,
            min_gap_s=self.min_gap_s,
        )
        run.summary.skip("aged_out", again.aged_out)
        ids = [*searched, *again.ids]
        for start in range(0, len(ids), MAX_IDS_PER_CALL):
            batch = ids[start : start + MAX_IDS_PER_CALL]
            body = self._call(run, "videos.list", partial(self.client.videos, batch))
            if body:
                run.add(parse_videos(body, batch, run.region, run.at))

    def _size_channels(self, run: _Run) -> None:
        ids = sorted({v.channel_id for v in run.videos.values()})
        for start in range(0, len(ids), MAX_IDS_PER_CALL):
            batch = ids[start : start + MAX_IDS_PER_CALL]
            body = self._call(run, "channels.list", partial(self.client.channels, batch))
            found, malformed = parse_channels(body)
            run.summary.skip("malformed", malformed)
            run.channels.update(found)

    def _baselines(self, run: _Run) -> None:
        pace = {
            s.video_id: s.views / max((run.at - run.videos[s.video_id].published_at) / 3600, 1)
            for s in run.snapshots
            if s.video_id in run.videos
        }
        stored = self.store.channel_baselines(run.channels)
        wanted = baselines.to_size(
            run.videos.values(),
            pace,
            stored,
            at=run.at,
            max_age_h=self.baseline_hours,
            limit=self.baseline_channels,
        )
        for channel_id in wanted:
            uploads = run.channels[channel_id].uploads if channel_id in run.channels else ""
            if not uploads:
                continue
            try:
                items = self._call(
                    run, "playlistItems.list", partial(self.client.playlist_items, uploads)
                )
            except PlaylistNotFound:
                run.baselines.append(ChannelBaseline(channel_id, run.at))
                continue
            ids = playlist_videos(items)[:MAX_IDS_PER_CALL]
            if not ids:
                continue
            body = self._call(run, "videos.list", partial(self.client.videos, ids))
            parsed = parse_videos(body, ids, run.region, run.at)
            run.baselines.append(baselines.baseline(channel_id, parsed, run.at))

    # --- keeping ---------------------------------------------------------------------------
    def _keep(self, run: _Run) -> None:
        known = self.store.videos(run.videos)
        merged: list[VideoInfo] = []
        for video_id, video in run.videos.items():
            before = known.get(video_id)
            pairs = run.found.get(video_id, [])

            def union(old: tuple[str, ...], new: list[str]) -> tuple[str, ...]:
                return tuple(dict.fromkeys([*old, *new]))

            video = replace(
                video,
                topics=union(before.topics if before else (), [q for _, q in pairs]),
                niches=union(before.niches if before else (), [n for n, _ in pairs]),
                charts=union(before.charts if before else (), run.charted.get(video_id, [])),
            )
            channel = run.channels.get(video.channel_id)
            source = channel or before
            if source is not None:
                video = replace(
                    video,
                    channel_subscribers=_field(source, "subscribers", "channel_subscribers"),
                    channel_views=_field(source, "views", "channel_views"),
                    channel_videos=_field(source, "videos", "channel_videos"),
                )
            merged.append(video)
        self.store.save_videos(merged)
        self.store.add_snapshots(run.snapshots)
        self.store.save_channel_baselines(run.baselines)
        run.summary.videos = len(merged)
        run.summary.snapshots = len(run.snapshots)
        run.summary.pruned = self.store.prune_snapshots(
            run.region, run.at - self.retention_days * 86400
        )


def _field(source: ChannelStats | VideoInfo, stats_name: str, video_name: str) -> int | None:
    value = getattr(source, stats_name if isinstance(source, ChannelStats) else video_name)
    return value if isinstance(value, int) else None
