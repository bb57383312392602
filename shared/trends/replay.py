"""Replaying the sample data set through the real collector, offline.

``SampleYouTube`` is an ``httpx`` transport handler that answers ``search.list``,
``videos.list`` and ``channels.list`` as the YouTube Data API documents them (list responses
with ``pageInfo``, ``nextPageToken`` paging, ``youtube#searchResult`` items), from the sample
data at one collection round. ``replay`` runs every round through ``collect_region`` — the
same collector, quota planner, parser and store as a live collection — and then analyses
the last round of each region (scoring, write-ups, digests), exactly as ``analyze_trends``
does. The sample's quota spend goes to its own ledger (``sample-…``), never the live key's.

Running it again on the same home is idempotent: every round's slot is found collected, the
analysis is reused and no digest is sent twice.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
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
from shared.trends.parse import timestamp
from shared.trends.pipeline import analyze_and_notify, collect_region, collector_for
from shared.trends.youtube import YouTubeClient

SAMPLE_KEY = "SAMPLE-KEY-NOT-A-REAL-KEY"


def _page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _offset(token: str | None) -> int:
    if not token:
        return 0
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    return int(raw.removeprefix("offset:"))


@dataclass
class SampleYouTube:
    """The sample data set behind the YouTube Data API, at collection round ``round_``."""

    data: dict[str, Any]
    round_: int
    requests: list[httpx.Request] = field(default_factory=list)

    @property
    def at(self) -> float:
        at = timestamp(self.data["rounds"][self.round_])
        assert at is not None
        return at

    def _stats(self, video_id: str) -> dict[str, str] | None:
        video = self.data["videos"].get(video_id)
        return None if video is None else video["statistics"][self.round_]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        resource = request.url.path.rsplit("/", 1)[-1]
        params = request.url.params
        if resource == "search":
            return self._search(params)
        if resource in ("videos", "channels"):
            ids = [i for i in params.get("id", "").split(",") if i]
            return self._list(resource, ids)
        return httpx.Response(404, json={"error": {"code": 404, "message": "Not Found"}})

    def _search(self, params: httpx.QueryParams) -> httpx.Response:
        after = timestamp(params.get("publishedAfter")) or 0.0
        found = []
        for video_id, video in self.data["videos"].items():
            stats = self._stats(video_id)
            published = timestamp(video["resource"]["snippet"]["publishedAt"]) or 0.0
            if (
                video["region"] == params.get("regionCode")
                and params.get("q") in video["queries"]
                and stats is not None
                and after <= published <= self.at
            ):
                views = int(stats["viewCount"]) if stats["viewCount"].isdigit() else 0
                found.append((-views, video_id))
        ordered = [v for _, v in sorted(found)]
        size = int(params.get("maxResults", "5"))
        start = _offset(params.get("pageToken"))
        page = ordered[start : start + size]
        body: dict[str, Any] = {
            "kind": "youtube#searchListResponse",
            "etag": "SAMPLE-DATA",
            "regionCode": params.get("regionCode"),
            "pageInfo": {"totalResults": len(ordered), "resultsPerPage": size},
            "items": [
                {
                    "kind": "youtube#searchResult",
                    "etag": "SAMPLE-DATA",
                    "id": {"kind": "youtube#video", "videoId": v},
                }
                for v in page
            ],
        }
        if start + size < len(ordered):
            body["nextPageToken"] = _page_token(start + size)
        return httpx.Response(200, json=body)

    def _list(self, resource: str, ids: list[str]) -> httpx.Response:
        items = []
        for i in ids:
            if resource == "channels":
                if i in self.data["channels"]:
                    items.append(self.data["channels"][i])
                continue
            stats = self._stats(i)
            if stats is not None:
                items.append({**self.data["videos"][i]["resource"], "statistics": stats})
        kind = f"youtube#{resource[:-1]}ListResponse"
        return httpx.Response(
            200,
            json={
                "kind": kind,
                "etag": "SAMPLE-DATA",
                "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)},
                "items": items,
            },
        )


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
        fake = SampleYouTube(data, n)
        client = YouTubeClient(httpx.Client(transport=httpx.MockTransport(fake)), SAMPLE_KEY)
        collector = collector_for(client, trends, settings, topics=data["topics"], account=account)
        for region in data["regions"]:
            summary = collect_region(collector, claims, region, fake.at, claimant)
            summaries.append(summary)
            if on_summary is not None:
                on_summary(summary)
    last = timestamp(data["rounds"][-1])
    assert last is not None
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
