"""The YouTube stand-in keeps the documented semantics — a region's chart is what is popular
there, a search with ``regionCode`` is what can be viewed there — and refuses what the API
refuses; a region's collection takes the region's chart, not viewable-in-region results."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.adapters.local.trends import SqliteTrendStore
from shared.trends.collect import Collector, collection_id
from shared.trends.parse import is_short
from shared.trends.quota import QuotaPlanner
from tests.trends.fake_youtube import KEY, FakeYouTube, channel, video

NOW = datetime(2025, 7, 1, 12, tzinfo=UTC).timestamp()
H = 3600.0


def api() -> FakeYouTube:
    """KR and US videos; the KR chart holds the Korean hits, the US chart the American ones;
    every video says ``#food`` in its metadata (the search index)."""
    fake = FakeYouTube()
    specs = [
        ("kr_hit_001", "UCkr00000001", "KR", 5 * H, None),
        ("kr_hit_002", "UCkr00000001", "KR", 8 * H, None),
        ("us_hit_001", "UCus00000001", "US", 3 * H, None),
        ("us_blocked", "UCus00000001", "US", 4 * H, ["KR"]),
        ("us_old_001", "UCus00000001", "US", 90 * H, None),
    ]
    for video_id, ch, home, age, blocked in specs:
        fake.videos[video_id] = video(
            video_id,
            f"{video_id} #food",
            ch,
            NOW - age,
            10_000,
            blocked=blocked,
            language="ko" if home == "KR" else "en",
        )
        fake.sizes[video_id] = (1080, 1920)
    fake.channels = {c: channel(c, 100, 10_000, 10) for c in ("UCkr00000001", "UCus00000001")}
    fake.charts = {
        ("KR", ""): ["kr_hit_001", "kr_hit_002"],
        ("KR", "26"): ["kr_hit_002"],
        ("US", ""): ["us_hit_001", "us_blocked"],
    }
    fake.index = {"#food": ["us_hit_001", "us_blocked", "us_old_001", "kr_hit_001", "kr_hit_002"]}
    return fake


def get(fake: FakeYouTube, resource: str, **params: Any) -> httpx.Response:
    http = httpx.Client(transport=httpx.MockTransport(fake))
    return http.get(
        f"https://www.googleapis.com/youtube/v3/{resource}",
        params=params,
        headers={"X-Goog-Api-Key": KEY},
    )


def ids(response: httpx.Response) -> list[str]:
    items = response.json()["items"]
    return [i["id"]["videoId"] if isinstance(i["id"], dict) else i["id"] for i in items]


def test_the_chart_is_the_regions_and_a_search_is_what_can_be_viewed_there() -> None:
    fake = api()
    chart = get(fake, "videos", part="snippet", chart="mostPopular", regionCode="KR", maxResults=50)
    assert ids(chart) == ["kr_hit_001", "kr_hit_002"]
    category = get(
        fake, "videos", part="id", chart="mostPopular", regionCode="KR", videoCategoryId="26"
    )
    assert ids(category) == ["kr_hit_002"]
    # regionCode on a search: viewable in KR — American videos too, but not the one blocked
    # there; publishedAfter drops the old one; relevanceLanguage puts Korean ones first.
    search = get(
        fake,
        "search",
        part="id",
        type="video",
        q="#food",
        regionCode="KR",
        relevanceLanguage="ko",
        publishedAfter="2025-06-30T12:00:00Z",
        maxResults=50,
    )
    assert ids(search) == ["kr_hit_001", "kr_hit_002", "us_hit_001"]
    us = get(fake, "search", part="id", q="#food", regionCode="US", maxResults=50)
    assert "us_blocked" in ids(us) and "us_old_001" in ids(us)
    # Only the parts asked for; a player's size only with maxHeight.
    one = get(fake, "videos", part="statistics,player", id="kr_hit_001").json()["items"][0]
    assert set(one) == {"kind", "etag", "id", "statistics", "player"}
    assert "embedHeight" not in one["player"]
    sized = get(fake, "videos", part="player", id="kr_hit_001", maxHeight=720).json()["items"][0]
    assert (sized["player"]["embedWidth"], sized["player"]["embedHeight"]) == ("405", "720")


@pytest.mark.parametrize(
    ("resource", "params", "status", "reason"),
    [
        ("search", {"part": "id", "q": "x", "videoDuration": "short"}, 400, "invalidSearchFilter"),
        ("videos", {"part": "id", "chart": "mostPopular", "id": "a"}, 400, "badRequest"),
        ("videos", {"part": "id"}, 400, "badRequest"),
        (
            "videos",
            {"part": "id", "chart": "mostPopular", "regionCode": "KR", "videoCategoryId": "23"},
            400,
            "videoChartNotFound",
        ),
        ("videos", {"id": "a"}, 400, "required"),
        (
            "playlistItems",
            {"part": "contentDetails", "playlistId": "UUnobody"},
            404,
            "playlistNotFound",
        ),
    ],
)
def test_what_the_api_refuses_is_refused(
    resource: str, params: dict[str, str], status: int, reason: str
) -> None:
    response = get(api(), resource, **params)
    assert response.status_code == status
    assert response.json()["error"]["errors"][0]["reason"] == reason


def test_a_region_run_takes_the_regions_chart_not_viewable_in_region_results(
    tmp_path: Path,
) -> None:
    fake = api()
    store = SqliteTrendStore(tmp_path / "trends.db")
    collector = Collector(
        fake.client(), store, QuotaPlanner(store), niches={}, categories=("", "26", "23")
    )
    summary = collector.collect("KR", NOW, collection_id("KR", NOW))

    measured = {s.video_id for s in store.snapshots("KR", 0)}
    assert measured == {"kr_hit_001", "kr_hit_002"}  # the KR chart, nothing from the US
    assert summary.skipped["no_chart"] == 1  # category 23 has no chart in KR
    assert fake.counts["search"] == 0
    info = store.videos(["kr_hit_002"])["kr_hit_002"]
    assert info.charts == ("KR", "KR/26") and info.niches == ()

    # With a niche, the search adds what can be viewed in KR, marked as found by search.
    searching = Collector(
        fake.client(), store, QuotaPlanner(store), niches={"food": ["#food"]}, categories=("",)
    )
    later = NOW + 3 * H
    searching.collect("KR", later, collection_id("KR", later))
    found = store.videos(["us_hit_001", "us_blocked"])
    assert set(found) == {"us_hit_001"} and found["us_hit_001"].charts == ()
    assert found["us_hit_001"].niches == ("food",)


@pytest.mark.parametrize(
    ("seconds", "aspect", "published", "short"),
    [
        (45, 9 / 16, NOW, True),
        (180, 1.0, NOW, True),  # square, three minutes
        (181, 9 / 16, NOW, False),
        (45, 16 / 9, NOW, False),  # landscape
        (45, None, NOW, True),  # size unknown: the duration decides
        (61, 9 / 16, datetime(2024, 10, 1, tzinfo=UTC).timestamp(), False),  # the 60 s era
        (0, 9 / 16, NOW, False),  # a live stream's P0D
        (None, 9 / 16, NOW, False),
    ],
)
def test_a_short_is_what_youtube_says_it_is(
    seconds: int | None, aspect: float | None, published: float, short: bool
) -> None:
    assert is_short(seconds, aspect, published) is short
