"""The YouTube stand-in (``shared.trends.standin``) for tests: resources shaped as the API
reference documents them, the documented chart and search semantics, plus errors injected
per call (``errors``) and checks on what the client sends (the key in the header, never in
the URL; GET only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from shared.trends.standin import YouTubeStandIn, google_error
from shared.trends.youtube import YouTubeClient

KEY = "test-youtube-key"
__all__ = ["KEY", "FakeYouTube", "channel", "google_error", "iso", "quota_exceeded", "video"]


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
    blocked: list[str] | None = None,
    language: str = "",
) -> dict[str, Any]:
    """A ``youtube#video`` resource (snippet, statistics, contentDetails)."""
    details: dict[str, Any] = {"duration": duration, "dimension": "2d", "definition": "hd"}
    if blocked:
        details["regionRestriction"] = {"blocked": blocked}
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
            **({"defaultAudioLanguage": language} if language else {}),
        },
        "contentDetails": details,
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
    """A ``youtube#channel`` resource (snippet, statistics)."""
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


def quota_exceeded() -> httpx.Response:
    return google_error(
        403,
        "quotaExceeded",
        'The request cannot be completed because you have exceeded your <a href="/youtube/v3/'
        'getting-started#quota">quota</a>.',
        "youtube.quota",
    )


@dataclass
class FakeYouTube(YouTubeStandIn):
    errors: dict[tuple[str, int], httpx.Response] = field(default_factory=dict)
    """(resource, n-th call of it, from 1) → the response to give instead."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.method == "GET"
        assert request.url.path.startswith("/youtube/v3/"), request.url
        assert request.headers["x-goog-api-key"] == KEY
        assert "key" not in request.url.params  # never in the URL
        resource = request.url.path.rsplit("/", 1)[-1]
        injected = self.errors.get((resource, self.counts[resource] + 1))
        if injected is not None:
            self.requests.append(request)
            self.counts[resource] += 1
            return injected
        return super().__call__(request)

    def client(self) -> YouTubeClient:
        return YouTubeClient(httpx.Client(transport=httpx.MockTransport(self)), KEY)

    def of(self, resource: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path.endswith("/" + resource)]
