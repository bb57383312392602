"""Which known videos a collection measures again: chosen by score and by recency, with an
age-out.

Re-measuring is what gives a video a time series, and so a growth. The set is the region's
videos seen within the look-back, not found again by this collection's charts or searches,
and younger than ``max_age_h`` (older ones age out: a Short's trend is long over by then,
and re-measuring it would crowd out new ones). Of those, up to ``limit`` are taken
alternately from two rankings — by score (``scoring``, without the channel outlier) and by
recency (youngest first) — so that a small riser that has not scored yet is measured again
as surely as the top scorers, and a big old video cannot take every place.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import zip_longest

from shared.ports.trends import TrendStore
from shared.trends.scoring import by_video, score_video


@dataclass(frozen=True)
class Remeasure:
    ids: list[str]
    aged_out: int


def tracked(
    store: TrendStore,
    region: str,
    at: float,
    exclude: set[str],
    *,
    lookback_h: int,
    limit: int,
    max_age_h: int,
    min_gap_s: float,
) -> Remeasure:
    series = by_video(store.snapshots(region, at - lookback_h * 3600, at))
    infos = store.videos(v for v in series if v not in exclude)
    aged = {v for v, info in infos.items() if at - info.published_at > max_age_h * 3600}
    live = [v for v in infos if v not in aged]
    scores = {v: score_video(infos[v], series[v], min_gap_s=min_gap_s).score for v in live}
    by_score = sorted(live, key=lambda v: (-scores[v], v))
    by_recency = sorted(live, key=lambda v: (-infos[v].published_at, v))
    chosen: list[str] = []
    seen: set[str] = set()
    for pair in zip_longest(by_score, by_recency):
        for video_id in pair:
            if video_id is not None and video_id not in seen and len(chosen) < limit:
                seen.add(video_id)
                chosen.append(video_id)
    return Remeasure(chosen, len(aged))
