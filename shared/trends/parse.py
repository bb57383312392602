"""YouTube Data API resources into trend records, counting what cannot be used.

Counts are strings in the API (``"viewCount": "12345"``). What is skipped, and counted:

- ``malformed``: an item without the fields the API documents (an id, a snippet with a title,
  channel and publication time) or with a count that is not a number;
- ``no_statistics``: a video whose statistics or view count are missing (hidden or not yet
  computed) — without views there is nothing to score;
- ``not_short``: longer than three minutes (``videoDuration=short`` lets up to four through);
- ``deleted``: asked for by id and not returned (deleted or made private between snapshots).

A hidden like count (``likeCount`` absent) is noted as ``hidden_likes`` and the video is kept:
scoring uses views only, so the snapshot stays useful with ``likes = None``.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.trends.models import Snapshot, VideoInfo

SHORTS_MAX_S = 180
_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


@dataclass(frozen=True)
class ChannelStats:
    channel_id: str
    subscribers: int | None
    views: int | None
    videos: int | None


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
    if seconds is not None and seconds > SHORTS_MAX_S:
        parsed.skipped["not_short"] += 1
        return
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
        )
    )
    parsed.snapshots.append(Snapshot(region, item["id"], at, views, likes, comments))


def parse_videos(
    body: dict[str, Any], requested: list[str], region: str, at: float
) -> ParsedVideos:
    """A ``videos.list`` answer for ``requested`` ids: the usable videos, their snapshots at
    ``at``, and the skip counts (ids not returned count as ``deleted``)."""
    parsed = ParsedVideos()
    returned: set[str] = set()
    for item in body.get("items") or []:
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            returned.add(item["id"])
        _video(item, region, at, parsed)
    deleted = len(set(requested) - returned)
    if deleted:
        parsed.skipped["deleted"] += deleted
    return parsed


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
        found[item["id"]] = ChannelStats(
            item["id"],
            None if hidden else count(stats.get("subscriberCount")),
            count(stats.get("viewCount")),
            count(stats.get("videoCount")),
        )
    return found, malformed
