"""Scoring, keyword rise, grouping and ranking on constructed time series whose answer is
known: a normal decay is steady, a decaying trend is never rising, a small channel's breakout
outranks a big channel's normal video."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from shared.adapters.local.trends import SqliteTrendStore
from shared.trends.build import AnalysisParams, compute_trends
from shared.trends.grouping import group
from shared.trends.keywords import hashtags, keyword_rises, terms, title_keywords
from shared.trends.models import ChannelBaseline, Snapshot, VideoInfo
from shared.trends.scoring import DECAY_TAU_H, outlier_of, score_video, score_videos

H = 3600.0
NOW = 1_750_000_000.0


def info(
    video_id: str,
    title: str,
    published_h_ago: float,
    *,
    channel_views: int = 1_000_000,
    channel_videos: int = 100,
    tags: tuple[str, ...] = (),
) -> VideoInfo:
    return VideoInfo(
        video_id=video_id,
        title=title,
        channel_id=f"UC{video_id}",
        channel_title=f"channel of {video_id}",
        published_at=NOW - published_h_ago * H,
        tags=tags,
        channel_views=channel_views,
        channel_videos=channel_videos,
    )


def series(video_id: str, views: list[int], every_h: float = 6) -> list[Snapshot]:
    """Snapshots every ``every_h`` hours, the last one at NOW."""
    n = len(views)
    return [
        Snapshot("KR", video_id, NOW - (n - 1 - i) * every_h * H, v) for i, v in enumerate(views)
    ]


def decay(total: float, ages_h: list[float], tau_h: float = DECAY_TAU_H) -> list[int]:
    """Views at each age of a Short following the expected decay exactly."""
    return [round(total * (1 - math.exp(-a / tau_h))) for a in ages_h]


def test_a_normal_decay_is_steady_not_falling() -> None:
    video = info("normal", "Normal short", published_h_ago=24)
    views = decay(2_000_000, [12, 18, 24])
    score = score_video(video, series("normal", views))
    assert score.growth is not None and score.growth < 0.8  # fewer views an hour than before…
    assert score.vs_expected == pytest.approx(1.0, abs=0.01)  # …exactly as a Short decays
    assert score.status == "steady"
    faster = decay(2_000_000, [12, 18, 24], tau_h=6)  # losing viewers four times as fast
    assert score_video(video, series("f", faster)).status == "fading"


def test_snapshots_closer_than_the_minimum_gap_are_not_compared() -> None:
    video = info("close", "Close snapshots", published_h_ago=10)
    close = [Snapshot("KR", "close", NOW - 600, 9_000), Snapshot("KR", "close", NOW, 12_000)]
    score = score_video(video, close, min_gap_s=2 * H)
    assert score.previous_velocity is None  # publication → the later snapshot only…
    assert score.series == ((NOW, 1_200.0),)  # …the one 10 minutes before is skipped
    assert score.status == "new" and score.growth is None
    one = score_video(info("one", "Only once", 10), series("one", [36_000]))
    assert one.velocity == one.recent_velocity == 3_600
    assert one.status == "new" and one.vs_expected is None  # never "rising" on one look


def test_a_small_channels_breakout_outranks_a_big_channels_normal_video() -> None:
    big = info("big", "Huge hit", 24, channel_views=2_000_000_000, channel_videos=1000)
    small = info("small", "Breakout", 20, channel_views=800_000, channel_videos=200)
    snaps = {
        "big": series("big", decay(5_000_000, [12, 18, 24])),  # a normal decay, big numbers
        "small": series("small", [10_000, 13_000, 22_000, 46_000]),  # 500 → 1,500 → 4,000 /h
    }
    baselines = {
        "UCbig": ChannelBaseline("UCbig", NOW, tuple((f"b{n}", 6e6) for n in range(5))),
        "UCsmall": ChannelBaseline("UCsmall", NOW, tuple((f"s{n}", 5e3) for n in range(5))),
    }
    ranked = score_videos({"big": big, "small": small}, snaps, baselines)

    assert [s.video_id for s in ranked] == ["small", "big"]
    small_score, big_score = ranked
    assert big_score.recent_velocity > 10 * small_score.recent_velocity  # not by size
    assert small_score.status == "rising" and big_score.status == "steady"
    assert small_score.outlier is not None and small_score.outlier > 5
    assert big_score.outlier is not None and 0.5 < big_score.outlier < 2
    assert [round(v) for _, v in small_score.series] == [5000, 500, 1500, 4000]  # since upload


def test_the_outlier_is_against_the_median_of_the_channels_other_recent_shorts() -> None:
    samples = (("a", 1_000.0), ("b", 2_000.0), ("c", 3_000.0), ("me", 1e9))
    baseline = ChannelBaseline("UC", NOW, samples)
    # Age-adjusted: 1,000 views at 12 h is 1,000 / (1 − e^(−12/24)) ≈ 2,541 projected.
    assert outlier_of("me", 1_000, 12, baseline) == pytest.approx(2541.6 / 2000, rel=1e-3)
    assert outlier_of("me", 1_000, 12, ChannelBaseline("UC", NOW, samples[:2])) is None


def _store_with(tmp_path: Path, groups: dict[str, list[list[int]]]) -> Any:
    """A trend store with one region's videos, published 60 h ago and measured every 12 h:
    label → each video's views at the five snapshots."""
    store = SqliteTrendStore(tmp_path / "trends.db")
    videos, snaps = [], []
    for label, views_per_video in groups.items():
        word = label.lstrip("#")
        for n, views in enumerate(views_per_video):
            vid = f"{word}{n}"
            videos.append(info(vid, f"{word} clip {n} {label}", 60))
            for k, count in enumerate(views):
                snaps.append(Snapshot("KR", vid, NOW - (4 - k) * 12 * H, count))
    store.save_videos(videos)
    store.add_snapshots(snaps)
    return store


ROCKET = [1_000, 2_000, 4_000, 20_000, 120_000]


def test_a_fading_trend_is_never_listed_among_the_rising(tmp_path: Path) -> None:
    fading = [500_000, 800_000, 1_000_000, 1_010_000, 1_010_500]
    store = _store_with(tmp_path, {"#rocket": [ROCKET, ROCKET], "#fading": [fading, fading]})
    trends = compute_trends(store, "KR", "KR-1", NOW, AnalysisParams())
    by_label = {t.label: t for t in trends}
    assert by_label["#rocket"].status == "rising" and by_label["#fading"].status == "fading"
    assert [t.label for t in trends] == ["#rocket", "#fading"]  # fading last, whatever its size
    faded = by_label["#fading"]
    assert faded.growth_pct is not None and faded.growth_pct < -90
    assert faded.window == (NOW - 24 * H, NOW) and faded.channels == 2
    assert faded.views_per_hour == faded.series[-1][1] == pytest.approx(2 * 500 / 12)


def test_the_hashtag_rise_is_part_of_the_rank(tmp_path: Path) -> None:
    # The same best video and channel count; #beta's other video gained its views in the
    # last day, #alpha's the day before: #beta rises, #alpha does not.
    store = _store_with(
        tmp_path,
        {
            "#alpha": [ROCKET, [10_000, 100_000, 200_000, 210_000, 220_000]],
            "#beta": [ROCKET, [10_000, 11_000, 12_000, 22_000, 32_000]],
        },
    )
    trends = compute_trends(store, "KR", "KR-1", NOW, AnalysisParams())
    beta, alpha = (next(t for t in trends if t.label == x) for x in ("#beta", "#alpha"))
    assert beta.videos[0].score == alpha.videos[0].score and beta.channels == alpha.channels
    assert beta.rise is not None and alpha.rise is not None and beta.rise > 10 > 1 > alpha.rise
    assert beta.rank < alpha.rank and beta.score > alpha.score


def test_korean_and_english_hashtags_and_keywords() -> None:
    assert hashtags("집에서 #탕후루 만들기 #먹방 #Shorts #2025") == ["#탕후루", "#먹방", "#shorts"]
    assert title_keywords("강아지가 처음 바다를 봤을 때 #강아지") == [
        "강아지",
        "처음",
        "바다",
        "봤을",
    ]
    assert title_keywords("How I made cloud bread for my cat") == ["cloud", "bread", "cat"]
    video = info("v", "딸기 탕후루 #탕후루 #shorts", 5, tags=("먹방", "two words"))
    assert terms(video) == {"#탕후루", "#먹방", "딸기", "탕후루"}  # generic #shorts dropped


def test_a_rising_hashtag_is_ranked_over_a_flat_one_in_both_languages() -> None:
    videos: dict[str, VideoInfo] = {}
    snaps: dict[str, list[Snapshot]] = {}
    # #먹방 (Korean): slow the day before, fast in the last 24 hours.
    for n in range(3):
        vid = f"ko{n}"
        videos[vid] = info(vid, f"먹방 {n}번째 #먹방", 60)
        snaps[vid] = series(vid, [1_000, 3_000, 5_000, 50_000, 120_000], every_h=12)
    # #cooking (English): the same pace in both windows.
    for n in range(3):
        vid = f"en{n}"
        videos[vid] = info(vid, f"Cooking at home {n} #cooking", 60)
        snaps[vid] = series(vid, [10_000, 30_000, 50_000, 70_000, 90_000], every_h=12)
    # A single video's tag is not a trend (fewer than two videos carry it).
    videos["solo"] = info("solo", "Alone #solo", 60)
    snaps["solo"] = series("solo", [0, 1, 2, 3, 900_000], every_h=12)

    rises = {r.term: r for r in keyword_rises(videos, snaps, NOW, 24)}

    assert "#solo" not in rises
    mukbang, cooking = rises["#먹방"], rises["#cooking"]
    assert mukbang.videos == cooking.videos == 3
    assert (mukbang.current, mukbang.previous) == (3 * 115_000, 3 * 4_000)
    assert (cooking.current, cooking.previous) == (3 * 40_000, 3 * 40_000)
    assert mukbang.ratio > 20 and cooking.ratio == 1.0
    ordered = [r.term for r in keyword_rises(videos, snaps, NOW, 24)]
    assert ordered.index("#먹방") < ordered.index("#cooking")
    assert ordered.index("먹방") < ordered.index("cooking")


def test_a_video_published_mid_window_counts_only_what_it_gained_since() -> None:
    videos = {f"v{n}": info(f"v{n}", f"new #fresh {n}", published_h_ago=12) for n in range(2)}
    snaps = {v: series(v, [6_000, 12_000], every_h=6) for v in videos}
    (fresh,) = [r for r in keyword_rises(videos, snaps, NOW, 24) if r.term == "#fresh"]
    assert fresh.current == 2 * 12_000 and fresh.previous == 0


def test_related_videos_form_one_trend_and_reuploads_are_dropped() -> None:
    videos = {
        "a": info("a", "Cloud bread in 60 seconds #cloudbread", 10),
        "b": info("b", "Rainbow cloud bread #cloudbread #baking", 10),
        "c": info("c", "Rainbow cloud bread #CloudBread", 10),  # a re-upload of b
        "d": info("d", "My rescue cat learns fetch #rescuecat", 10),
        "e": info("e", "Cat cafe tour", 10),
    }
    snaps = {
        "a": series("a", [100, 5_000]),
        "b": series("b", [100, 9_000]),
        "c": series("c", [100, 2_000]),
        "d": series("d", [100, 3_000]),
        "e": series("e", [100, 200]),
    }
    scores = score_videos(videos, snaps)
    groups = group(scores, videos, {v: terms(i) for v, i in videos.items()})
    by_label = {g.label: [m.video_id for m in g.members] for g in groups}
    assert by_label["#cloudbread"] == ["b", "a"]  # best first; the re-upload c is gone
    assert by_label["#rescuecat"] == ["d"]
    assert by_label["Cat cafe tour"] == ["e"]  # no hashtag: the title names it
    assert groups[0].label == "#cloudbread"  # a wave beats a lone video


def test_re_measuring_takes_top_scorers_and_the_youngest_and_ages_old_videos_out(
    tmp_path: Path,
) -> None:
    from shared.trends.remeasure import tracked

    store = SqliteTrendStore(tmp_path / "trends.db")
    videos = [info(f"big{n}", f"big {n}", 100) for n in range(6)]
    videos += [info(f"new{n}", f"new {n}", 5 - n) for n in range(3)]
    videos.append(info("old", "old", 200))
    store.save_videos(videos)
    snaps = [Snapshot("KR", f"big{n}", NOW - H, 1_000_000 * (n + 1)) for n in range(6)]
    snaps += [Snapshot("KR", f"new{n}", NOW - H, 100 + n) for n in range(3)]
    snaps.append(Snapshot("KR", "old", NOW - H, 9_000_000))
    store.add_snapshots(snaps)

    chosen = tracked(
        store, "KR", NOW, {"big0"}, lookback_h=48, limit=4, max_age_h=168, min_gap_s=2 * H
    )

    assert chosen.aged_out == 1 and "old" not in chosen.ids
    assert chosen.ids == ["big5", "new2", "big4", "new1"]  # by score and by recency, in turn
