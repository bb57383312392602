"""One analysis of one region: score the videos, group them into trends, explain and keep.

An analysis is named by the collection it follows (``KR-20250601T0400Z``) and computed only
from snapshots taken up to that collection, so it is reproducible. Running it again (a
redelivered ``trends.collected``) finds the analysis stored with its write-ups and reuses
it: the language model is not asked — nor paid — twice. A write-up the model cannot produce
validly (``PermanentError``) falls back to the offline summary, so one bad answer does not
lose the digest; a transient model error is raised, so the analysis is redelivered later.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import get_args

from schemas.story import Language
from shared.domain.errors import PermanentError
from shared.ports.trends import TrendStore
from shared.trends.explain import OfflineExplainer, TrendExplainer
from shared.trends.grouping import Group, group
from shared.trends.keywords import KeywordRise, keyword_rises, terms
from shared.trends.models import Explanation, Trend, TrendVideo, VideoInfo
from shared.trends.scoring import by_video, score_videos

log = logging.getLogger("tale.trends")

#: Every trend is written up in each of these (the digest and the API pick the reader's).
LANGUAGES: tuple[Language, ...] = get_args(Language)


@dataclass(frozen=True)
class AnalysisParams:
    window_h: int = 24
    lookback_h: int = 48
    top: int = 10
    sample: bool = False


def search_terms(videos: Iterable[VideoInfo]) -> set[str]:
    """The search queries the videos were found with, as terms (``x`` and ``#x``): every
    result carries its query, so a query says nothing about which videos belong together."""
    queries = {t.strip().lstrip("#").lower() for v in videos for t in v.topics}
    return queries | {f"#{q}" for q in queries}


def trend_id(region: str, analysis_id: str, label: str, first_video: str) -> str:
    digest = hashlib.sha256(f"{region}|{analysis_id}|{label}|{first_video}".encode()).hexdigest()
    return f"trd-{digest[:16]}"


def _series(g: Group) -> list[tuple[float, float]]:
    summed: dict[float, float] = defaultdict(float)
    for member in g.members:
        for at, rate in member.series:
            summed[at] += rate
    return sorted(summed.items())


def _trend(
    g: Group,
    rank: int,
    videos: dict[str, VideoInfo],
    rises: dict[str, KeywordRise],
    region: str,
    analysis_id: str,
    at: float,
    params: AnalysisParams,
) -> Trend:
    ranked = sorted(g.keywords, key=lambda k: -(rises[k].ratio if k in rises else 0.0))
    keywords = [k for k in ranked if k.startswith("#") or f"#{k}" not in g.keywords]
    topics = sorted({t for m in g.members for t in videos[m.video_id].topics})
    return Trend(
        trend_id=trend_id(region, analysis_id, g.label, g.members[0].video_id),
        region=region,
        analysis_id=analysis_id,
        analyzed_at=at,
        rank=rank,
        label=g.label,
        keywords=keywords,
        topics=topics,
        score=round(g.score, 4),
        videos=[
            TrendVideo(
                video_id=m.video_id,
                title=videos[m.video_id].title,
                channel_title=videos[m.video_id].channel_title,
                url=videos[m.video_id].url,
                views=m.views,
                velocity=round(m.velocity, 2),
                recent_velocity=round(m.recent_velocity, 2),
                acceleration=round(m.acceleration, 2),
                outlier=round(m.outlier, 3),
                score=round(m.score, 4),
            )
            for m in g.members[:10]
        ],
        series=_series(g),
        sample=params.sample,
    )


def compute_trends(
    store: TrendStore, region: str, analysis_id: str, at: float, params: AnalysisParams
) -> list[Trend]:
    """The region's trends from snapshots up to ``at`` (not yet explained), best first."""
    since = at - max(2 * params.window_h, params.lookback_h) * 3600
    # Only videos measured by this collection: one missing from it was deleted, made
    # private or is no longer tracked, and is no part of what is rising now.
    series = {
        v: snaps
        for v, snaps in by_video(store.snapshots(region, since, at)).items()
        if snaps[-1].at >= at - 1
    }
    videos = store.videos(series)
    term_map = {v: terms(info) for v, info in videos.items()}
    queries = search_terms(videos.values())
    scores = score_videos(videos, series)
    groups = group(scores, videos, term_map, exclude=queries)
    rises = {r.term: r for r in keyword_rises(videos, series, at, params.window_h, exclude=queries)}
    return [
        _trend(g, rank, videos, rises, region, analysis_id, at, params)
        for rank, g in enumerate(groups[: params.top], 1)
    ]


def explain_all(trends: list[Trend], explainer: TrendExplainer) -> list[Trend]:
    """Each trend with a write-up in every language (the offline one where the model could
    not write a valid one)."""
    fallback = OfflineExplainer()
    out: list[Trend] = []
    for trend in trends:
        explanations: list[Explanation] = []
        for language in LANGUAGES:
            try:
                explanations.append(explainer.explain(trend, language))
            except PermanentError as exc:
                log.warning("trend %s (%s): offline summary used: %s", trend.label, language, exc)
                explanations.append(fallback.explain(trend, language))
        out.append(trend.model_copy(update={"explanations": explanations}))
    return out


def analyze(
    store: TrendStore,
    explainer: TrendExplainer,
    region: str,
    analysis_id: str,
    at: float,
    params: AnalysisParams,
) -> list[Trend]:
    """The analysis' trends, explained and stored (or, when stored already, as stored)."""
    stored = store.analysis(analysis_id)
    if stored and all(len(t.explanations) == len(LANGUAGES) for t in stored):
        return stored
    trends = explain_all(compute_trends(store, region, analysis_id, at, params), explainer)
    store.save_analysis(region, analysis_id, at, trends)
    return trends
