"""One contract for every TrendStore adapter: SQLite and Firestore (on the emulator)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from shared.adapters.local.trends import SqliteTrendStore
from shared.ports.trends import TrendStore
from shared.trends.models import (
    ApiKey,
    ChannelBaseline,
    Explanation,
    Follower,
    QuotaCall,
    Snapshot,
    StoryIdea,
    Trend,
    TrendWriteup,
    VideoInfo,
)
from tests.emulators import firestore_client, firestore_emulator, fresh_root  # noqa: F401


def firestore_trends(request: pytest.FixtureRequest, tmp: Path) -> TrendStore:
    from shared.adapters.gcp.firestore_trends import FirestoreTrendStore

    client: Any = request.getfixturevalue("firestore_client")
    return FirestoreTrendStore(client, root=fresh_root())


ADAPTERS: dict[str, Callable[[pytest.FixtureRequest, Path], TrendStore]] = {
    "sqlite": lambda _, tmp: SqliteTrendStore(tmp / "trends.db"),
    "firestore": firestore_trends,
}


@pytest.fixture(params=sorted(ADAPTERS))
def trends(request: pytest.FixtureRequest, tmp_path: Path) -> TrendStore:
    return ADAPTERS[request.param](request, tmp_path)


def make_trend(trend_id: str, region: str, analysis: str, rank: int, at: float) -> Trend:
    writeup = TrendWriteup(
        summary="탕후루가 뜨고 있어요. 영상 세 개가 빠르게 늘고 있습니다.",
        ideas=[
            StoryIdea(title="탕후루 대소동", story="민아는 탕후루를 처음 만들어 보았어요. " * 3),
            StoryIdea(title="골목 탕후루 대회", story="골목에 탕후루 대회 소식이 퍼졌어요. " * 3),
        ],
    )
    return Trend(
        trend_id=trend_id,
        region=region,
        analysis_id=analysis,
        analyzed_at=at,
        rank=rank,
        label="#탕후루",
        keywords=["#탕후루", "만들기"],
        topics=["#shorts"],
        score=6.2,
        videos=[],
        series=[(at - 3600, 100.0), (at, 400.0)],
        explanations=[Explanation(language="ko", writeup=writeup, written_by="offline")],
        sample=True,
    )


def test_videos_and_snapshots(trends: TrendStore) -> None:
    video = VideoInfo(
        "vid00000001",
        "탕후루 #탕후루",
        "UC1",
        "달콤주방",
        1000.0,
        45,
        ("탕후루",),
        "",
        ("#shorts",),
        None,
        5,
        2,
        0.5625,
        "26",
        ("food",),
        ("KR", "KR/26"),
    )
    trends.save_videos([video])
    assert trends.videos(["vid00000001", "unknown"]) == {"vid00000001": video}
    snaps = [
        Snapshot("KR", "vid00000001", 2000.0, 10, None, 1),
        Snapshot("KR", "vid00000001", 3000.0, 30, 2, 1),
        Snapshot("KR", "vid00000000", 3000.0, 5, 0, 0),
        Snapshot("US", "vid00000001", 3000.0, 99, 0, 0),
    ]
    trends.add_snapshots(snaps)
    trends.add_snapshots([Snapshot("KR", "vid00000001", 3000.0, 31, 2, 1)])  # replaces
    got = trends.snapshots("KR", 2000.0)
    assert [(s.video_id, s.at, s.views) for s in got] == [
        ("vid00000000", 3000.0, 5),
        ("vid00000001", 2000.0, 10),
        ("vid00000001", 3000.0, 31),
    ]
    assert got[1].likes is None
    assert [s.at for s in trends.snapshots("KR", 0.0, 2500.0)] == [2000.0]
    assert trends.prune_snapshots("KR", 2500.0) == 1
    assert len(trends.snapshots("KR", 0.0)) == 2 and len(trends.snapshots("US", 0.0)) == 1


def test_channel_baselines(trends: TrendStore) -> None:
    first = ChannelBaseline("UC1", 100.0, (("v1", 1200.5), ("v2", 800.0)))
    trends.save_channel_baselines([first, ChannelBaseline("UC2", 100.0)])
    assert trends.channel_baselines(["UC1", "UC2", "UC3"]) == {
        "UC1": first,
        "UC2": ChannelBaseline("UC2", 100.0),
    }
    newer = ChannelBaseline("UC1", 200.0, (("v3", 10.0),))
    trends.save_channel_baselines([newer])
    assert trends.channel_baselines(["UC1"]) == {"UC1": newer}


def test_quota_spend_is_checked_and_recorded_atomically(trends: TrendStore) -> None:
    day = "youtube:2025-07-01"

    def spend(n: int) -> int | None:
        return trends.spend_quota(QuotaCall(day, 1000.0 + n, "search.list", 100, "KR", "c"), 500)

    results: list[int | None] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        got = spend(n)
        with lock:
            results.append(got)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r for r in results if r is not None) == [100, 200, 300, 400, 500]
    assert results.count(None) == 3
    state = trends.quota(day)
    assert state.spent == 500 and state.exhausted_until is None
    calls = trends.quota_calls(day)
    assert len(calls) == 5 and sum(c.units for c in calls) == 500
    assert trends.spend_quota(QuotaCall(day, 2000.0, "videos.list", 1), 500) is None
    assert trends.quota("youtube:2025-07-02").spent == 0

    trends.quota_exhausted(day, 9999.0, "quotaExceeded")
    state = trends.quota(day)
    assert (state.spent, state.exhausted_until, state.reason) == (500, 9999.0, "quotaExceeded")
    trends.quota_exhausted("youtube:2025-07-03", 1.0, "dailyLimitExceeded")
    assert trends.quota("youtube:2025-07-03").spent == 0
    # The search bucket is a ledger of its own.
    search = QuotaCall("youtube:search:2025-07-01", 1.0, "search.list", 1, "KR", "c", "search")
    assert trends.spend_quota(search, 100) == 1
    assert trends.quota_calls("youtube:search:2025-07-01") == [search]
    assert trends.quota(day).spent == 500


def test_analyses_replace_themselves_and_the_latest_only_moves_forward(
    trends: TrendStore,
) -> None:
    first = [
        make_trend("trd-a1", "KR", "KR-1", 1, 100.0),
        make_trend("trd-a2", "KR", "KR-1", 2, 100.0),
    ]
    trends.save_analysis("KR", "KR-1", 100.0, first)
    trends.save_analysis("KR", "KR-1", 100.0, [first[1].model_copy(update={"rank": 1})])
    assert [(t.trend_id, t.rank) for t in trends.analysis("KR-1")] == [("trd-a2", 1)]
    assert trends.trend("trd-a1") is None
    later = make_trend("trd-b1", "KR", "KR-2", 1, 200.0)
    trends.save_analysis("KR", "KR-2", 200.0, [later])
    trends.save_analysis("KR", "KR-1", 100.0, first)  # a late redelivery of the older one
    assert [t.trend_id for t in trends.latest("KR")] == ["trd-b1"]
    trends.save_analysis("US", "US-1", 150.0, [make_trend("trd-c1", "US", "US-1", 1, 150.0)])
    assert [t.trend_id for t in trends.latest()] == ["trd-b1", "trd-c1"]
    assert trends.latest("JP") == []
    stored = trends.trend("trd-b1")
    assert stored == later
    assert stored is not None and stored.explanation("en") == later.explanations[0]


def test_an_analysis_is_kept_before_it_is_published_and_its_write_ups_one_by_one(
    trends: TrendStore,
) -> None:
    day = 1_748_822_400.0  # 2025-06-02 00:00 UTC
    unexplained = make_trend("trd-d1", "KR", "KR-D1", 1, day + 3600).model_copy(
        update={"explanations": []}
    )
    trends.save_analysis("KR", "KR-D1", day + 3600, [unexplained], publish=False)
    assert trends.analysis("KR-D1") == [unexplained]
    assert trends.latest("KR") == [] and trends.daily("KR", "2025-06-02") == []
    explained = make_trend("trd-d1", "KR", "KR-D1", 1, day + 3600)
    trends.save_trend(explained)
    assert trends.trend("trd-d1") == explained and trends.analysis("KR-D1") == [explained]
    trends.save_analysis("KR", "KR-D1", day + 3600, [explained])
    assert trends.latest("KR") == [explained] == trends.daily("KR", "2025-06-02")
    # A later analysis the same day is the latest; the day keeps its first.
    second = make_trend("trd-d2", "KR", "KR-D2", 1, day + 7200)
    trends.save_analysis("KR", "KR-D2", day + 7200, [second])
    assert trends.latest("KR") == [second]
    assert trends.daily("KR", "2025-06-02") == [explained] == trends.daily(None, "2025-06-02")
    assert trends.daily("KR", "2025-06-03") == []


def test_followers(trends: TrendStore) -> None:
    trends.follow(Follower("b@example.com", "topic", "#먹방", "ko", 1.0))
    trends.follow(Follower("a@example.com", "region", "KR", "en", 1.0))
    trends.follow(Follower("a@example.com", "region", "KR", "ko", 2.0))  # language changed
    assert [(f.email, f.value, f.language) for f in trends.followers()] == [
        ("a@example.com", "KR", "ko"),
        ("b@example.com", "#먹방", "ko"),
    ]
    weekly = Follower("c@example.com", "region", "US", "en", 3.0, "weekly")
    trends.follow(weekly)
    assert trends.follower(weekly.follower_id) == weekly
    assert trends.unfollow(Follower("b@example.com", "topic", "#먹방"))
    assert not trends.unfollow(Follower("b@example.com", "topic", "#먹방"))
    assert trends.follower(Follower("b@example.com", "topic", "#먹방").follower_id) is None
    assert len(trends.followers()) == 2


def test_api_keys_are_found_by_hash_and_revoked_once(trends: TrendStore) -> None:
    key = ApiKey("key-1", "Acme", "ab" * 32, 10.0, 60)
    trends.add_key(key)
    trends.add_key(ApiKey("key-2", "Beta", "cd" * 32, 20.0, 5))
    assert trends.key_by_hash("ab" * 32) == key
    assert trends.key_by_hash("ef" * 32) is None
    assert trends.revoke_key("key-1", 30.0)
    assert not trends.revoke_key("key-1", 31.0)
    assert not trends.revoke_key("key-nope", 31.0)
    revoked = trends.key_by_hash("ab" * 32)
    assert revoked is not None and revoked.revoked and revoked.revoked_at == 30.0
    assert [k.key_id for k in trends.api_keys()] == ["key-1", "key-2"]
    owned = ApiKey("key-3", "Gamma", "ef" * 32, 40.0, 60, None, "user-1", 500.0, 1000)
    trends.add_key(owned)
    assert trends.key_by_hash("ef" * 32) == owned
    rotated = ApiKey("key-3", "Gamma", "ef" * 32, 40.0, 60, None, "user-1", 100.0, 1000, "key-4")
    assert trends.replace_key(rotated) and trends.key_by_hash("ef" * 32) == rotated
    assert not trends.replace_key(ApiKey("key-9", "x", "00" * 32, 1.0, 1))


def test_calls_are_counted_per_key_and_month_atomically(trends: TrendStore) -> None:
    counts: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        got = trends.count_call("key-1", "2026-12")
        with lock:
            counts.append(got)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(counts) == [1, 2, 3, 4, 5, 6]
    assert trends.count_call("key-1", "2027-01") == 1
    assert trends.calls(["key-1", "key-2"], "2026-12") == {"key-1": 6, "key-2": 0}
