"""A stand-in for the YouTube Data API v3 behind ``httpx.MockTransport``.

It answers ``GET …/youtube/v3/search``, ``…/videos`` and ``…/channels`` with bodies shaped as
the API reference documents them (``youtube#searchListResponse`` pages linked by
``nextPageToken``, ``youtube#video`` and ``youtube#channel`` resources whose counts are
strings, ``pageInfo``) and errors as Google APIs send them
(``{"error": {"code", "message", "errors": [{"domain", "reason", "message"}]}}``). It records
every request, so tests see what the real client sends and how many calls it made.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from shared.trends.youtube import YouTubeClient

KEY = "test-youtube-key"


def iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def video(
    video_id: str,
    title: str,
    channel: str,
    published: float,
    views: int | None,
    *,
    likes: int | None = 0,
    tags: list[str] | None = None,
    duration: str = "PT45S",
    statistics: bool = True,
) -> dict[str, Any]:
    """A ``youtube#video`` resource (part=snippet,statistics,contentDetails)."""
    resource: dict[str, Any] = {
        "kind": "youtube#video",
        "etag": f"etag-{video_id}",
        "id": video_id,
        "snippet": {
            "publishedAt": iso(published),
            "channelId": channel,
            "title": title,
            "description": "",
            "thumbnails": {"default": {"url": "https://i.ytimg.com/vi/x/default.jpg"}},
            "channelTitle": f"channel {channel[-4:]}",
            "categoryId": "22",
            "liveBroadcastContent": "none",
            **({"tags": tags} if tags else {}),
        },
        "contentDetails": {"duration": duration, "dimension": "2d", "definition": "hd"},
    }
    if statistics:
        stats: dict[str, str] = {"favoriteCount": "0", "commentCount": "3"}
        if views is not None:
            stats["viewCount"] = str(views)
        if likes is not None:
            stats["likeCount"] = str(likes)
        resource["statistics"] = stats
    return resource


def channel(
    channel_id: str, subscribers: int, views: int, videos: int, *, hidden: bool = False
) -> dict[str, Any]:
    """A ``youtube#channel`` resource (part=snippet,statistics)."""
    stats: dict[str, Any] = {
        "viewCount": str(views),
        "hiddenSubscriberCount": hidden,
        "videoCount": str(videos),
    }
    if not hidden:
        stats["subscriberCount"] = str(subscribers)
    return {
        "kind": "youtube#channel",
        "etag": f"etag-{channel_id}",
        "id": channel_id,
        "snippet": {"title": f"channel {channel_id[-4:]}", "description": ""},
        "statistics": stats,
    }


def google_error(
    code: int, reason: str, message: str, domain: str = "youtube.quota"
) -> httpx.Response:
    return httpx.Response(
        code,
        json={
            "error": {
                "code": code,
                "message": message,
                "errors": [{"message": message, "domain": domain, "reason": reason}],
            }
        },
    )


def quota_exceeded() -> httpx.Response:
    return google_error(
        403,
        "quotaExceeded",
        'The request cannot be completed because you have exceeded your <a href="/youtube/v3/'
        'getting-started#quota">quota</a>.',
    )


@dataclass
class FakeYouTube:
    pages: dict[tuple[str, str], list[list[str]]] = field(default_factory=dict)
    """(region, query) → pages of video ids."""
    videos: dict[str, dict[str, Any]] = field(default_factory=dict)
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: dict[tuple[str, int], httpx.Response] = field(default_factory=dict)
    """(resource, n-th call of it, from 1) → the response to give instead."""
    requests: list[httpx.Request] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.method == "GET"
        assert request.url.path.startswith("/youtube/v3/"), request.url
        assert request.headers["x-goog-api-key"] == KEY
        assert "key" not in request.url.params  # never in the URL
        self.requests.append(request)
        resource = request.url.path.rsplit("/", 1)[-1]
        self.counts[resource] += 1
        injected = self.errors.get((resource, self.counts[resource]))
        if injected is not None:
            return injected
        params = request.url.params
        if resource == "search":
            return self._search(params)
        ids = params["id"].split(",")
        assert len(ids) <= 50
        source = self.videos if resource == "videos" else self.channels
        items = [source[i] for i in ids if i in source]
        kind = (
            "youtube#videoListResponse" if resource == "videos" else "youtube#channelListResponse"
        )
        return httpx.Response(
            200,
            json={
                "kind": kind,
                "etag": "list-etag",
                "items": items,
                "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)},
            },
        )

    def _search(self, params: httpx.QueryParams) -> httpx.Response:
        assert params["part"] == "id" and params["type"] == "video"
        assert params["videoDuration"] == "short" and params["order"] == "viewCount"
        pages = self.pages.get((params["regionCode"], params["q"]), [[]])
        token = params.get("pageToken")
        index = int(token.removeprefix("page-")) if token else 0
        body: dict[str, Any] = {
            "kind": "youtube#searchListResponse",
            "etag": "search-etag",
            "regionCode": params["regionCode"],
            "pageInfo": {"totalResults": sum(map(len, pages)), "resultsPerPage": 50},
            "items": [
                {
                    "kind": "youtube#searchResult",
                    "etag": f"etag-{v}",
                    "id": {"kind": "youtube#video", "videoId": v},
                }
                for v in pages[index]
            ],
        }
        if index + 1 < len(pages):
            body["nextPageToken"] = f"page-{index + 1}"
        return httpx.Response(200, json=body)

    def client(self) -> YouTubeClient:
        return YouTubeClient(httpx.Client(transport=httpx.MockTransport(self)), KEY)

    def of(self, resource: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path.endswith("/" + resource)]
