"""Scoring, keyword rise and grouping on constructed time series whose answer is known."""

from __future__ import annotations

from shared.trends.grouping import group
from shared.trends.keywords import hashtags, keyword_rises, terms, title_keywords
from shared.trends.models import Snapshot, VideoInfo
from shared.trends.scoring import score_video, score_videos

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


def test_an_accelerating_small_video_outranks_a_large_flat_one() -> None:
    # Big: a large channel's hit — 5 million views, gaining a steady 800 an hour.
    big = info("big", "Huge hit", 200, channel_views=2_000_000_000, channel_videos=1000)
    big_views = [5_000_000 + 800 * 6 * i for i in range(4)]
    # Small: a small channel's video whose gain per hour went 500 → 1,500 → 4,000.
    small = info("small", "Rising", 20, channel_views=800_000, channel_videos=200)
    small_views = [10_000, 13_000, 22_000, 46_000]
    data = {"big": big, "small": small}
    snaps = {"big": series("big", big_views), "small": series("small", small_views)}

    ranked = score_videos(data, snaps)

    assert [s.video_id for s in ranked] == ["small", "big"]
    small_score, big_score = ranked
    # Not because the small one is bigger by any lifetime measure: the big one has more views
    # and a higher view velocity since publication.
    assert big_score.views > small_score.views
    assert big_score.velocity > small_score.velocity
    assert small_score.recent_velocity == 4_000 and small_score.previous_velocity == 1_500
    assert small_score.acceleration > 0 and abs(big_score.acceleration) < 1e-6
    assert round(small_score.growth, 2) == 2.67 and round(big_score.growth, 3) == 1.0
    assert small_score.outlier > 10 > big_score.outlier
    assert [round(v) for _, v in small_score.series] == [500, 1500, 4000]


def test_one_snapshot_scores_on_the_velocity_since_publication() -> None:
    video = info("one", "Only once", 10)
    score = score_video(video, series("one", [36_000]))
    assert score.velocity == score.recent_velocity == 3_600
    assert score.acceleration == 0 and score.series == ()


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
