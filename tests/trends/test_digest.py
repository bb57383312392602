"""The digest email end to end on the embedded default: the sample data set replayed through
the collector and the analysis, real ``.eml`` files in the outbox, in Korean and English,
sent once whatever is redelivered."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from schemas.trends import TrendsCollected
from shared import bootstrap
from shared.trends import sample
from shared.trends.collect import collection_id
from shared.trends.models import Follower
from shared.trends.parse import timestamp
from shared.trends.pipeline import analyze_and_notify
from shared.trends.replay import replay


def read(path: Path) -> tuple[EmailMessage, str, str]:
    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert isinstance(message, EmailMessage)
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    return message, text.get_content(), html.get_content()


def test_followers_get_one_digest_each_in_their_language(tale_home: Path) -> None:
    c = bootstrap.container()
    c.trends.follow(Follower("minji@example.com", "region", "KR", "ko"))
    c.trends.follow(Follower("sam@example.com", "region", "US", "en"))
    c.trends.follow(Follower("chef@example.com", "topic", "탕후루", "en"))
    c.trends.follow(Follower("knitter@example.com", "topic", "knitting", "en"))
    data = sample.load()

    result = replay(
        data,
        trends=c.trends,
        claims=c.claims,
        explainer=c.explainer,
        notifier=c.notifier,
        settings=c.settings,
    )

    files = sorted((tale_home / "outbox").glob("trends-*.eml"))
    assert len(files) == len(result.digests) == 3  # nothing matches knitting
    mails = {m["To"]: (m, text, html) for m, text, html in map(read, files)}
    assert set(mails) == {"minji@example.com", "sam@example.com", "chef@example.com"}

    ko, ko_text, ko_html = mails["minji@example.com"]
    kr = result.trends["KR"]
    assert ko["Subject"].startswith("한국 쇼츠 급상승 트렌드: #탕후루")
    assert ko["Content-Language"] == "ko"
    assert ko_text.startswith("샘플 데이터")  # the sample is labelled as such
    assert kr[0].label in ko_text and kr[0].explanation("ko") is not None
    explanation = kr[0].explanation("ko")
    assert explanation is not None and explanation.writeup.summary in ko_text
    link = f"http://localhost:3000/trends/{kr[0].trend_id}?idea=0"
    assert f"테일 만들기: {link}" in ko_text
    assert f'<a href="{link}">테일 만들기</a>' in ko_html and '<html lang="ko">' in ko_html
    assert "한국을 팔로우" in ko_text

    en, en_text, en_html = mails["sam@example.com"]
    assert en["Subject"].startswith("Rising on Shorts in the United States: #cloudbread")
    assert en["Content-Language"] == "en" and en_text.startswith("SAMPLE DATA")
    assert "Start a tale: http://localhost:3000/trends/" in en_text
    assert "Story ideas" in en_html and '<html lang="en">' in en_html

    topic, topic_text, _ = mails["chef@example.com"]
    assert topic["Subject"] == "Rising on Shorts — 탕후루: #탕후루"
    assert "is rising on Shorts in South Korea" in topic_text  # a KR trend, in English

    # A redelivered trends.collected (a new message for the same window) sends nothing new.
    before = {f: f.stat().st_mtime_ns for f in files}
    last = timestamp(data["rounds"][-1])
    assert last is not None
    _, sent = analyze_and_notify(
        TrendsCollected(region="KR", collection_id=collection_id("KR", last), at=last, sample=True),
        trends=c.trends,
        explainer=c.explainer,
        notifier=c.notifier,
        claims=c.claims,
        settings=c.settings,
        claimant="a-redelivered-message",
    )
    assert sent == []
    assert {f: f.stat().st_mtime_ns for f in files} == before
    # … and replaying the whole sample again collects nothing twice and mails nobody.
    again = replay(
        data,
        trends=c.trends,
        claims=c.claims,
        explainer=c.explainer,
        notifier=c.notifier,
        settings=c.settings,
    )
    assert {s.status for s in again.summaries} == {"already-collected"}
    assert again.units == 0 and again.digests == []
    assert again.trends == result.trends


def test_the_sample_replay_accounts_its_quota_on_its_own_ledger(tale_home: Path) -> None:
    c = bootstrap.container()
    data = sample.load()
    result = replay(
        data,
        trends=c.trends,
        claims=c.claims,
        explainer=c.explainer,
        notifier=c.notifier,
        settings=c.settings,
    )
    rounds, regions, topics = len(data["rounds"]), len(data["regions"]), len(data["topics"])
    # Each round and region: a search page per topic (100 units each), then one videos.list
    # and one channels.list (under 50 videos and channels each).
    assert result.units == rounds * regions * (topics * 100 + 1 + 1) == 3232
    days = {s.collection_id for s in result.summaries}
    assert len(days) == rounds * regions
    skipped: dict[str, int] = {}
    for s in result.summaries:
        for reason, n in s.skipped.items():
            skipped[reason] = skipped.get(reason, 0) + n
    assert skipped["deleted"] >= 2 and skipped["malformed"] == 1 and skipped["hidden_likes"] > 0
    live = c.trends.quota_calls(f"youtube:{data['rounds'][0][:10]}")
    assert live == []  # the live key's ledger is untouched
