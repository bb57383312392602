"""The collector against the YouTube stand-in at the HTTP layer: pagination, partial
statistics, malformed answers, the two quota buckets as Google documents them today, and
the stops."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from shared.adapters.local.trends import SqliteTrendStore
from shared.domain.errors import PermanentError, TransientError
from shared.trends.collect import Collector, collection_id
from shared.trends.quota import (
    COSTS,
    POOL,
    SEARCH,
    QuotaPlanner,
    next_reset,
    pacific_offset,
    quota_day,
)
from tests.trends.fake_youtube import FakeYouTube, channel, google_error, quota_exceeded, video

NOW = datetime(2025, 7, 1, 12, tzinfo=UTC).timestamp()  # 05:00 in Los Angeles (PDT)
RESET = datetime(2025, 7, 2, 7, tzinfo=UTC).timestamp()  # the next Pacific midnight
VERTICAL = (1080, 1920)


def world(sizes: list[int], query: str = "#shorts") -> FakeYouTube:
    """``sum(sizes)`` videos matching ``query``, on three channels, published in the last day."""
    fake = FakeYouTube()
    ids = [f"vid{n:08d}" for n in range(sum(sizes))]
    fake.index[query] = ids
    for k, video_id in enumerate(ids):
        fake.videos[video_id] = video(
            video_id,
            f"video {k} #tag{k % 3}",
            f"UCchan{k % 3:04d}",
            NOW - 3600 * (k % 20 + 1),
            1000 + k,
        )
        fake.sizes[video_id] = VERTICAL
    for c in range(3):
        fake.channels[f"UCchan{c:04d}"] = channel(f"UCchan{c:04d}", 5000, 900_000, 120)
    return fake


def collector(
    fake: FakeYouTube,
    store: SqliteTrendStore,
    *,
    queries: tuple[str, ...] = ("#shorts",),
    pages: int = 3,
    budget: int = 10_000,
    searches: int = 100,
    categories: tuple[str, ...] = (),
    baselines: int = 0,
) -> Collector:
    return Collector(
        fake.client(),
        store,
        QuotaPlanner(store, budget, searches),
        niches={"all": list(queries)},
        categories=categories,
        search_pages=pages,
        baseline_channels=baselines,
    )


@pytest.fixture
def store(tmp_path: Path) -> SqliteTrendStore:
    return SqliteTrendStore(tmp_path / "trends.db")


def test_pages_follow_next_page_token_and_each_bucket_is_charged(store: SqliteTrendStore) -> None:
    fake = world([50, 20])
    summary = collector(fake, store, pages=3).collect("KR", NOW, collection_id("KR", NOW))

    assert summary.status == "collected"
    tokens = [r.url.params.get("pageToken") for r in fake.of("search")]
    assert len(tokens) == 2 and tokens[0] is None  # the second page has no nextPageToken
    search = fake.of("search")[0].url.params
    assert (search["type"], search["videoDuration"], search["regionCode"]) == (
        "video",
        "short",
        "KR",
    )
    assert (
        search["relevanceLanguage"] == "ko" and search["publishedAfter"] == "2025-06-29T12:00:00Z"
    )
    assert summary.videos == summary.snapshots == 70
    assert summary.calls == {"search.list": 2, "videos.list": 2, "channels.list": 1}
    planner = QuotaPlanner(store)
    # Google's quota page today: search.list has its own bucket (1 per call); the rest
    # comes from the 10,000-unit pool at 1 unit a call.
    assert planner.spent(NOW, SEARCH) == 2 and planner.spent(NOW, POOL) == 3
    assert summary.units == 5
    pool = store.quota_calls(planner.day(NOW))
    assert [c.method for c in pool] == ["videos.list", "videos.list", "channels.list"]
    assert [c.method for c in store.quota_calls(planner.day(NOW, SEARCH))] == ["search.list"] * 2
    assert all(c.units == COSTS[c.method].units for c in pool)
    assert planner.day(NOW) == "youtube:2025-07-01"
    assert planner.day(NOW, SEARCH) == "youtube:search:2025-07-01"
    asked = [i for r in fake.of("videos") for i in r.url.params["id"].split(",")]
    assert sorted(asked) == sorted(fake.videos)
    assert all("maxResults" not in r.url.params for r in fake.of("videos"))  # not with id
    stored = store.videos(["vid00000000"])["vid00000000"]
    assert (stored.channel_subscribers, stored.channel_views, stored.channel_videos) == (
        5000,
        900_000,
        120,
    )
    assert stored.topics == ("#shorts",) and stored.niches == ("all",) and stored.aspect == 0.5625


def test_partial_statistics_deleted_and_malformed_items_are_skipped_and_counted(
    store: SqliteTrendStore,
) -> None:
    fake = world([8])
    fake.index["#shorts"] += ["gone0000001"]  # found by search, gone before videos.list
    videos = fake.videos
    fake.videos["gone0000001"] = video("gone0000001", "gone", "UCchan0001", NOW - 60, 5)
    videos["vid00000001"] = video(
        "vid00000001", "likes hidden", "UCchan0001", NOW - 7200, 500, likes=None
    )
    videos["vid00000002"] = video(
        "vid00000002", "no stats", "UCchan0002", NOW - 7200, 0, statistics=False
    )
    videos["vid00000003"] = video("vid00000003", "no views", "UCchan0000", NOW - 7200, None)
    videos["vid00000004"]["statistics"]["viewCount"] = "lots"  # malformed count
    videos["vid00000005"] = video(
        "vid00000005", "long", "UCchan0002", NOW - 7200, 9, duration="PT3M2S"
    )
    del videos["vid00000006"]["snippet"]["publishedAt"]  # malformed resource
    fake.sizes["vid00000007"] = (1920, 1080)  # landscape: not a Short
    del fake.sizes["vid00000000"]  # size unknown to the API: kept on its duration
    fake.channels["UCchan0001"] = channel("UCchan0001", 0, 10_000, 10, hidden=True)

    real = fake.answer

    def answer(resource: str, params: httpx.QueryParams) -> httpx.Response:
        if resource == "videos":
            fake.videos.pop("gone0000001", None)
        return real(resource, params)

    fake.answer = answer  # type: ignore[method-assign]
    summary = collector(fake, store).collect("KR", NOW, collection_id("KR", NOW))

    assert summary.status == "collected"
    assert summary.skipped == {
        "deleted": 1,
        "no_statistics": 2,
        "malformed": 2,
        "not_short": 2,
        "hidden_likes": 1,
        "shape_unknown": 1,
    }
    kept = {s.video_id: s for s in store.snapshots("KR", 0)}
    assert sorted(kept) == ["vid00000000", "vid00000001"]
    assert kept["vid00000001"].likes is None and kept["vid00000001"].views == 500
    hidden = store.videos(["vid00000001"])["vid00000001"]
    assert hidden.channel_subscribers is None and hidden.channel_views == 10_000
    assert store.videos(["vid00000000"])["vid00000000"].aspect is None
    assert "1 deleted" in summary.line() and "2 malformed" in summary.line()


def test_known_videos_are_measured_again_and_one_deleted_between_snapshots_is_counted(
    store: SqliteTrendStore,
) -> None:
    fake = world([5])
    collector(fake, store).collect("KR", NOW, collection_id("KR", NOW))
    later = NOW + 4 * 3600
    fake.index["#shorts"] = ["new00000001"]  # the search has moved on
    fake.videos["new00000001"] = video("new00000001", "new", "UCchan0000", later - 600, 50)
    fake.sizes["new00000001"] = VERTICAL
    del fake.videos["vid00000002"]  # deleted between the snapshots
    for v in fake.videos.values():
        v["statistics"]["viewCount"] = str(int(v["statistics"]["viewCount"]) * 2)

    summary = collector(fake, store).collect("KR", later, collection_id("KR", later))

    asked = fake.of("videos")[-1].url.params["id"].split(",")
    assert asked[0] == "new00000001" and sorted(asked[1:]) == [f"vid0000000{i}" for i in range(5)]
    assert summary.skipped == {"deleted": 1}
    series = [s for s in store.snapshots("KR", 0) if s.video_id == "vid00000000"]
    assert [s.views for s in series] == [1000, 2000]


def test_a_hundred_searches_exhaust_the_search_bucket_and_re_measuring_goes_on(
    store: SqliteTrendStore, tmp_path: Path
) -> None:
    """Google's default: 100 search.list calls a day in their own bucket. The planner stops
    the 101st before it is sent; videos.list keeps measuring from the 10,000-unit pool."""
    fake = world([5])
    queries = tuple(f"q{n:03d}" for n in range(120))
    for q in queries:
        fake.index[q] = []
    first = collector(fake, store, queries=("#shorts",), pages=1)
    first.collect("KR", NOW, collection_id("KR", NOW))  # 1 search; 5 videos known
    later = NOW + 3 * 3600
    summary = collector(fake, store, queries=queries, pages=1).collect(
        "KR", later, collection_id("KR", later)
    )

    assert fake.counts["search"] == 100  # 1 + 99: the 101st was never sent
    assert summary.status == "search-stopped" and "searching stopped" in summary.message
    assert summary.calls["videos.list"] == 1 and summary.snapshots == 5  # re-measured
    planner = QuotaPlanner(store)
    assert planner.spent(later, SEARCH) == 100 and planner.spent(later, POOL) == 4

    # The API's own refusal of a search (another client used the bucket) stops searching
    # until the reset, and only searching.
    fresh = SqliteTrendStore(tmp_path / "other.db")
    api = world([5])
    api.daily_searches = 1
    collector(api, fresh).collect("KR", NOW, collection_id("KR", NOW))
    again = collector(api, fresh, queries=("#shorts", "more")).collect(
        "KR", later, collection_id("KR", later)
    )
    assert again.status == "search-stopped" and "quotaExceeded" in again.message
    assert again.snapshots == 5 and again.calls["videos.list"] == 1
    assert QuotaPlanner(fresh).blocked_until(later, SEARCH) == RESET
    assert QuotaPlanner(fresh).blocked_until(later) is None
    sent = api.counts["search"]
    third = collector(api, fresh).collect("KR", later + 3600, collection_id("KR", later + 3600))
    assert api.counts["search"] == sent and third.snapshots == 5  # no search sent


@pytest.mark.parametrize("reason", ["quotaExceeded", "dailyLimitExceeded"])
def test_the_pool_exhausted_stops_until_the_pacific_reset_and_says_so(
    store: SqliteTrendStore, reason: str
) -> None:
    fake = world([50, 50])
    fake.errors[("videos", 2)] = (
        quota_exceeded()
        if reason == "quotaExceeded"
        else google_error(403, reason, "Daily Limit Exceeded", domain="usageLimits")
    )
    summary = collector(fake, store).collect("KR", NOW, collection_id("KR", NOW))

    assert summary.status == "quota-exhausted"
    assert "until 2025-07-02 07:00 UTC" in summary.message
    assert fake.counts == {"search": 2, "videos": 2}  # nothing sent after the refusal
    assert summary.snapshots == 50  # what was measured is kept
    planner = QuotaPlanner(store)
    assert planner.blocked_until(NOW) == RESET
    assert planner.spent(NOW) == 2  # the refused call was charged before it was sent

    again = collector(fake, store).collect("KR", NOW + 3600, collection_id("KR", NOW + 3600))
    assert again.status == "quota-exhausted" and "nothing collected" in again.message
    assert fake.counts == {"search": 2, "videos": 2}

    fake.errors.clear()
    after = RESET + 60
    resumed = collector(fake, store).collect("KR", after, collection_id("KR", after))
    assert resumed.status == "collected" and resumed.snapshots == 100


def test_the_planner_stops_the_pool_before_the_budget_never_after(store: SqliteTrendStore) -> None:
    fake = world([60])
    summary = collector(fake, store, budget=1).collect("KR", NOW, collection_id("KR", NOW))
    assert summary.status == "budget" and "refused" in summary.message
    assert fake.counts == {"search": 2, "videos": 1}
    assert QuotaPlanner(store, 1).spent(NOW) == 1 and summary.snapshots == 50


def test_a_transient_failure_skips_one_call_and_a_total_one_is_raised(
    store: SqliteTrendStore,
) -> None:
    fake = world([50, 20])
    fake.errors[("videos", 1)] = google_error(503, "backendError", "Backend Error", domain="global")
    summary = collector(fake, store).collect("KR", NOW, collection_id("KR", NOW))
    assert summary.status == "partial" and summary.snapshots == 20
    assert summary.skipped == {"failed_calls": 1}

    down = world([5])
    down.errors[("videos", 1)] = httpx.Response(500)
    with pytest.raises(TransientError):
        collector(down, store).collect("US", NOW, collection_id("US", NOW))


def test_a_malformed_body_is_skipped_and_a_bad_key_is_permanent(store: SqliteTrendStore) -> None:
    fake = world([50, 20])
    fake.errors[("videos", 2)] = httpx.Response(200, content=b"<html>Service Unavailable</html>")
    summary = collector(fake, store).collect("KR", NOW, collection_id("KR", NOW))
    assert summary.snapshots == 50 and summary.skipped == {"malformed": 1}

    bad = world([3])
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
    from shared.trends.quota import RunShape, run_cost, runs_per_day

    docs = (Path(__file__).resolve().parents[2] / "docs" / "trends.md").read_text()
    assert "`2·C·P + 2·Q·S + 2·⌈T/50⌉ + 2·B` units and `Q·S` searches per region" in docs
    rows = [
        (2, RunShape(6, 1, 2, 1, 200, 20)),
        (2, RunShape(6, 1, 4, 1, 200, 20)),
        (3, RunShape(6, 1, 4, 1, 200, 20)),
        (2, RunShape(6, 2, 4, 2, 400, 40)),
    ]
    for regions, shape in rows:
        cost = run_cost(regions, shape)
        one = (
            2 * shape.categories * shape.chart_pages
            + 2 * shape.queries * shape.search_pages
            + 2 * -(-shape.tracked // 50)
            + 2 * shape.baselines
        )
        assert cost.units == regions * one
        cells = (
            f"{regions} | {shape.categories}×{shape.chart_pages} | "
            f"{shape.queries}×{shape.search_pages} | {shape.tracked} | {shape.baselines} |",
            f"{cost.units:,} units, {cost.searches} searches",
            f"| {runs_per_day(regions, shape)} |",
        )
        line = next(x for x in docs.splitlines() if x.startswith("| " + cells[0]))
        assert all(cell in line for cell in cells), (cells, line)
