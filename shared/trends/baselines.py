"""Channel baselines: what a channel's recent Shorts usually reach, for the outlier score.

A channel's uploads playlist (``channels.list`` → ``contentDetails.relatedPlaylists.uploads``)
lists its newest uploads; ``playlistItems.list`` (1 unit) gives up to 50 of them and one
``videos.list`` (1 unit) measures them. The Shorts among them published within
``RECENT_DAYS`` become the samples: each one's views divided by the share of its lifetime
views the decay curve expects at its age (``scoring.age_adjusted``). A baseline is kept for
``TALE_TRENDS_BASELINE_HOURS`` and refreshed after; at most
``TALE_TRENDS_BASELINE_CHANNELS`` channels are sized per collection, those of the videos
gaining fastest first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from shared.trends.models import ChannelBaseline, VideoInfo
from shared.trends.parse import ParsedVideos
from shared.trends.scoring import age_adjusted

RECENT_DAYS = 60


def to_size(
    videos: Iterable[VideoInfo],
    pace: Mapping[str, float],
    stored: Mapping[str, ChannelBaseline],
    *,
    at: float,
    max_age_h: int,
    limit: int,
) -> list[str]:
    """Channels whose baseline is missing or older than ``max_age_h``, fastest first (by
    their fastest video's views per hour since publication, ``pace``)."""
    best: dict[str, float] = {}
    for video in videos:
        rate = pace.get(video.video_id, 0.0)
        best[video.channel_id] = max(best.get(video.channel_id, 0.0), rate)
    stale = [c for c in best if c not in stored or at - stored[c].at > max_age_h * 3600]
    return sorted(stale, key=lambda c: (-best[c], c))[:limit]


def baseline(channel_id: str, parsed: ParsedVideos, at: float) -> ChannelBaseline:
    """The channel's baseline from its measured uploads (only Shorts reach ``parsed``)."""
    views = {s.video_id: s.views for s in parsed.snapshots}
    samples = tuple(
        (v.video_id, round(age_adjusted(views[v.video_id], (at - v.published_at) / 3600), 1))
        for v in parsed.videos
        if v.channel_id == channel_id
        and v.video_id in views
        and at - v.published_at <= RECENT_DAYS * 86400
    )
    return ChannelBaseline(channel_id, at, samples)
