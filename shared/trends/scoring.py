"""Scoring videos: view velocity, acceleration, and outliers against the channel's size.

Per video, from its snapshots (oldest first):

- **velocity**: views per hour since publication (at the last snapshot; at least one hour);
- **recent velocity**: views per hour between the last two snapshots (the velocity when
  there is only one);
- **previous velocity**: views per hour between the two snapshots before those (with three
  or more), else the velocity since publication up to the second-to-last snapshot;
- **acceleration**: (recent − previous velocity) per hour between the two intervals' ends;
- **growth**: recent / previous velocity (smoothed by one view an hour);
- **outlier**: views against the channel's average views per video (its ``viewCount`` /
  ``videoCount``; the subscriber count when those are missing; 1 when nothing is known).

The score rewards what is rising now, not what is big::

    score = log10(1 + recent velocity)
          + GROWTH_WEIGHT  · log10(growth,  clamped to [0.1, 10])
          + OUTLIER_WEIGHT · log10(outlier, clamped to [0.1, 100])

A large channel's video gaining a steady 800 views an hour (growth 1) scores about 2.9 plus
its outlier term; a small channel's video whose gain went from 500 to 3,000 views an hour
scores 3.5 + 2·0.78 ≈ 5.0 — the accelerating one comes first, as a trend scout should have it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise

from shared.trends.models import Snapshot, VideoInfo

GROWTH_WEIGHT = 2.0
OUTLIER_WEIGHT = 0.5
_HOUR = 3600.0


@dataclass(frozen=True)
class VideoScore:
    video_id: str
    views: int
    velocity: float
    recent_velocity: float
    previous_velocity: float
    acceleration: float
    outlier: float
    score: float
    series: tuple[tuple[float, float], ...] = ()
    """(end of interval, views per hour) between consecutive snapshots."""

    @property
    def growth(self) -> float:
        return (self.recent_velocity + 1) / (self.previous_velocity + 1)


def _clamp(value: float, low: float, high: float) -> float:
    return min(high, max(low, value))


def _rate(a: Snapshot, b: Snapshot) -> float:
    hours = (b.at - a.at) / _HOUR
    return max(0.0, (b.views - a.views) / hours) if hours > 0 else 0.0


def interval_series(snaps: list[Snapshot]) -> tuple[tuple[float, float], ...]:
    return tuple((b.at, _rate(a, b)) for a, b in pairwise(snaps))


def outlier_of(video: VideoInfo, views: int) -> float:
    baseline: float | None = None
    if video.channel_views and video.channel_videos:
        baseline = video.channel_views / video.channel_videos
    elif video.channel_subscribers:
        baseline = float(video.channel_subscribers)
    return views / max(baseline, 1.0) if baseline is not None else 1.0


def score_video(video: VideoInfo, snaps: list[Snapshot]) -> VideoScore:
    """Score one video from its snapshots (at least one, oldest first)."""
    last = snaps[-1]
    velocity = last.views / max((last.at - video.published_at) / _HOUR, 1.0)
    if len(snaps) == 1:
        recent = previous = velocity
        acceleration = 0.0
    else:
        recent = _rate(snaps[-2], snaps[-1])
        if len(snaps) >= 3:
            previous = _rate(snaps[-3], snaps[-2])
            span = (snaps[-1].at - snaps[-2].at + snaps[-2].at - snaps[-3].at) / 2
        else:
            before = snaps[-2]
            previous = before.views / max((before.at - video.published_at) / _HOUR, 1.0)
            span = snaps[-1].at - snaps[-2].at
        acceleration = (recent - previous) / max(span / _HOUR, 1e-9)
    outlier = outlier_of(video, last.views)
    growth = (recent + 1) / (previous + 1)
    score = (
        math.log10(1 + recent)
        + GROWTH_WEIGHT * math.log10(_clamp(growth, 0.1, 10))
        + OUTLIER_WEIGHT * math.log10(_clamp(outlier, 0.1, 100))
    )
    return VideoScore(
        video_id=video.video_id,
        views=last.views,
        velocity=velocity,
        recent_velocity=recent,
        previous_velocity=previous,
        acceleration=acceleration,
        outlier=outlier,
        score=score,
        series=interval_series(snaps),
    )


def by_video(snapshots: list[Snapshot]) -> dict[str, list[Snapshot]]:
    """Snapshots grouped per video, oldest first."""
    out: dict[str, list[Snapshot]] = {}
    for s in sorted(snapshots, key=lambda s: (s.video_id, s.at)):
        out.setdefault(s.video_id, []).append(s)
    return out


def score_videos(
    videos: Mapping[str, VideoInfo], series: Mapping[str, list[Snapshot]]
) -> list[VideoScore]:
    """Every video with snapshots and known details, best first."""
    scores = [score_video(videos[v], snaps) for v, snaps in series.items() if v in videos and snaps]
    return sorted(scores, key=lambda s: (-s.score, s.video_id))
