"""The YouTube Data API v3 over httpx: ``videos.list`` (a region's chart, or videos by id),
``search.list``, ``channels.list`` and ``playlistItems.list``.

What each request means, from the API reference (checked 2026-12-01):

- ``videos.list`` takes exactly one filter: ``chart=mostPopular`` returns "the most popular
  videos for the specified content region and video category" (``regionCode``,
  ``videoCategoryId``), paged by ``pageToken``; ``id`` returns the videos asked for
  (``maxResults`` is "not supported for use in conjunction with the id parameter", so it is
  not sent). A category without a chart in a region answers 400 ``videoChartNotFound``.
  ``part=player`` with ``maxHeight`` adds ``player.embedWidth``/``embedHeight`` when "the
  video's aspect ratio is known" — how a Short (square or vertical) is told apart.
- ``search.list`` with ``regionCode`` returns "videos that can be viewed in the specified
  country" — not what is popular there; ``relevanceLanguage`` prefers results "most relevant
  to the specified language"; ``publishedAfter`` keeps resources created at or after an
  RFC 3339 time; ``videoDuration=short`` is "less than four minutes" and needs
  ``type=video``.
- ``channels.list`` with ``contentDetails`` names each channel's uploads playlist
  (``relatedPlaylists.uploads``), which ``playlistItems.list`` pages through, newest first.

The API key goes in the ``X-Goog-Api-Key`` header (Google APIs accept it there as well as in
the ``key`` parameter), so it never appears in a URL or an access log. The client sends one
request per call and says what an error means; it neither retries nor counts quota — the
collector charges each call to the ``QuotaPlanner`` before calling, because a failed request
is still billed.

Errors, as Google documents them (``{"error": {"code", "message", "errors": [{"domain",
"reason", "message"}]}}``):

- 403 with reason ``quotaExceeded`` or ``dailyLimitExceeded``: ``QuotaExceededError`` — no
  call can succeed before the quota resets;
- 429, 5xx, 403 ``rateLimitExceeded`` / ``userRateLimitExceeded``, timeouts and connection
  failures: ``TransientError`` (later may work);
- 400 ``videoChartNotFound``: ``ChartNotFound`` (that chart only: the collector skips it);
- 404 ``playlistNotFound``: ``PlaylistNotFound`` (a channel without a public uploads list);
- any other 4xx (a bad key, a bad parameter): ``YouTubeApiError``, a ``PermanentError``;
- a 2xx whose body is not a JSON object: ``MalformedResponse`` (the collector skips it).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import httpx

from shared.domain.errors import PermanentError, TransientError

API_BASE = "https://www.googleapis.com/youtube/v3"
#: The host the client talks to (scenario B's egress guard must allow it).
YOUTUBE_HOST = "www.googleapis.com"
QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded"})
_RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})


class QuotaExceededError(RuntimeError):
    """403 ``quotaExceeded``: the project's daily quota is spent."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason


class YouTubeApiError(PermanentError):
    """A request the API refused for a reason retrying cannot fix."""


class ChartNotFound(RuntimeError):
    """400 ``videoChartNotFound``: no chart for that category in that region."""


class PlaylistNotFound(RuntimeError):
    """404 ``playlistNotFound``."""


class MalformedResponse(ValueError):
    """A successful status whose body is not what the API documents."""


def rfc3339(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _error_details(response: httpx.Response) -> tuple[str, str]:
    """(first reason, message) of a Google API error body; ("", text) when it is not one."""
    try:
        body = response.json()
    except ValueError:
        return "", response.text[:200]
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return "", response.text[:200]
    errors = error.get("errors")
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    return str(first.get("reason") or ""), str(error.get("message") or first.get("message") or "")


#: Parts of a video resource the scout reads (``player`` for the aspect ratio).
VIDEO_PARTS = "snippet,statistics,contentDetails,player"
#: ``maxHeight`` for ``player``: any value makes the API return the player's size when it
#: knows the aspect ratio (72 to 8192).
PLAYER_MAX_HEIGHT = 720


class YouTubeClient:
    def __init__(self, http: httpx.Client, api_key: str, base_url: str = API_BASE) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self._headers = {"X-Goog-Api-Key": api_key, "Accept": "application/json"}

    def chart(
        self,
        *,
        region: str,
        category: str = "",
        page_token: str | None = None,
        page_size: int = 50,
    ) -> dict[str, Any]:
        """One page of the region's most popular videos (of one category, or of all)."""
        params: dict[str, str | int] = {
            "part": VIDEO_PARTS,
            "chart": "mostPopular",
            "regionCode": region,
            "maxResults": page_size,
            "maxHeight": PLAYER_MAX_HEIGHT,
        }
        if category:
            params["videoCategoryId"] = category
        if page_token:
            params["pageToken"] = page_token
        return self._get("videos", params)

    def search(
        self,
        *,
        region: str,
        query: str,
        published_after: float,
        language: str = "",
        order: str = "relevance",
        page_token: str | None = None,
        page_size: int = 50,
    ) -> dict[str, Any]:
        """One page of short videos for ``query`` published since ``published_after`` that
        can be viewed in ``region``, relevant to ``language`` first."""
        params: dict[str, str | int] = {
            "part": "id",
            "type": "video",
            "videoDuration": "short",
            "order": order,
            "regionCode": region,
            "q": query,
            "publishedAfter": rfc3339(published_after),
            "maxResults": page_size,
        }
        if language:
            params["relevanceLanguage"] = language
        if page_token:
            params["pageToken"] = page_token
        return self._get("search", params)

    def videos(self, ids: Sequence[str]) -> dict[str, Any]:
        """Snippet, statistics, content details and player size of up to 50 videos."""
        return self._get(
            "videos",
            {"part": VIDEO_PARTS, "id": ",".join(ids), "maxHeight": PLAYER_MAX_HEIGHT},
        )

    def channels(self, ids: Sequence[str]) -> dict[str, Any]:
        """Snippet, statistics and uploads playlist of up to 50 channels."""
        return self._get(
            "channels",
            {"part": "snippet,statistics,contentDetails", "id": ",".join(ids), "maxResults": 50},
        )

    def playlist_items(self, playlist_id: str, page_size: int = 50) -> dict[str, Any]:
        """The newest ``page_size`` items of a playlist (a channel's uploads)."""
        return self._get(
            "playlistItems",
            {"part": "contentDetails", "playlistId": playlist_id, "maxResults": page_size},
        )

    def _get(self, resource: str, params: dict[str, str | int]) -> dict[str, Any]:
        try:
            response = self.http.get(
                f"{self.base_url}/{resource}", params=params, headers=self._headers
            )
        except httpx.TimeoutException as exc:
            raise TransientError(f"YouTube {resource}.list timed out") from exc
        except httpx.TransportError as exc:
            raise TransientError(f"YouTube {resource}.list unreachable: {exc}") from exc
        status = response.status_code
        if status >= 400:
            reason, message = _error_details(response)
            if status == 403 and reason in QUOTA_REASONS:
                raise QuotaExceededError(reason, message)
            if status == 429 or status >= 500 or reason in _RATE_REASONS:
                raise TransientError(f"YouTube {resource}.list: {status} {reason} {message}")
            if reason == "videoChartNotFound":
                raise ChartNotFound(f"{params.get('regionCode')}/{params.get('videoCategoryId')}")
            if reason == "playlistNotFound":
                raise PlaylistNotFound(str(params.get("playlistId")))
            raise YouTubeApiError(f"YouTube {resource}.list refused ({status} {reason}): {message}")
        try:
            body = response.json()
        except ValueError as exc:
            raise MalformedResponse(f"{resource}.list: the body is not JSON") from exc
        if not isinstance(body, dict) or not isinstance(body.get("items", []), list):
            raise MalformedResponse(f"{resource}.list: not a list response")
        return body
