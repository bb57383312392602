"""From a region's snapshots to its ranked trends (not yet explained).

Only videos measured by the analysed collection take part (one missing from it was deleted,
made private or aged out). Videos are scored (``scoring``), grouped (``grouping``), and each
group becomes a ``Trend`` with what a creator needs to judge it: its status (rising, steady,
fading, new) from its videos' views per hour against the expected decay, the window that
compares, the growth in %, the median age, the number of channels, the videos with links,
and the rise of its label as a hashtag or keyword.

Rank: rising trends first, then steady, new and fading ones — a fading trend is never listed
among the rising — and by score within each: the best video's score, plus
``SIZE_BONUS`` · log2(channels), plus ``RISE_WEIGHT`` · log10(the label's rise, clamped to
[0.5, 10]).
"""

from __future__ import annotations

import hashlib
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from shared.ports.trends import TrendStore
from shared.trends.grouping import Group, group
from shared.trends.keywords import KeywordRise, keyword_rises, terms
from shared.trends.models import Trend, TrendVideo, VideoInfo
from shared.trends.scoring import DEFAULT_MIN_GAP_S, VideoScore, by_video, score_videos, status_of

RISE_WEIGHT = 1.0
STATUS_ORDER = {"rising": 0, "steady": 1, "new": 2, "fading": 3}


@dataclass(frozen=True)
class AnalysisParams:
    window_h: int = 24
    lookback_h: int = 48
    top: int = 10
    sample: bool = False
    min_gap_s: float = DEFAULT_MIN_GAP_S


def search_terms(videos: Iterable[VideoInfo]) -> set[str]:
    """The seed queries the videos were found with, as terms (``x`` and ``#x``): every result
    carries its query, so a query says nothing about which videos belong together."""
    queries = {t.strip().lstrip("#").lower() for v in videos for t in v.topics}
    return queries | {f"#{q}" for q in queries}


def trend_id(region: str, analysis_id: str, label: str, first_video: str) -> str:
    digest = hashlib.sha256(f"{region}|{analysis_id}|{label}|{first_video}".encode()).hexdigest()
    return f"trd-{digest[:16]}"


@dataclass(frozen=True)
class _Measures:
    vs_expected: float | None
    growth_pct: float | None
    window: tuple[float, float] | None
    age_h: float


def _measures(members: tuple[VideoScore, ...]) -> _Measures:
    """The group's views per hour now against the interval before (summed over the videos
    measured twice), raw and against what their ages make expected."""
    grown = [m for m in members if m.previous_velocity is not None and m.expected_ratio]
    age_h = statistics.median(m.age_h for m in members)
    if not grown:
        return _Measures(None, None, None, age_h)
    recent = sum(m.recent_velocity for m in grown)
    previous = sum(m.previous_velocity or 0.0 for m in grown)
    expected = sum((m.previous_velocity or 0.0) * (m.expected_ratio or 0.0) for m in grown)
    windows = [m.window for m in grown if m.window is not None]
    window = (min(w[0] for w in windows), max(w[1] for w in windows)) if windows else None
    return _Measures(
        (recent + 1) / (expected + 1), ((recent + 1) / (previous + 1) - 1) * 100, window, age_h
    )


def _series(g: Group) -> list[tuple[float, float]]:
    summed: dict[float, float] = defaultdict(float)
    for member in g.members:
        for at, rate in member.series:
            summed[at] += rate
    return sorted(summed.items())


def _video(m: VideoScore, info: VideoInfo) -> TrendVideo:
    growth = m.growth
    vs = m.vs_expected
    return TrendVideo(
        video_id=m.video_id,
        title=info.title,
        channel_title=info.channel_title,
        url=info.url,
        views=m.views,
        velocity=round(m.velocity, 2),
        recent_velocity=round(m.recent_velocity, 2),
        acceleration=round(m.acceleration, 2),
        outlier=None if m.outlier is None else round(m.outlier, 3),
        score=round(m.score, 4),
        age_h=round(m.age_h, 1),
        growth_pct=None if growth is None else round((growth - 1) * 100, 1),
        vs_expected=None if vs is None else round(vs, 3),
        status=m.status,
        channel_id=info.channel_id,
        tags=list(info.tags[:8]),
    )


def _trend(
    g: Group,
    videos: dict[str, VideoInfo],
    rises: dict[str, KeywordRise],
    region: str,
    analysis_id: str,
    at: float,
    params: AnalysisParams,
) -> Trend:
    ranked = sorted(g.keywords, key=lambda k: -(rises[k].ratio if k in rises else 0.0))
    keywords = [k for k in ranked if k.startswith("#") or f"#{k}" not in g.keywords]
    infos = [videos[m.video_id] for m in g.members]
    measures = _measures(g.members)
    rise = rises[g.label].ratio if g.label in rises else None
    bonus = RISE_WEIGHT * math.log10(min(10.0, max(0.5, rise))) if rise is not None else 0.0
    return Trend(
        trend_id=trend_id(region, analysis_id, g.label, g.members[0].video_id),
        region=region,
        analysis_id=analysis_id,
        analyzed_at=at,
        rank=0,
        label=g.label,
        keywords=keywords,
        topics=sorted({t for v in infos for t in v.topics}),
        score=round(g.score + bonus, 4),
        videos=[_video(m, videos[m.video_id]) for m in g.members[:10]],
        series=_series(g),
        sample=params.sample,
        status=status_of(measures.vs_expected),
        window=measures.window,
        growth_pct=None if measures.growth_pct is None else round(measures.growth_pct, 1),
        vs_expected=None if measures.vs_expected is None else round(measures.vs_expected, 3),
        age_h=round(measures.age_h, 1),
        channels=g.channels,
        rise=None if rise is None else round(rise, 3),
        niches=sorted({n for v in infos for n in v.niches}),
    )


def compute_trends(
    store: TrendStore, region: str, analysis_id: str, at: float, params: AnalysisParams
) -> list[Trend]:
    """The region's trends from snapshots up to ``at`` (not yet explained), ranked."""
    since = at - max(2 * params.window_h, params.lookback_h) * 3600
    series = {
        v: snaps
        for v, snaps in by_video(store.snapshots(region, since, at)).items()
        if snaps[-1].at >= at - 1
    }
    videos = store.videos(series)
    baselines = store.channel_baselines({v.channel_id for v in videos.values()})
    term_map = {v: terms(info) for v, info in videos.items()}
    queries = search_terms(videos.values())
    scores = score_videos(videos, series, baselines, min_gap_s=params.min_gap_s)
    groups = group(scores, videos, term_map, exclude=queries)
    rises = {r.term: r for r in keyword_rises(videos, series, at, params.window_h, exclude=queries)}
    built = [_trend(g, videos, rises, region, analysis_id, at, params) for g in groups]
    built.sort(key=lambda t: (STATUS_ORDER[t.status], -t.score, t.label))
    return [t.model_copy(update={"rank": n}) for n, t in enumerate(built[: params.top], 1)]
