"""An analysis is paid once: every write-up is stored as it is produced, so a redelivery after
a failure on the 7th trend asks the model only for what is missing; and it pays only for the
languages someone reads (Japanese and Chinese where the region speaks them or a follower in
them will be mailed the trend)."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas.story import Language
from shared.adapters.local.trends import SqliteTrendStore
from shared.domain.errors import TransientError
from shared.trends.analyze import LANGUAGES, analyze, explain_missing
from shared.trends.build import AnalysisParams
from shared.trends.explain import OfflineExplainer, TrendExplainer
from shared.trends.models import Explanation, Follower, Snapshot, Trend, VideoInfo

NOW = 1_750_000_000.0
H = 3600.0
WORDS = ("apple", "berry", "cocoa", "donut", "eclair", "fudge", "gelato", "honey", "icing")


class Counting(TrendExplainer):
    """The offline write-up, counting the (paid) calls; fails on one trend if told to."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.calls: list[tuple[str, Language]] = []
        self.fail_on = fail_on

    def explain(self, trend: Trend, language: Language) -> Explanation:
        self.calls.append((trend.label, language))
        if trend.label == self.fail_on:
            raise TransientError("the model is overloaded (503)")
        return OfflineExplainer().explain(trend, language)


def store_with_nine_trends(tmp_path: Path) -> SqliteTrendStore:
    store = SqliteTrendStore(tmp_path / "trends.db")
    for n, word in enumerate(WORDS):
        for k in range(2):
            vid = f"{word}{k}"
            store.save_videos(
                [VideoInfo(vid, f"{word} {k} #{word}", f"UC{vid}", f"ch {vid}", NOW - 40 * H)]
            )
            pace = 1000 * (n + 1)  # distinct scores: a fixed rank order
            store.add_snapshots(
                [Snapshot("KR", vid, NOW - (2 - i) * 6 * H, pace * (i + 1) ** 3) for i in range(3)]
            )
    return store


def test_a_failure_on_the_7th_trend_is_resumed_without_paying_twice(tmp_path: Path) -> None:
    store = store_with_nine_trends(tmp_path)
    params = AnalysisParams(top=9)
    first = Counting()
    ranked = [t.label for t in analyze(store, first, "KR", "KR-A", NOW, params)]
    store = store_with_nine_trends(tmp_path / "again")
    seventh = ranked[6]

    failing = Counting(fail_on=seventh)
    with pytest.raises(TransientError):
        analyze(store, failing, "KR", "KR-A", NOW, params)
    paid = failing.calls[:-1]  # the last call failed: nothing to pay for, nothing stored
    assert paid == [(label, lang) for label in ranked[:6] for lang in LANGUAGES]
    assert failing.calls[-1] == (seventh, LANGUAGES[0])
    stored = store.analysis("KR-A")
    assert [len(t.explanations) for t in stored] == [2] * 6 + [0] * 3
    assert store.latest("KR") == []  # not published half explained

    redelivered = Counting()
    trends = analyze(store, redelivered, "KR", "KR-A", NOW, params)
    assert redelivered.calls == [(label, lang) for label in ranked[6:] for lang in LANGUAGES]
    assert all(len(t.explanations) == len(LANGUAGES) for t in trends)
    assert store.latest("KR") == trends

    again = Counting()
    assert analyze(store, again, "KR", "KR-A", NOW, params) == trends
    assert again.calls == []


def test_japanese_and_chinese_are_paid_for_only_where_someone_reads_them(tmp_path: Path) -> None:
    store = store_with_nine_trends(tmp_path)
    nobody = Counting()
    trends = analyze(store, nobody, "KR", "KR-A", NOW, AnalysisParams(top=9))
    assert nobody.calls == [(t.label, lang) for t in trends for lang in ("ko", "en")]
    assert all(t.explanation("ja") == t.explanation("en") for t in trends)  # English, marked

    bare = [t.model_copy(update={"explanations": []}) for t in trends]
    bare[-1] = bare[-1].model_copy(update={"status": "steady"})  # never mailed
    honey = bare[1].label
    assert honey == "#honey" and all(t.status == "rising" for t in bare[:-1])
    readers = [
        Follower("hana@example.com", "region", "KR", "ja"),
        Follower("lan@example.com", "topic", "honey", "zh"),  # one trend's topic
        Follower("sam@example.com", "region", "KR", "en"),
        Follower("yuki@example.com", "region", "US", "ja"),  # another region
        Follower("mei@example.com", "topic", "knitting", "zh"),  # nothing here
    ]
    paid = Counting()
    explained = explain_missing(bare, paid, readers=readers)
    expected = [(t.label, lang) for t in bare[:-1] for lang in ("ko", "en", "ja")]
    expected.insert(expected.index((honey, "ja")) + 1, (honey, "zh"))
    assert paid.calls == [*expected, (bare[-1].label, "ko"), (bare[-1].label, "en")]
    assert [e.language for e in explained[1].explanations] == ["ko", "en", "ja", "zh"]
    assert explained[-1].explanation("ja") == explained[-1].explanation("en")

    again = Counting()  # a redelivery: everything read is written
    assert explain_missing(explained, again, readers=readers) == explained
    assert again.calls == []
    later = Counting()  # a Chinese reader of the region follows later: only Chinese is asked
    explain_missing(
        explained, later, readers=[*readers, Follower("li@example.com", "region", "KR", "zh")]
    )
    assert later.calls == [(t.label, "zh") for t in bare[:-1] if t.label != honey]


@pytest.mark.parametrize(
    ("region", "written"),
    [("JP", ("ko", "en", "ja")), ("TW", ("ko", "en", "zh")), ("DE", ("ko", "en"))],
)
def test_a_regions_own_language_is_written_for_every_trend(
    tmp_path: Path, region: str, written: tuple[str, ...]
) -> None:
    trends = analyze(
        store_with_nine_trends(tmp_path), Counting(), "KR", "KR-A", NOW, AnalysisParams(top=3)
    )
    steady = [
        t.model_copy(update={"region": region, "status": "steady", "explanations": []})
        for t in trends
    ]
    paid = Counting()
    explained = explain_missing(steady, paid)
    assert paid.calls == [(t.label, lang) for t in steady for lang in written]
    assert all(tuple(e.language for e in t.explanations) == written for t in explained)
