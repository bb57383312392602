"""A stand-in for the YouTube Data API v3's list endpoints, behind ``httpx.MockTransport``:
the sample replay serves the shipped sample data through it, and the tests serve their own.

It answers as the API reference documents (checked 2026-12-01), so that code which works
against it means the same against YouTube:

- ``videos.list`` needs exactly one filter. ``chart=mostPopular`` returns the chart of the
  ``regionCode`` (and ``videoCategoryId``) — the videos *popular in that region* — paged by
  ``pageToken`` (``maxResults`` 1–50, default 5); a chart it does not have answers 400
  ``videoChartNotFound``. ``id`` returns the videos that exist. Only the requested ``part``\\ s
  come back; ``player`` carries ``embedWidth``/``embedHeight`` only when ``maxHeight`` or
  ``maxWidth`` was sent and the video's size is known.
- ``search.list`` returns the videos matching ``q`` that *can be viewed* in ``regionCode`` (a
  video's ``regionRestriction`` decides, not its home country), published at or after
  ``publishedAfter``, shorter than four minutes with ``videoDuration=short`` — which, like
  ``videoCategoryId``, is refused (400 ``invalidSearchFilter``) without ``type=video``;
  ordered by ``order`` (``relevance``: the index order, videos in ``relevanceLanguage``
  first; ``viewCount``; ``date``).
- ``channels.list`` by id (``contentDetails.relatedPlaylists.uploads`` included);
  ``playlistItems.list`` pages through a channel's uploads, newest first (404
  ``playlistNotFound`` for an unknown playlist).
- A missing ``part`` is refused (400 ``required``). With ``daily_searches`` / ``daily_units``
  set, calls beyond Google's default allocation (100 ``search.list`` calls; 10,000 units for
  the rest) are refused with 403 ``quotaExceeded``, as the quota page describes.
"""

from __future__ import annotations

import base64
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from shared.trends.parse import duration_s, timestamp

_VIDEO_PARTS = ("snippet", "statistics", "contentDetails", "player")


def page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def offset_of(token: str | None) -> int:
    if not token:
        return 0
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    return int(raw.removeprefix("offset:"))


def google_error(code: int, reason: str, message: str, domain: str = "youtube") -> httpx.Response:
    """An error as Google APIs send it."""
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


class Refused(Exception):
    def __init__(self, response: httpx.Response) -> None:
        self.response = response


@dataclass
class YouTubeStandIn:
    videos: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Video id → its ``youtube#video`` resource (``statistics`` included while it has them);
    a video that is not here is deleted or private."""
    sizes: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Video id → its (width, height); absent: the API does not know its aspect ratio."""
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    charts: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    """(region, category or "") → the chart's video ids, most popular first."""
    index: dict[str, list[str]] = field(default_factory=dict)
    """Search query → the video ids it matches, most relevant first."""
    daily_searches: int | None = None
    daily_units: int | None = None
    requests: list[httpx.Request] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        resource = request.url.path.rsplit("/", 1)[-1]
        self.counts[resource] += 1
        try:
            self._charge(resource)
            return self.answer(resource, request.url.params)
        except Refused as refused:
            return refused.response

    def answer(self, resource: str, params: httpx.QueryParams) -> httpx.Response:
        if "part" not in params:
            raise Refused(google_error(400, "required", "Required parameter: part", "global"))
        if resource == "search":
            return self._search(params)
        if resource == "videos":
            return self._videos(params)
        if resource == "channels":
            items = [self._channel(i) for i in _ids(params) if i in self.channels]
            return _list("youtube#channelListResponse", items)
        if resource == "playlistItems":
            return self._playlist(params)
        return google_error(404, "notFound", "Not Found", "global")

    def _charge(self, resource: str) -> None:
        if resource == "search":
            limit, used = self.daily_searches, self.counts["search"]
        else:
            limit, used = self.daily_units, sum(n for r, n in self.counts.items() if r != "search")
        if limit is not None and used > limit:
            raise Refused(
                google_error(403, "quotaExceeded", "You have exceeded your quota.", "youtube.quota")
            )

    # --- search.list --------------------------------------------------------------------------
    def _search(self, params: httpx.QueryParams) -> httpx.Response:
        video_only = ("videoDuration", "videoCategoryId", "videoDefinition", "eventType")
        if any(p in params for p in video_only) and params.get("type") != "video":
            raise Refused(
                google_error(
                    400,
                    "invalidSearchFilter",
                    "The request contains an invalid combination of search filters.",
                )
            )
        region, after = params.get("regionCode"), timestamp(params.get("publishedAfter"))
        found = []
        for rank, video_id in enumerate(self.index.get(params.get("q", ""), [])):
            video = self.videos.get(video_id)
            if video is None or not self._viewable(video, region):
                continue
            published = timestamp(video.get("snippet", {}).get("publishedAt"))
            if after is not None and published is not None and published < after:
                continue
            seconds = duration_s(video.get("contentDetails", {}).get("duration", "")) or 0
            if params.get("videoDuration") == "short" and not seconds < 240:
                continue
            found.append((rank, video_id, video, published or 0.0))
        language = params.get("relevanceLanguage")
        order = params.get("order", "relevance")
        if order == "viewCount":
            found.sort(key=lambda f: -int(f[2].get("statistics", {}).get("viewCount", "0") or 0))
        elif order == "date":
            found.sort(key=lambda f: -f[3])
        elif language:
            found.sort(key=lambda f: (not _speaks(f[2], language), f[0]))
        items = [
            {
                "kind": "youtube#searchResult",
                "etag": f"etag-{v}",
                "id": {"kind": "youtube#video", "videoId": v},
            }
            for _, v, _, _ in found
        ]
        return _paged("youtube#searchListResponse", items, params, {"regionCode": region})

    @staticmethod
    def _viewable(video: dict[str, Any], region: str | None) -> bool:
        restriction = video.get("contentDetails", {}).get("regionRestriction") or {}
        if region and region in restriction.get("blocked", []):
            return False
        allowed = restriction.get("allowed")
        return not (region and allowed is not None and region not in allowed)

    # --- videos.list --------------------------------------------------------------------------
    def _videos(self, params: httpx.QueryParams) -> httpx.Response:
        filters = [p for p in ("chart", "id", "myRating") if p in params]
        if len(filters) != 1:
            raise Refused(
                google_error(
                    400, "badRequest", "Specify exactly one of chart, id and myRating.", "global"
                )
            )
        parts = params["part"].split(",")
        sized = "maxHeight" in params or "maxWidth" in params
        if "id" in params:
            items = [self._video(i, parts, sized) for i in _ids(params) if i in self.videos]
            return _list("youtube#videoListResponse", items)
        key = (params.get("regionCode", "US"), params.get("videoCategoryId", ""))
        if params["chart"] != "mostPopular" or key not in self.charts:
            raise Refused(
                google_error(
                    400,
                    "videoChartNotFound",
                    "The requested video chart is not supported or is not available.",
                )
            )
        items = [self._video(i, parts, sized) for i in self.charts[key] if i in self.videos]
        return _paged("youtube#videoListResponse", items, params)

    def _video(self, video_id: str, parts: list[str], sized: bool) -> dict[str, Any]:
        resource = self.videos[video_id]
        out: dict[str, Any] = {k: resource[k] for k in ("kind", "etag", "id") if k in resource}
        out.update({p: resource[p] for p in parts if p in resource and p != "player"})
        if "player" in parts:
            player: dict[str, Any] = {
                "embedHtml": f'<iframe src="//www.youtube.com/embed/{video_id}"></iframe>'
            }
            if sized and video_id in self.sizes:
                width, height = self.sizes[video_id]
                player.update(embedWidth=str(round(width * 720 / height)), embedHeight="720")
            out["player"] = player
        return out

    # --- channels and their uploads -----------------------------------------------------------
    def _channel(self, channel_id: str) -> dict[str, Any]:
        uploads = "UU" + channel_id[2:]
        return {
            **self.channels[channel_id],
            "contentDetails": {"relatedPlaylists": {"uploads": uploads}},
        }

    def _playlist(self, params: httpx.QueryParams) -> httpx.Response:
        channel = "UC" + params.get("playlistId", "")[2:]
        if channel not in self.channels:
            raise Refused(google_error(404, "playlistNotFound", "Playlist not found."))
        uploads = [
            (timestamp(v["snippet"]["publishedAt"]) or 0.0, v["id"])
            for v in self.videos.values()
            if v["snippet"]["channelId"] == channel
        ]
        items = [
            {
                "kind": "youtube#playlistItem",
                "etag": f"etag-{vid}",
                "id": f"item-{vid}",
                "contentDetails": {
                    "videoId": vid,
                    "videoPublishedAt": self.videos[vid]["snippet"]["publishedAt"],
                },
            }
            for _, vid in sorted(uploads, reverse=True)
        ]
        return _paged("youtube#playlistItemListResponse", items, params)


def _speaks(video: dict[str, Any], language: str) -> bool:
    snippet = video.get("snippet", {})
    spoken = snippet.get("defaultAudioLanguage") or snippet.get("defaultLanguage") or ""
    return str(spoken).split("-")[0] == language


def _ids(params: httpx.QueryParams) -> list[str]:
    ids = [i for i in params.get("id", "").split(",") if i]
    if len(ids) > 50:
        raise Refused(google_error(400, "badRequest", "Too many ids (at most 50).", "global"))
    return ids


def _list(kind: str, items: list[dict[str, Any]]) -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "kind": kind,
            "etag": "stand-in",
            "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)},
            "items": items,
        },
    )


def _paged(
    kind: str,
    items: list[dict[str, Any]],
    params: httpx.QueryParams,
    extra: dict[str, Any] | None = None,
) -> httpx.Response:
    size = int(params.get("maxResults", "5"))
    if not 0 <= size <= 50:
        raise Refused(google_error(400, "invalidValue", "maxResults: 0 to 50.", "global"))
    start = offset_of(params.get("pageToken"))
    body: dict[str, Any] = {
        "kind": kind,
        "etag": "stand-in",
        **(extra or {}),
        "pageInfo": {"totalResults": len(items), "resultsPerPage": size},
        "items": items[start : start + size],
    }
    if start + size < len(items):
        body["nextPageToken"] = page_token(start + size)
    return httpx.Response(200, json=body)
