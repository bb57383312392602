"""Scoring videos honestly: growth against the decay a Short is expected to follow, and the
channel outlier against the channel's own recent Shorts.

**Measured points.** A video's points are its publication (0 views) and its snapshots, thinned
so that consecutive points are at least ``min_gap_s`` apart (walking back from the latest;
the publication point only when the first kept snapshot is that far from it). Rates over
shorter gaps are mostly noise. Fewer than two intervals: the video is ``new`` — its growth is
unknown and it is never called rising.

**Expected decay.** A Short gets most of its views early. The model: the share of its
lifetime views reached by age *a* is ``1 − exp(−a / τ)`` (``DECAY_TAU_H`` = 24 h, an
assumption stated in docs/trends.md), so the expected views per hour fall as ``exp(−a / τ)``.
For the two latest intervals, **growth** is the observed ratio of their views per hour, and
**vs expected** divides it by the ratio the curve predicts for those ages: 1 is a normal
decay, not a fall. Labels: ``rising`` from ``RISING`` (1.5×), ``fading`` at ``FADING``
(1/1.5) or below, ``steady`` between.

**Outlier.** A video's age-adjusted views (views ÷ the share the curve expects by its age,
at least 10 %) against the median of the same for its channel's other recent Shorts
(``ChannelBaseline``, at least ``MIN_BASELINE`` of them); None without a baseline.

The score rewards what is rising now, not what is big::

    score = log10(1 + views/h now)
          + GROWTH_WEIGHT  · log10(vs expected, clamped to [0.1, 10]; 1 when unknown)
          + OUTLIER_WEIGHT · log10(outlier,     clamped to [0.1, 100]; 1 when unknown)
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise

from shared.trends.models import ChannelBaseline, Snapshot, TrendStatus, VideoInfo

DECAY_TAU_H = 24.0
RISING = 1.5
FADING = 1 / 1.5
GROWTH_WEIGHT = 2.0
OUTLIER_WEIGHT = 0.5
MIN_BASELINE = 3
MIN_SHARE = 0.1
DEFAULT_MIN_GAP_S = 2 * 3600.0
_HOUR = 3600.0


@dataclass(frozen=True)
class VideoScore:
    video_id: str
    views: int
    velocity: float
    """Views per hour since publication."""
    recent_velocity: float
    """Views per hour in the latest interval (0 when there is none)."""
    previous_velocity: float | None
    """… in the interval before (None: fewer than two intervals)."""
    expected_ratio: float | None
    """recent / previous views per hour that the decay curve expects at these ages."""
    acceleration: float
    outlier: float | None
    score: float
    age_h: float
    window: tuple[float, float] | None = None
    """(start of the interval before, end of the latest)."""
    series: tuple[tuple[float, float], ...] = ()
    """(end of interval, views per hour) between consecutive measured points."""

    @property
    def growth(self) -> float | None:
        """Views per hour now against the interval before (1 view an hour smoothing)."""
        if self.previous_velocity is None:
            return None
        return (self.recent_velocity + 1) / (self.previous_velocity + 1)

    @property
    def vs_expected(self) -> float | None:
        growth = self.growth
        if growth is None or self.expected_ratio is None:
            return None
        return growth / self.expected_ratio

    @property
    def status(self) -> TrendStatus:
        return status_of(self.vs_expected)


def status_of(vs_expected: float | None) -> TrendStatus:
    if vs_expected is None:
        return "new"
    if vs_expected >= RISING:
        return "rising"
    if vs_expected <= FADING:
        return "fading"
    return "steady"


def _clamp(value: float, low: float, high: float) -> float:
    return min(high, max(low, value))


def lifetime_share(age_h: float, tau_h: float = DECAY_TAU_H) -> float:
    """The share of its lifetime views the curve expects a Short to have at ``age_h``."""
    return 1.0 - math.exp(-max(0.0, age_h) / tau_h)


def expected_rate(a0_h: float, a1_h: float, tau_h: float = DECAY_TAU_H) -> float:
    """Expected share of lifetime views per hour between two ages."""
    if a1_h <= a0_h:
        return 0.0
    return (lifetime_share(a1_h, tau_h) - lifetime_share(a0_h, tau_h)) / (a1_h - a0_h)


def measured_points(
    snaps: list[Snapshot], published_at: float, min_gap_s: float
) -> list[tuple[float, float]]:
    """(time, views) at least ``min_gap_s`` apart, oldest first (see the module doc)."""
    kept: list[tuple[float, float]] = []
    for s in reversed(snaps):
        if not kept or kept[-1][0] - s.at >= min_gap_s:
            kept.append((s.at, float(s.views)))
    kept.reverse()
    if kept and kept[0][0] - published_at >= min_gap_s:
        kept.insert(0, (published_at, 0.0))
    return kept


def _rate(a: tuple[float, float], b: tuple[float, float]) -> float:
    hours = (b[0] - a[0]) / _HOUR
    return max(0.0, (b[1] - a[1]) / hours) if hours > 0 else 0.0


def age_adjusted(views: float, age_h: float, tau_h: float = DECAY_TAU_H) -> float:
    """Views projected to a lifetime by the curve (the share at least ``MIN_SHARE``)."""
    return views / max(lifetime_share(age_h, tau_h), MIN_SHARE)


def outlier_of(
    video_id: str, views: int, age_h: float, baseline: ChannelBaseline | None
) -> float | None:
    """Age-adjusted views against the median of the channel's other recent Shorts."""
    if baseline is None:
        return None
    others = [v for vid, v in baseline.samples if vid != video_id and v > 0]
    if len(others) < MIN_BASELINE:
        return None
    return age_adjusted(views, age_h) / statistics.median(others)


def score_video(
    video: VideoInfo,
    snaps: list[Snapshot],
    *,
    baseline: ChannelBaseline | None = None,
    min_gap_s: float = DEFAULT_MIN_GAP_S,
    tau_h: float = DECAY_TAU_H,
) -> VideoScore:
    """Score one video from its snapshots (at least one, oldest first)."""
    last = snaps[-1]
    age_h = max((last.at - video.published_at) / _HOUR, 0.0)
    velocity = last.views / max(age_h, 1.0)
    points = measured_points(snaps, video.published_at, min_gap_s)
    rates = [(b[0], _rate(a, b)) for a, b in pairwise(points)]
    recent = rates[-1][1] if rates else 0.0
    previous: float | None = None
    expected: float | None = None
    acceleration = 0.0
    window: tuple[float, float] | None = None
    if len(points) >= 3:
        p0, p1, p2 = points[-3:]
        previous = rates[-2][1]
        ages = [(t - video.published_at) / _HOUR for t, _ in (p0, p1, p2)]
        before, now = expected_rate(ages[0], ages[1], tau_h), expected_rate(ages[1], ages[2], tau_h)
        expected = now / before if before > 0 else None
        span_h = ((p2[0] + p1[0]) / 2 - (p1[0] + p0[0]) / 2) / _HOUR
        acceleration = (recent - previous) / max(span_h, 1e-9)
        window = (p0[0], p2[0])
    outlier = outlier_of(video.video_id, last.views, age_h, baseline)
    partial = VideoScore(
        video.video_id,
        last.views,
        velocity,
        recent,
        previous,
        expected,
        acceleration,
        outlier,
        0.0,
        age_h,
        window,
        tuple(rates),
    )
    vs = partial.vs_expected
    score = (
        math.log10(1 + recent)
        + GROWTH_WEIGHT * math.log10(_clamp(vs if vs is not None else 1.0, 0.1, 10))
        + OUTLIER_WEIGHT * math.log10(_clamp(outlier if outlier is not None else 1.0, 0.1, 100))
    )
    return VideoScore(
        video.video_id,
        last.views,
        velocity,
        recent,
        previous,
        expected,
        acceleration,
        outlier,
        score,
        age_h,
        window,
        tuple(rates),
    )


def by_video(snapshots: list[Snapshot]) -> dict[str, list[Snapshot]]:
    """Snapshots grouped per video, oldest first."""
    out: dict[str, list[Snapshot]] = {}
    for s in sorted(snapshots, key=lambda s: (s.video_id, s.at)):
        out.setdefault(s.video_id, []).append(s)
    return out


def score_videos(
    videos: Mapping[str, VideoInfo],
    series: Mapping[str, list[Snapshot]],
    baselines: Mapping[str, ChannelBaseline] | None = None,
    *,
    min_gap_s: float = DEFAULT_MIN_GAP_S,
) -> list[VideoScore]:
    """Every video with snapshots and known details, best first."""
    known = baselines or {}
    scores = [
        score_video(videos[v], snaps, baseline=known.get(videos[v].channel_id), min_gap_s=min_gap_s)
        for v, snaps in series.items()
        if v in videos and snaps
    ]
    return sorted(scores, key=lambda s: (-s.score, s.video_id))
