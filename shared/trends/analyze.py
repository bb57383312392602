"""One analysis of one region: compute its trends, explain each, keep them.

An analysis is named by the collection it follows (``KR-20250601T0400Z``) and computed only
from snapshots taken up to that collection, so it is reproducible. It is paid for once:

1. The trends are computed and stored (not yet the region's latest) before anything is
   asked of a model.
2. Each write-up is stored as soon as it is produced (``TrendStore.save_trend``). A
   redelivery — after a crash, or a transient model error on the 7th trend — loads the
   stored analysis and asks only for the write-ups it lacks: no paid call is made twice.
3. When every trend has its write-ups, the analysis becomes the region's latest.

Which write-ups a trend has is ``readers.languages_for``: Korean and English always, Japanese
and Chinese only where the trend has readers in them (its region's own language, or a follower
in that language who will be mailed it) — each language is a paid call per trend.

A write-up the model cannot produce validly (``PermanentError``) falls back to the offline
summary, so one bad answer does not lose the digest; a transient model error is raised, so
the analysis is redelivered later and resumes.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from schemas.story import Language
from shared.domain.errors import PermanentError
from shared.ports.trends import TrendStore
from shared.trends.build import AnalysisParams, compute_trends
from shared.trends.explain import OfflineExplainer, TrendExplainer
from shared.trends.models import Explanation, Follower, Trend
from shared.trends.readers import ALWAYS, WRITTEN, languages_for

log = logging.getLogger("tale.trends")

#: Every trend is written up in each of these; Japanese and Chinese (``ON_DEMAND``) only where
#: read (``readers``). The digest and the API pick the reader's, else the English one.
LANGUAGES: tuple[Language, ...] = ALWAYS

__all__ = ["LANGUAGES", "WRITTEN", "AnalysisParams", "analyze", "explain_missing"]


def _written(trend: Trend, language: Language) -> bool:
    return any(e.language == language for e in trend.explanations)


def explain_missing(
    trends: list[Trend],
    explainer: TrendExplainer,
    store: TrendStore | None = None,
    readers: Sequence[Follower] = (),
) -> list[Trend]:
    """Each trend with a write-up in every language it is read in (``languages_for`` with
    ``readers``, the followers), asking only for the missing ones and storing each trend as
    soon as a write-up is added (the offline one where the model could not write a valid
    one)."""
    fallback = OfflineExplainer()
    out: list[Trend] = []
    for trend in trends:
        for language in languages_for(trend, readers):
            if _written(trend, language):
                continue
            explanation: Explanation
            try:
                explanation = explainer.explain(trend, language)
            except PermanentError as exc:
                log.warning("trend %s (%s): offline summary used: %s", trend.label, language, exc)
                explanation = fallback.explain(trend, language)
            trend = trend.model_copy(update={"explanations": [*trend.explanations, explanation]})
            if store is not None:
                store.save_trend(trend)
        out.append(trend)
    return out


def analyze(
    store: TrendStore,
    explainer: TrendExplainer,
    region: str,
    analysis_id: str,
    at: float,
    params: AnalysisParams,
    readers: Sequence[Follower] = (),
) -> list[Trend]:
    """The analysis' trends, explained for their ``readers`` (the followers) and stored
    (resumed from what is stored)."""
    trends = store.analysis(analysis_id)
    if not trends:
        trends = compute_trends(store, region, analysis_id, at, params)
        if not trends:
            return []
        store.save_analysis(region, analysis_id, at, trends, publish=False)
    explained = explain_missing(trends, explainer, store, readers)
    store.save_analysis(region, analysis_id, at, explained)
    return explained
