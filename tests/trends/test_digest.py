"""The digest end to end on the embedded default: the sample data set replayed through the
collector and the analysis, real ``.eml`` files in the outbox — only rising trends, video
links, the figures, RFC 8058 one-click unsubscribe, the follower's language (Korean, English,
Japanese or Chinese, the English write-up said to be English where the trend has none in it)
— and at most one per follower and period, carrying only trends new to them."""

from __future__ import annotations

import re
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest

from schemas.story import detect_language
from schemas.trends import TrendsCollected
from shared import bootstrap
from shared.adapters.email.sendgrid import SendGridTransport
from shared.adapters.email.sending import Outgoing
from shared.adapters.email.smtp import SmtpTransport
from shared.config import Settings
from shared.ports.notifier import Message
from shared.trends import sample
from shared.trends.collect import collection_id
from shared.trends.digest import render, send_digests
from shared.trends.models import Follower
from shared.trends.parse import timestamp
from shared.trends.pipeline import analyze_and_notify, links_for
from shared.trends.replay import ReplayResult, replay
from shared.trends.unsubscribe import follower_of, secret

API = "https://api.tale.example"


def read(path: Path) -> tuple[EmailMessage, str, str]:
    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert isinstance(message, EmailMessage)
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    return message, text.get_content(), html.get_content()


@pytest.fixture
def container(tale_home: Path) -> bootstrap.Container:
    return bootstrap.configure(Settings(home=tale_home, trends_api_url=API))


def run_sample(c: bootstrap.Container) -> ReplayResult:
    return replay(
        sample.load(),
        trends=c.trends,
        claims=c.claims,
        explainer=c.explainer,
        notifier=c.notifier,
        settings=c.settings,
    )


def test_followers_get_new_rising_trends_in_their_language(
    container: bootstrap.Container, tale_home: Path
) -> None:
    c = container
    minji = Follower("minji@example.com", "region", "KR", "ko")
    c.trends.follow(minji)
    c.trends.follow(Follower("sam@example.com", "region", "US", "en", frequency="weekly"))
    c.trends.follow(Follower("chef@example.com", "topic", "탕후루", "en"))
    c.trends.follow(Follower("knitter@example.com", "topic", "knitting", "en"))

    result = run_sample(c)

    files = sorted((tale_home / "outbox").glob("trends-*.eml"))
    assert len(files) == len(result.digests) == 3  # nothing matches knitting
    mails = {m["To"]: (m, text, html) for m, text, html in map(read, files)}
    assert set(mails) == {"minji@example.com", "sam@example.com", "chef@example.com"}

    ko, ko_text, ko_html = mails["minji@example.com"]
    kr = result.trends["KR"]
    tanghulu = kr[0]
    assert tanghulu.label == "#탕후루" and tanghulu.status == "rising"
    assert ko["Subject"] == "한국 쇼츠 급상승 트렌드: #탕후루"  # the only rising one
    assert ko["Content-Language"] == "ko" and ko_text.startswith("샘플 데이터")
    assert not any(t.label in ko_text for t in kr if t.status != "rising")  # no fading, no steady
    assert f"급상승: 시간당 조회수 {tanghulu.growth_pct:+.0f}%" in ko_text
    assert "채널 4개" in ko_text and "UTC" in ko_text
    for video in tanghulu.videos[:3]:
        assert video.url in ko_text and f'href="{video.url}"' in ko_html
    link = f"http://localhost:3000/trends/{tanghulu.trend_id}?idea=0"
    assert f"테일 만들기: {link}" in ko_text and '<html lang="ko">' in ko_html
    assert "Tale에서 한국 트렌드를 팔로우하셔서 매일 보내 드리는" in ko_text

    # RFC 8058: an HTTPS one-click URI in List-Unsubscribe, and List-Unsubscribe-Post.
    assert ko["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    (one_click,) = re.findall(r"^<(https://[^>]+)>$", ko["List-Unsubscribe"])
    assert one_click.startswith(f"{API}/v1/trends/unsubscribe?token=")
    token = one_click.split("token=")[1]
    assert follower_of(token, secret(c.settings, c.home)) == minji.follower_id
    assert f"수신 거부: http://localhost:3000/trends/unsubscribe?token={token}" in ko_text
    assert "minji" not in one_click  # the token names no address

    en, en_text, _ = mails["sam@example.com"]
    assert en["Subject"] == "Rising on Shorts in the United States: #cloudbread"
    assert en["Content-Language"] == "en" and "You get this weekly" in en_text
    assert "rising: views per hour +" in en_text and "the usual decay" in en_text

    topic, topic_text, _ = mails["chef@example.com"]
    assert topic["Subject"] == "Rising on Shorts — 탕후루: #탕후루"
    assert "on Shorts in South Korea is rising" in topic_text  # a KR trend, in English


def test_japanese_and_chinese_followers_get_their_digest_in_their_language(
    container: bootstrap.Container, tale_home: Path
) -> None:
    c = container
    hana = Follower("hana@example.com", "region", "KR", "ja")
    c.trends.follow(hana)
    c.trends.follow(Follower("lan@example.com", "topic", "cloudbread", "zh", frequency="weekly"))

    result = run_sample(c)

    files = sorted((tale_home / "outbox").glob("trends-*.eml"))
    mails = {m["To"]: (m, text, html) for m, text, html in map(read, files)}
    assert set(mails) == {"hana@example.com", "lan@example.com"}
    ja, ja_text, ja_html = mails["hana@example.com"]
    tanghulu = result.trends["KR"][0]
    assert ja["Subject"] == "韓国のショートで急上昇中：#탕후루"
    assert ja["Content-Language"] == "ja" and '<html lang="ja">' in ja_html
    assert ja_text.startswith("サンプルデータ — Taleのサンプルデータセット")
    assert "韓国のYouTubeショートで新たに急上昇しているトレンド" in ja_text
    assert f"急上昇：1時間あたりの再生回数 {tanghulu.growth_pct:+.0f}%" in ja_text
    assert "4チャンネル" in ja_text and "物語のアイデア:" in ja_text
    written = tanghulu.explanation("ja")
    assert written is not None and written.language == "ja"
    assert detect_language(written.writeup.summary) == "ja"
    assert written.writeup.summary.startswith("韓国のYouTubeショートで、#탕후루に関連する動画")
    assert written.writeup.summary in ja_text
    for idea in written.writeup.ideas:
        assert detect_language(idea.story) == "ja" and idea.title in ja_text
    link = f"http://localhost:3000/trends/{tanghulu.trend_id}?idea=0"
    assert f"テイルを作る: {link}" in ja_text
    assert "Taleで韓国をフォローしているため、毎日お送りしています。" in ja_text
    assert "配信停止: http://localhost:3000/trends/unsubscribe?token=" in ja_text
    assert "英語で表示" not in ja_text  # a Japanese write-up, not the English one

    zh, zh_text, zh_html = mails["lan@example.com"]
    assert zh["Subject"] == "Shorts 上升趋势 — cloudbread：#cloudbread"
    assert zh["Content-Language"] == "zh" and '<html lang="zh">' in zh_html
    assert zh_text.startswith("示例数据") and "美国 YouTube Shorts" in zh_text
    cloudbread = next(t for t in result.trends["US"] if t.label == "#cloudbread")
    chinese = cloudbread.explanation("zh")
    assert chinese is not None and chinese.language == "zh"
    assert chinese.writeup.summary.startswith("在美国的 YouTube Shorts 上") and (
        chinese.writeup.summary in zh_text
    )
    assert "你在 Tale 上关注了cloudbread，所以我们每周给你发送这封邮件。" in zh_text

    # Written only where read: Japanese for the rising KR trends, Chinese for #cloudbread.
    languages = {
        t.label: [e.language for e in t.explanations]
        for trends in result.trends.values()
        for t in trends
    }
    rising_kr = {t.label for t in result.trends["KR"] if t.status == "rising"}
    assert languages.pop("#cloudbread") == ["ko", "en", "zh"]
    for label, written_in in languages.items():
        assert written_in == (["ko", "en", "ja"] if label in rising_kr else ["ko", "en"]), label


def test_a_write_up_missing_in_the_readers_language_is_the_english_one_said_so(
    container: bootstrap.Container,
) -> None:
    c = container
    result = run_sample(c)  # nobody reads Japanese: nothing written in it
    tanghulu = result.trends["KR"][0]
    assert [e.language for e in tanghulu.explanations] == ["ko", "en"]
    late = Follower("hana@example.com", "region", "KR", "ja")

    digest = render(late, [tanghulu], links_for(c.settings, c.home))

    english = tanghulu.explanations[1].writeup
    assert digest.subject == "韓国のショートで急上昇中：#탕후루"
    note = "（まだ日本語で書かれていないため、英語で表示しています。）"
    assert f"{note}\n{english.summary}\n" in digest.text
    assert english.ideas[0].title in digest.text and "テイルを作る: " in digest.text
    assert f"<small>{note}</small>" in digest.html and '<div lang="en">' in digest.html
    assert "on Shorts in South Korea is rising" in digest.text


def test_a_digest_is_not_sent_twice_within_its_period(
    container: bootstrap.Container, tale_home: Path
) -> None:
    c = container
    c.trends.follow(Follower("minji@example.com", "region", "KR", "ko"))
    data = sample.load()
    result = run_sample(c)
    assert len(result.digests) == 1
    outbox = tale_home / "outbox"
    before = {f: f.stat().st_mtime_ns for f in outbox.glob("trends-*.eml")}

    # A redelivered trends.collected: nothing new is sent.
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
    assert {f: f.stat().st_mtime_ns for f in outbox.glob("trends-*.eml")} == before

    # A new rising trend later the same day waits for the next period; then only the new
    # trend is sent, not the one mailed already.
    kr = result.trends["KR"]
    new = kr[0].model_copy(update={"trend_id": "trd-00000000000000ff", "label": "#붕어빵"})
    followers = c.trends.followers()
    links = links_for(c.settings, c.home)
    args = {"notifier": c.notifier, "claims": c.claims, "claimant": "m-2", "links": links}
    assert send_digests([kr[0], new], followers, at=last + 3600, **args) == []
    (where,) = send_digests([kr[0], new], followers, at=last + 86400, **args)
    _, text, _ = read(Path(where))
    assert re.findall(r"^\d+\. (\S+) —", text, re.M) == ["#붕어빵"]
    assert send_digests([new], followers, at=last + 86400 + 60, **args) == []

    # Replaying the whole sample again collects nothing twice and mails nobody.
    again = run_sample(c)
    assert {s.status for s in again.summaries} == {"already-collected"}
    assert again.units == 0 and again.digests == []


def test_every_email_transport_carries_the_unsubscribe_headers() -> None:
    headers = (
        ("List-Unsubscribe", "<https://api.tale.example/v1/trends/unsubscribe?token=x>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
    )
    mail = Outgoing.of(
        Message("trends-k", "a@example.com", "s", "t", "<p>h</p>", "en", headers=headers)
    )
    smtp = SmtpTransport("relay.example", 587, sender="Tale <noreply@tale.example>")
    msg = smtp.message(mail)
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["List-Unsubscribe"] == headers[0][1]
    body = SendGridTransport.__new__(SendGridTransport)
    body.sender = "Tale <noreply@tale.example>"
    sent = SendGridTransport.body(body, mail)
    assert sent["headers"]["List-Unsubscribe"] == headers[0][1]
    assert sent["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_the_sample_replay_accounts_its_quota_on_its_own_ledger(
    container: bootstrap.Container,
) -> None:
    c = container
    data = sample.load()
    result = run_sample(c)
    rounds, regions = len(data["rounds"]), len(data["regions"])
    searched = sum(s.calls.get("search.list", 0) for s in result.summaries)
    # Each round and region: one search per niche meant for its language, one chart call
    # per category (a missing chart is charged too), and the pool's videos.list,
    # channels.list and playlistItems.list.
    assert searched == rounds * regions * len(data["niches"]) == 48
    charts = rounds * regions * len(data["categories"])
    pool = sum(s.units for s in result.summaries) - searched
    assert pool >= charts
    skipped: dict[str, int] = {}
    for s in result.summaries:
        for reason, n in s.skipped.items():
            skipped[reason] = skipped.get(reason, 0) + n
    assert skipped["deleted"] >= 2 and skipped["malformed"] == 1 and skipped["hidden_likes"] > 0
    assert skipped["no_chart"] == rounds * 3 and skipped["not_short"] >= rounds
    assert c.trends.quota_calls(f"youtube:{data['rounds'][0][:10]}") == []  # not the live key's
