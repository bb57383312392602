"""The digest's words in Korean and English, and a trend's figures as one line of text (the
digest and the CLI say the same thing the same way)."""

from __future__ import annotations

from datetime import UTC, datetime

from schemas.story import Language
from shared.trends.models import Trend

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "subject": "Rising on Shorts in {region}: {labels}",
        "subject_topic": "Rising on Shorts — {topic}: {labels}",
        "intro": "New since your last digest: what is rising on YouTube Shorts in {region}, "
        "and stories it could become.",
        "videos": "Videos",
        "ideas": "Story ideas",
        "start": "Start a tale",
        "why": "You get this {every} because you follow {what} on Tale.",
        "unsubscribe": "Unsubscribe",
        "daily": "daily",
        "weekly": "weekly",
        "facts": "{status}: views per hour {growth} ({window}), {vs} the usual decay; "
        "median age {age} h; {channels} channels",
        "rising": "rising",
        "steady": "steady",
        "fading": "fading",
        "new": "new",
        "unknown": "not measured twice yet",
    },
    "ko": {
        "subject": "{region} 쇼츠 급상승 트렌드: {labels}",
        "subject_topic": "쇼츠 급상승 트렌드 — {topic}: {labels}",
        "intro": "지난 메일 이후 새로 {region} 유튜브 쇼츠에서 뜨고 있는 트렌드와, 그 트렌드로 "
        "만들 수 있는 이야기예요.",
        "videos": "영상",
        "ideas": "이야기 아이디어",
        "start": "테일 만들기",
        "why": "Tale에서 {what}{particle} 팔로우하셔서 {every} 보내 드리는 메일입니다.",
        "unsubscribe": "수신 거부",
        "daily": "매일",
        "weekly": "매주",
        "facts": "{status}: 시간당 조회수 {growth} ({window}), 보통의 감소 대비 {vs}; "
        "영상 나이 중앙값 {age}시간; 채널 {channels}개",
        "rising": "급상승",
        "steady": "유지",
        "fading": "하락",
        "new": "새로 등장",
        "unknown": "아직 두 번 측정되지 않음",
    },
}


def utc(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%m-%d %H:%M UTC")


def describe(trend: Trend, language: Language) -> str:
    """Status, growth in %, window, against the expected decay, age and channels."""
    t = TEXTS[language]
    if trend.growth_pct is None or trend.window is None or trend.vs_expected is None:
        growth, window, vs = t["unknown"], "-", "-"
    else:
        growth = f"{trend.growth_pct:+.0f}%"
        window = f"{utc(trend.window[0])} – {utc(trend.window[1])}"
        vs = f"{trend.vs_expected:.1f}×"
    return t["facts"].format(
        status=t[trend.status],
        growth=growth,
        window=window,
        vs=vs,
        age=f"{trend.age_h:.0f}",
        channels=trend.channels,
    )
