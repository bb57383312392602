"""The trend digest: one email (plain text and HTML, Korean or English) per follower and
analysis, through the notifier.

A follower of a region gets the analysis' trends; a follower of a topic gets the trends
whose search topics or keywords include it (``먹방`` matches ``#먹방``). Each trend shows its
summary and its story ideas, each with a "start a tale" link into the frontend
(``<TALE_CORS_ORIGIN>/trends/<id>?idea=<n>``, which calls ``POST /v1/trends/{id}/tales``).

Sent once per (analysis, follower), whatever is redelivered: the first delivery claims the
digest (a duplicate message finds the claim held and drops it), the notifier keys the
message on the same key (a second send replaces, never adds), and a marker written after
sending makes a later redelivery skip it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from html import escape

from schemas.story import Language
from shared.ports import claims as keys
from shared.ports.claims import Claims
from shared.ports.notifier import Message, Notifier
from shared.trends.explain import josa, region_name
from shared.trends.models import Follower, Trend

log = logging.getLogger("tale.trends")

#: Trends per digest.
DIGEST_TOP = 5
SAMPLE_BANNER = {
    "en": "SAMPLE DATA — made-up videos from Tale's sample data set, not real YouTube data.",
    "ko": "샘플 데이터 — Tale 샘플 데이터 세트의 가상 영상이며 실제 유튜브 데이터가 아닙니다.",
}
_TEXTS = {
    "en": {
        "subject": "Rising on Shorts in {region}: {labels}",
        "subject_topic": "Rising on Shorts — {topic}: {labels}",
        "intro": "What is rising on YouTube Shorts in {region} right now, and stories it could "
        "become.",
        "ideas": "Story ideas",
        "start": "Start a tale",
        "why": "You get this because you follow {what} on Tale.",
    },
    "ko": {
        "subject": "{region} 쇼츠 급상승 트렌드: {labels}",
        "subject_topic": "쇼츠 급상승 트렌드 — {topic}: {labels}",
        "intro": "지금 {region} 유튜브 쇼츠에서 뜨고 있는 트렌드와, 그 트렌드로 만들 수 있는 "
        "이야기예요.",
        "ideas": "이야기 아이디어",
        "start": "테일 만들기",
        "why": "Tale에서 {what}{particle} 팔로우하셔서 보내 드리는 메일입니다.",
    },
}


def _norm(term: str) -> str:
    return term.strip().lstrip("#").lower()


def matches(follower: Follower, trend: Trend) -> bool:
    if follower.kind == "region":
        return follower.value.upper() == trend.region
    wanted = _norm(follower.value)
    return any(_norm(t) == wanted for t in [*trend.topics, *trend.keywords, trend.label])


def digest_key(analysis_id: str, follower: Follower) -> str:
    return f"trends-{analysis_id}-{follower.follower_id}"


def start_link(origin: str, trend: Trend, idea: int) -> str:
    return f"{origin.rstrip('/')}/trends/{trend.trend_id}?idea={idea}"


@dataclass(frozen=True)
class Digest:
    subject: str
    text: str
    html: str


def render(follower: Follower, trends: list[Trend], origin: str) -> Digest:
    """The digest of ``trends`` for one follower, in the follower's language."""
    lang: Language = follower.language if follower.language in _TEXTS else "en"
    t = _TEXTS[lang]
    region = region_name(trends[0].region, lang)
    labels = ", ".join(tr.label for tr in trends[:3])
    subject = (
        t["subject"].format(region=region, labels=labels)
        if follower.kind == "region"
        else t["subject_topic"].format(topic=follower.value, labels=labels)
    )
    what = region_name(follower.value, lang) if follower.kind == "region" else follower.value
    particle = josa(what, "을", "를")
    sample = any(tr.sample for tr in trends)
    text_lines = [SAMPLE_BANNER[lang], ""] if sample else []
    text_lines += [t["intro"].format(region=region), ""]
    html = [f"<p><strong>{escape(SAMPLE_BANNER[lang])}</strong></p>"] if sample else []
    html.append(f"<p>{escape(t['intro'].format(region=region))}</p>")
    for n, trend in enumerate(trends, 1):
        explanation = trend.explanation(lang)
        summary = explanation.writeup.summary if explanation else ""
        text_lines += [f"{n}. {trend.label}", summary, f"{t['ideas']}:"]
        html += [f"<h2>{n}. {escape(trend.label)}</h2>", f"<p>{escape(summary)}</p>"]
        html.append(f"<h3>{escape(t['ideas'])}</h3><ol>")
        for i, idea in enumerate(explanation.writeup.ideas if explanation else []):
            link = start_link(origin, trend, i)
            text_lines += [f"  - {idea.title}: {idea.story}", f"    {t['start']}: {link}"]
            html.append(
                f"<li><strong>{escape(idea.title)}</strong><p>{escape(idea.story)}</p>"
                f'<p><a href="{escape(link)}">{escape(t["start"])}</a></p></li>'
            )
        html.append("</ol>")
        text_lines.append("")
    why = t["why"].format(what=what, particle=particle)
    text_lines += ["--", why]
    body = "".join(html)
    document = (
        f'<!doctype html><html lang="{lang}"><meta charset="utf-8">'
        f"<title>{escape(subject)}</title><body>{body}"
        f"<hr><p><small>{escape(why)}</small></p></body></html>"
    )
    return Digest(subject, "\n".join(text_lines) + "\n", document)


def send_digests(
    trends: list[Trend],
    followers: list[Follower],
    *,
    analysis_id: str,
    notifier: Notifier,
    claims: Claims,
    claimant: str,
    origin: str,
) -> list[str]:
    """Send each matching follower the digest of this analysis, at most once; returns where
    the sent ones went."""
    sent: list[str] = []
    for follower in followers:
        chosen = [t for t in trends if matches(follower, t)][:DIGEST_TOP]
        if not chosen:
            continue
        key = digest_key(analysis_id, follower)
        marker = keys.digest_sent(key)
        if claims.marked(marker) or claims.claim(keys.digest(key), claimant) != claimant:
            continue
        digest = render(follower, chosen, origin)
        where = notifier.send_message(
            Message(
                key=key,
                to=follower.email,
                subject=digest.subject,
                text=digest.text,
                html=digest.html,
                language=follower.language,
            )
        )
        claims.claim_once(marker)
        log.info("trend digest %s sent to %s: %s", key, follower.email, where)
        sent.append(where)
    return sent
