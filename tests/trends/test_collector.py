"""The collector against the YouTube Data API intercepted at the HTTP layer (``FakeYouTube``):
pagination, partial statistics, malformed answers, quota accounting and the quota stop."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from shared.adapters.local.trends import SqliteTrendStore
from shared.domain.errors import PermanentError, TransientError
from shared.trends.collect import Collector, collection_id
from shared.trends.quota import (
    UNIT_COSTS,
    QuotaPlanner,
    collection_cost,
    next_reset,
    pacific_offset,
    quota_day,
)
from tests.trends.fake_youtube import FakeYouTube, channel, google_error, quota_exceeded, video

NOW = datetime(2025, 7, 1, 12, tzinfo=UTC).timestamp()  # 05:00 in Los Angeles (PDT)
RESET = datetime(2025, 7, 2, 7, tzinfo=UTC).timestamp()  # the next Pacific midnight


def world(pages: list[int], region: str = "KR", query: str = "#shorts") -> FakeYouTube:
    """``pages`` of search results; videos on three channels, published in the last day."""
    fake = FakeYouTube()
    ids: list[list[str]] = []
    n = 0
    for size in pages:
        ids.append([f"vid{n + i:08d}" for i in range(size)])
        n += size
    fake.pages[(region, query)] = ids
    for k, video_id in enumerate(v for page in ids for v in page):
        fake.videos[video_id] = video(
            video_id,
            f"video {k} #tag{k % 3}",
            f"UCchan{k % 3:04d}",
            NOW - 3600 * (k % 20 + 1),
            1000 + k,
        )
    for c in range(3):
        fake.channels[f"UCchan{c:04d}"] = channel(f"UCchan{c:04d}", 5000, 900_000, 120)
    return fake


def collector(
    fake: FakeYouTube,
    store: SqliteTrendStore,
    *,
    topics: tuple[str, ...] = ("#shorts",),
    pages: int = 3,
    budget: int = 10_000,
) -> Collector:
    return Collector(fake.client(), store, QuotaPlanner(store, budget), topics, pages=pages)


@pytest.fixture
def store(tmp_path: Path) -> SqliteTrendStore:
    return SqliteTrendStore(tmp_path / "trends.db")


def test_pages_follow_next_page_token_and_the_units_add_up(store: SqliteTrendStore) -> None:
    fake = world([50, 20])
    summary = collector(fake, store, pages=3).collect("KR", NOW, collection_id("KR", NOW))

    assert summary.status == "collected"
    # Two pages (the second has no nextPageToken, so the third is never asked for).
    tokens = [r.url.params.get("pageToken") for r in fake.of("search")]
    assert tokens == [None, "page-1"]
    assert summary.videos == summary.snapshots == 70
    assert summary.calls == {"search.list": 2, "videos.list": 2, "channels.list": 1}
    # Documented costs: search.list 100, videos.list and channels.list 1 per 50 ids.
    assert summary.units == 2 * 100 + 2 * 1 + 1 * 1 == collection_cost(1, 2, 70, 3) == 203
    day = QuotaPlanner(store).day(NOW)
    calls = store.quota_calls(day)
    assert [c.method for c in calls] == [
        "search.list",
        "search.list",
        "videos.list",
        "videos.list",
        "channels.list",
    ]
    assert all(c.units == UNIT_COSTS[c.method] for c in calls)
    assert sum(c.units for c in calls) == store.quota(day).spent == 203
    assert day == "youtube:2025-07-01"
    # Each batch asks for at most 50 ids, every one of them once.
    asked = [i for r in fake.of("videos") for i in r.url.params["id"].split(",")]
    assert sorted(asked) == sorted(fake.videos)
    # Channel sizes are kept with the videos (the outlier score needs them).
    stored = store.videos(["vid00000000"])["vid00000000"]
    assert (stored.channel_subscribers, stored.channel_views, stored.channel_videos) == (
        5000,
        900_000,
        120,
    )
    assert stored.topics == ("#shorts",)


def test_partial_statistics_deleted_and_malformed_items_are_skipped_and_counted(
    store: SqliteTrendStore,
) -> None:
    fake = world([8])
    fake.pages[("KR", "#shorts")][0] += ["gone0000001"]  # found, then deleted before videos.list
    videos = fake.videos
    videos["vid00000001"] = video(
        "vid00000001", "likes hidden", "UCchan0001", NOW - 7200, 500, likes=None
    )
    videos["vid00000002"] = video(
        "vid00000002", "no stats", "UCchan0002", NOW - 7200, 0, statistics=False
    )
    videos["vid00000003"] = video("vid00000003", "no views", "UCchan0000", NOW - 7200, None)
    videos["vid00000004"]["statistics"]["viewCount"] = "lots"  # malformed count
    videos["vid00000005"] = video(
        "vid00000005", "long", "UCchan0002", NOW - 7200, 9, duration="PT5M2S"
    )
    del videos["vid00000006"]["snippet"]["publishedAt"]  # malformed resource
    fake.channels["UCchan0001"] = channel("UCchan0001", 0, 10_000, 10, hidden=True)

    summary = collector(fake, store).collect("KR", NOW, collection_id("KR", NOW))

    assert summary.status == "collected"
    assert summary.skipped == {
        "deleted": 1,
        "no_statistics": 2,
        "malformed": 2,
        "not_short": 1,
        "hidden_likes": 1,
    }
    kept = {s.video_id: s for s in store.snapshots("KR", 0)}
    assert sorted(kept) == ["vid00000000", "vid00000001", "vid00000007"]
    assert kept["vid00000001"].likes is None and kept["vid00000001"].views == 500
    hidden = store.videos(["vid00000001"])["vid00000001"]
    assert hidden.channel_subscribers is None and hidden.channel_views == 10_000
    assert "1 deleted" in summary.line() and "2 malformed" in summary.line()


def test_tracked_videos_are_measured_again_and_one_deleted_between_snapshots_is_counted(
    store: SqliteTrendStore,
) -> None:
    fake = world([5])
    collector(fake, store).collect("KR", NOW, collection_id("KR", NOW))
    later = NOW + 4 * 3600
    fake.pages[("KR", "#shorts")] = [["new00000001"]]  # the search has moved on
    fake.videos["new00000001"] = video("new00000001", "new", "UCchan0000", later - 600, 50)
    del fake.videos["vid00000002"]  # deleted between the snapshots
    for v in fake.videos.values():
        v["statistics"]["viewCount"] = str(int(v["statistics"]["viewCount"]) * 2)

    summary = collector(fake, store).collect("KR", later, collection_id("KR", later))

    asked = fake.of("videos")[-1].url.params["id"].split(",")
    assert asked[0] == "new00000001" and sorted(asked[1:]) == [f"vid0000000{i}" for i in range(5)]
    assert summary.skipped == {"deleted": 1}
    series = [s for s in store.snapshots("KR", 0) if s.video_id == "vid00000000"]
    assert [s.views for s in series] == [1000, 2000]


@pytest.mark.parametrize("reason", ["quotaExceeded", "dailyLimitExceeded"])
def test_quota_exceeded_stops_until_the_pacific_reset_and_says_so(
    store: SqliteTrendStore, reason: str
) -> None:
    fake = world([50, 50])
    fake.errors[("search", 2)] = (
        quota_exceeded()
        if reason == "quotaExceeded"
        else google_error(403, reason, "Daily Limit Exceeded", domain="usageLimits")
    )
    summary = collector(fake, store).collect("KR", NOW, collection_id("KR", NOW))

    assert summary.status == "quota-exhausted"
    assert "until 2025-07-02 07:00 UTC" in summary.message
    assert fake.counts == {"search": 2}  # nothing sent after the refusal
    planner = QuotaPlanner(store)
    assert planner.blocked_until(NOW) == RESET
    assert planner.spent(NOW) == 200  # the refused call was charged before it was sent

    # Later the same day: nothing is sent at all.
    again = collector(fake, store).collect("KR", NOW + 3600, collection_id("KR", NOW + 3600))
    assert again.status == "quota-exhausted" and "nothing collected" in again.message
    assert fake.counts == {"search": 2}

    # After the reset (a new quota day): collecting works again.
    fake.errors.clear()
    after = RESET + 60
    resumed = collector(fake, store).collect("KR", after, collection_id("KR", after))
    assert resumed.status == "collected" and resumed.snapshots == 100
    assert planner.spent(after) == 203


def test_the_planner_stops_before_the_budget_never_after(store: SqliteTrendStore) -> None:
    fake = world([10])
    for q in ("b", "c"):
        fake.pages[("KR", q)] = [[]]
    summary = collector(fake, store, topics=("#shorts", "b", "c"), budget=250).collect(
        "KR", NOW, collection_id("KR", NOW)
    )
    # Two searches fit (200 units), the third would make 300 > 250: refused, never sent;
    # the videos found are still measured (1 unit each call), within the budget.
    assert summary.status == "budget" and "searching stopped" in summary.message
    assert fake.counts == {"search": 2, "videos": 1, "channels": 1}
    assert summary.units == QuotaPlanner(store, 250).spent(NOW) == 202 <= 250
    assert summary.snapshots == 10


def test_a_transient_failure_skips_one_call_and_a_total_one_is_raised(
    store: SqliteTrendStore,
) -> None:
    fake = world([50, 20])
    fake.errors[("videos", 1)] = google_error(503, "backendError", "Backend Error", domain="global")
    summary = collector(fake, store).collect("KR", NOW, collection_id("KR", NOW))
    assert summary.status == "partial" and summary.snapshots == 20
    assert summary.skipped == {"failed_calls": 1}

    down = world([5], region="US")
    down.errors[("videos", 1)] = httpx.Response(500)
    with pytest.raises(TransientError):
        collector(down, store).collect("US", NOW, collection_id("US", NOW))


def test_a_malformed_body_is_skipped_and_a_bad_key_is_permanent(store: SqliteTrendStore) -> None:
    fake = world([50, 20])
    fake.errors[("videos", 2)] = httpx.Response(200, content=b"<html>Service Unavailable</html>")
    summary = collector(fake, store).collect("KR", NOW, collection_id("KR", NOW))
    assert summary.snapshots == 50 and summary.skipped == {"malformed": 1}

    bad = world([3], region="US")
    bad.errors[("search", 1)] = google_error(
        400, "badRequest", "API key not valid. Please pass a valid API key.", domain="global"
    )
    with pytest.raises(PermanentError, match="API key not valid"):
        collector(bad, store).collect("US", NOW, collection_id("US", NOW))


@pytest.mark.parametrize(
    ("utc", "day", "reset"),
    [
        ("2025-07-01T06:59:00", "2025-06-30", "2025-07-01T07:00:00"),  # PDT: UTC-7
        ("2025-07-01T07:00:00", "2025-07-01", "2025-07-02T07:00:00"),
        ("2025-01-15T07:59:00", "2025-01-14", "2025-01-15T08:00:00"),  # PST: UTC-8
        ("2025-03-09T08:30:00", "2025-03-09", "2025-03-10T07:00:00"),  # DST starts that day
        ("2025-11-02T06:30:00", "2025-11-01", "2025-11-02T07:00:00"),  # DST ends that day
    ],
)
def test_the_quota_day_is_pacific_time(utc: str, day: str, reset: str) -> None:
    at = datetime.fromisoformat(utc).replace(tzinfo=UTC).timestamp()
    assert quota_day(at) == day
    assert next_reset(at) == datetime.fromisoformat(reset).replace(tzinfo=UTC).timestamp()


def test_the_fallback_rule_agrees_with_the_time_zone_database() -> None:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("America/Los_Angeles")
    start = datetime(2024, 1, 1, tzinfo=UTC).timestamp()
    for hour in range(0, 2 * 366 * 24, 5):
        at = start + hour * 3600
        expected = datetime.fromtimestamp(at, zone).utcoffset()
        assert pacific_offset(at) == expected, datetime.fromtimestamp(at, UTC)


def test_the_documented_quota_arithmetic_is_the_codes() -> None:
    from shared.trends.quota import collections_per_day, worst_case_cost

    docs = (Path(__file__).resolve().parents[2] / "docs" / "trends.md").read_text()
    assert "`102·T·P + 8` units per region" in docs
    for regions, topics, pages in ((1, 1, 1), (2, 1, 1), (2, 2, 2), (2, 3, 1), (3, 3, 1)):
        per_region = worst_case_cost(topics, pages)
        assert per_region == 102 * topics * pages + 8
        row = (
            f"{regions} × {topics} × {pages}",
            f"{regions * per_region:,}",
            str(collections_per_day(regions, topics, pages)),
            f"{6 * regions * per_region:,}",
        )
        line = next(x for x in docs.splitlines() if row[0] in x)
        assert all(cell in line for cell in row), (row, line)
