"""YouTube Data API resources into trend records, counting what cannot be used.

Counts are strings in the API (``"viewCount": "12345"``). What is skipped, and counted:

- ``malformed``: an item without the fields the API documents (an id, a snippet with a title,
  channel and publication time) or with a count that is not a number;
- ``no_statistics``: a video whose statistics or view count are missing (hidden or not yet
  computed) — without views there is nothing to score;
- ``not_short``: not a Short (see ``is_short``);
- ``deleted``: asked for by id and not returned (deleted or made private between snapshots).

A hidden like count (``likeCount`` absent) is noted as ``hidden_likes`` and the video is kept:
scoring uses views only, so the snapshot stays useful with ``likes = None``. A video whose
aspect ratio the API does not know is kept on its duration alone and noted as
``shape_unknown``.

**What a Short is.** The API has no Shorts flag. YouTube's help ("Understand three-minute
YouTube Shorts", support.google.com/youtube/answer/15424877, checked 2026-12-01): videos
uploaded on or after 15 October 2024 "with a square or vertical aspect ratio up to three
minutes in length" are Shorts; before that date the limit was 60 seconds. So a Short here is
a video with a duration (``contentDetails.duration``) above zero and up to 180 s (60 s when
published before 2024-10-15), whose player is not wider than tall
(``player.embedWidth`` ≤ ``embedHeight``) when the API knows its aspect ratio.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.trends.models import Snapshot, VideoInfo

SHORTS_MAX_S = 180
SHORTS_MAX_S_BEFORE = 60
#: From this upload time on, Shorts may be up to three minutes long (00:00 UTC; the help page
#: gives only the date).
LONGER_SHORTS_FROM = 1_728_950_400.0  # 2024-10-15T00:00:00Z
_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


@dataclass(frozen=True)
class ChannelStats:
    channel_id: str
    subscribers: int | None
    views: int | None
    videos: int | None
    uploads: str = ""
    """Its uploads playlist (``contentDetails.relatedPlaylists.uploads``)."""


@dataclass
class ParsedVideos:
    videos: list[VideoInfo] = field(default_factory=list)
    snapshots: list[Snapshot] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)


def duration_s(iso: str) -> int | None:
    """Seconds of an ISO 8601 duration as the API writes them (``PT1M5S``), else None."""
    found = _DURATION.match(iso or "")
    if not found or iso in ("P", "PT"):
        return None
    d, h, m, s = (int(g) if g else 0 for g in found.groups())
    return ((d * 24 + h) * 60 + m) * 60 + s


def aspect_of(item: dict[str, Any]) -> float | None:
    """Width / height of the video's player, when the API returned its size."""
    player = item.get("player")
    if not isinstance(player, dict):
        return None
    width, height = count(player.get("embedWidth")), count(player.get("embedHeight"))
    return width / height if width and height else None


def is_short(seconds: int | None, aspect: float | None, published: float) -> bool:
    """A Short by YouTube's rule (see the module doc)."""
    limit = SHORTS_MAX_S if published >= LONGER_SHORTS_FROM else SHORTS_MAX_S_BEFORE
    if seconds is None or not 0 < seconds <= limit:
        return False
    return aspect is None or aspect <= 1.0


def timestamp(text: Any) -> float | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def count(value: Any) -> int | None:
    """A count as the API writes it (a string of digits); None when absent or not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def search_ids(body: dict[str, Any]) -> tuple[list[str], int]:
    """Video ids of a ``search.list`` page, in order, and how many items were malformed."""
    ids: list[str] = []
    malformed = 0
    for item in body.get("items") or []:
        ident = item.get("id") if isinstance(item, dict) else None
        video_id = ident.get("videoId") if isinstance(ident, dict) else None
        if isinstance(video_id, str) and video_id:
            if video_id not in ids:
                ids.append(video_id)
        else:
            malformed += 1
    return ids, malformed


def _video(item: Any, region: str, at: float, parsed: ParsedVideos) -> None:
    if not isinstance(item, dict) or not isinstance(item.get("id"), str):
        parsed.skipped["malformed"] += 1
        return
    snippet = item.get("snippet")
    published = timestamp(snippet.get("publishedAt")) if isinstance(snippet, dict) else None
    if (
        not isinstance(snippet, dict)
        or not isinstance(snippet.get("title"), str)
        or not isinstance(snippet.get("channelId"), str)
        or published is None
    ):
        parsed.skipped["malformed"] += 1
        return
    stats = item.get("statistics")
    if not isinstance(stats, dict) or "viewCount" not in stats:
        parsed.skipped["no_statistics"] += 1
        return
    views = count(stats.get("viewCount"))
    likes, comments = count(stats.get("likeCount")), count(stats.get("commentCount"))
    bad_optional = any(
        k in stats and count(stats[k]) is None for k in ("likeCount", "commentCount")
    )
    if views is None or bad_optional:
        parsed.skipped["malformed"] += 1
        return
    details = item.get("contentDetails")
    seconds = duration_s(details.get("duration", "")) if isinstance(details, dict) else None
    aspect = aspect_of(item)
    if not is_short(seconds, aspect, published):
        parsed.skipped["not_short"] += 1
        return
    if aspect is None:
        parsed.skipped["shape_unknown"] += 1
    if "likeCount" not in stats:
        parsed.skipped["hidden_likes"] += 1
    tags = snippet.get("tags")
    parsed.videos.append(
        VideoInfo(
            video_id=item["id"],
            title=snippet["title"],
            channel_id=snippet["channelId"],
            channel_title=str(snippet.get("channelTitle") or ""),
            published_at=published,
            duration_s=seconds,
            tags=tuple(t for t in tags if isinstance(t, str)) if isinstance(tags, list) else (),
            description=str(snippet.get("description") or "")[:500],
            aspect=aspect,
            category_id=str(snippet.get("categoryId") or ""),
        )
    )
    parsed.snapshots.append(Snapshot(region, item["id"], at, views, likes, comments))


def parse_videos(
    body: dict[str, Any], requested: list[str] | None, region: str, at: float
) -> ParsedVideos:
    """A ``videos.list`` answer: the usable videos, their snapshots at ``at``, and the skip
    counts. For ``requested`` ids (not a chart), ids not returned count as ``deleted``."""
    parsed = ParsedVideos()
    returned: set[str] = set()
    for item in body.get("items") or []:
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            returned.add(item["id"])
        _video(item, region, at, parsed)
    deleted = len(set(requested or ()) - returned)
    if deleted:
        parsed.skipped["deleted"] += deleted
    return parsed


def playlist_videos(body: dict[str, Any]) -> list[str]:
    """Video ids of a ``playlistItems.list`` page (``contentDetails.videoId``), in order."""
    ids: list[str] = []
    for item in body.get("items") or []:
        details = item.get("contentDetails") if isinstance(item, dict) else None
        video_id = details.get("videoId") if isinstance(details, dict) else None
        if isinstance(video_id, str) and video_id and video_id not in ids:
            ids.append(video_id)
    return ids


def parse_channels(body: dict[str, Any]) -> tuple[dict[str, ChannelStats], int]:
    """Channel sizes from a ``channels.list`` answer, and how many items were malformed.
    A hidden subscriber count (``hiddenSubscriberCount``) is None."""
    found: dict[str, ChannelStats] = {}
    malformed = 0
    for item in body.get("items") or []:
        stats = item.get("statistics") if isinstance(item, dict) else None
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            malformed += 1
            continue
        stats = stats if isinstance(stats, dict) else {}
        hidden = stats.get("hiddenSubscriberCount") is True
        details = item.get("contentDetails")
        related = details.get("relatedPlaylists") if isinstance(details, dict) else None
        uploads = related.get("uploads") if isinstance(related, dict) else None
        found[item["id"]] = ChannelStats(
            item["id"],
            None if hidden else count(stats.get("subscriberCount")),
            count(stats.get("viewCount")),
            count(stats.get("videoCount")),
            uploads if isinstance(uploads, str) else "",
        )
    return found, malformed
