"""The trend digest: at most one email per follower and period (a UTC day, or an ISO week —
the follower's choice), in the follower's language (Korean, English, Japanese or Chinese: the
words from the message catalogues, region names from ``regions``, each trend's write-up in that
language, or the English one said to be English), with only the rising trends that are new to
them since their last digest.

A follower of a region gets that region's trends; a follower of a topic gets the trends
whose niches, search queries, keywords or label include it (``먹방`` matches ``#먹방``).
Only ``rising`` trends go in — a steady or fading one is never mailed as rising. Each trend
shows its status, growth in %, against the expected decay, the window that compares, the
median age, the number of channels, links to its top videos, its summary and its story
ideas, each with a "start a tale" link (``<TALE_CORS_ORIGIN>/trends/<id>?idea=<n>``).

Unsubscribing (RFC 8058): every digest carries ``List-Unsubscribe: <https://…/v1/trends/
unsubscribe?token=…>`` and ``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` — a mail
client POSTs there and the follower is removed, no further step — and a link at its foot to
the frontend's page (``<origin>/trends/unsubscribe?token=…``), which asks, then POSTs.

Sent once per follower and period, whatever is redelivered: the first delivery claims the
period's digest (another message finds the claim held and drops it), the notifier keys the
message on the same key, each listed trend is then marked for the follower, and a marker
written last makes later deliveries in the period skip it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from urllib.parse import quote

from schemas.story import Language
from shared.ports import claims as keys
from shared.ports.claims import Claims
from shared.ports.notifier import Message, Notifier
from shared.trends.digest_text import describe, utc
from shared.trends.digest_text import text as words
from shared.trends.models import Follower, Trend
from shared.trends.readers import WRITTEN, matches
from shared.trends.regions import region_name
from shared.trends.unsubscribe import token

log = logging.getLogger("tale.trends")

#: Trends per digest, and video links per trend.
DIGEST_TOP = 5
VIDEO_LINKS = 3


@dataclass(frozen=True)
class DigestLinks:
    origin: str
    """The frontend (start-a-tale and unsubscribe pages)."""
    api_url: str
    """The API, for the one-click unsubscribe."""
    secret: Callable[[], bytes]
    """The unsubscribe signing key, read when a digest is about to be sent."""

    def start(self, trend: Trend, idea: int) -> str:
        return f"{self.origin.rstrip('/')}/trends/{trend.trend_id}?idea={idea}"

    def unsubscribe(self, follower: Follower) -> tuple[str, str]:
        """(one-click URL for ``List-Unsubscribe``, the page for the mail's foot)."""
        signed = quote(token(follower.follower_id, self.secret()), safe="")
        return (
            f"{self.api_url.rstrip('/')}/v1/trends/unsubscribe?token={signed}",
            f"{self.origin.rstrip('/')}/trends/unsubscribe?token={signed}",
        )


def period(follower: Follower, at: float) -> str:
    """The follower's digest period containing ``at``: ``2025-06-02`` or ``2025-W23``."""
    when = datetime.fromtimestamp(at, UTC)
    if follower.frequency == "weekly":
        year, week, _ = when.isocalendar()
        return f"{year}-W{week:02d}"
    return when.date().isoformat()


def digest_key(follower: Follower, at: float) -> str:
    return f"trends-{period(follower, at)}-{follower.follower_id}"


@dataclass(frozen=True)
class Digest:
    subject: str
    text: str
    html: str
    headers: tuple[tuple[str, str], ...]


def _lines(trend: Trend, n: int, lang: Language, links: DigestLinks) -> tuple[list[str], list[str]]:
    """One trend's part of the digest: (text lines, HTML pieces). A write-up missing in the
    reader's language is the English one, said so in the reader's language."""
    facts = describe(trend, lang)
    explanation = trend.explanation(lang)
    summary = explanation.writeup.summary if explanation else ""
    written = explanation.language if explanation else lang
    text = [f"{n}. {trend.label} — {facts}"]
    html = [f"<h2>{n}. {escape(trend.label)}</h2>", f"<p><em>{escape(facts)}</em></p>"]
    if written != lang:
        note = words(lang, "in-english")
        text.append(note)
        html.append(f"<p><small>{escape(note)}</small></p>")
    text += [summary, f"{words(lang, 'videos')}:"]
    html += [
        f'<div lang="{written}"><p>{escape(summary)}</p>',
        f"<h3>{escape(words(lang, 'videos'))}</h3><ul>",
    ]
    for video in trend.videos[:VIDEO_LINKS]:
        text.append(f"  - {video.title} ({video.channel_title}): {video.url}")
        html.append(
            f'<li><a href="{escape(video.url)}">{escape(video.title)}</a> — '
            f"{escape(video.channel_title)}</li>"
        )
    ideas, start = words(lang, "ideas"), words(lang, "start")
    html.append(f"</ul><h3>{escape(ideas)}</h3><ol>")
    text.append(f"{ideas}:")
    for i, idea in enumerate(explanation.writeup.ideas if explanation else []):
        link = links.start(trend, i)
        text += [f"  - {idea.title}: {idea.story}", f"    {start}: {link}"]
        html.append(
            f"<li><strong>{escape(idea.title)}</strong><p>{escape(idea.story)}</p>"
            f'<p><a href="{escape(link)}">{escape(start)}</a></p></li>'
        )
    html.append("</ol></div>")
    text.append("")
    return text, html


def render(follower: Follower, trends: list[Trend], links: DigestLinks) -> Digest:
    """The digest of ``trends`` for one follower, in the follower's language."""
    lang: Language = follower.language if follower.language in WRITTEN else "en"
    region = region_name(trends[0].region, lang)
    labels = ", ".join(tr.label for tr in trends[:3])
    subject = (
        words(lang, "subject", region=region, labels=labels)
        if follower.kind == "region"
        else words(lang, "subject-topic", topic=follower.value, labels=labels)
    )
    what = region_name(follower.value, lang) if follower.kind == "region" else follower.value
    one_click, page = links.unsubscribe(follower)
    intro = words(lang, "intro", region=region)
    text, html = [], []
    if any(tr.sample for tr in trends):
        banner = words(lang, "sample")
        text += [banner, ""]
        html.append(f"<p><strong>{escape(banner)}</strong></p>")
    text += [intro, ""]
    html.append(f"<p>{escape(intro)}</p>")
    for n, trend in enumerate(trends, 1):
        more_text, more_html = _lines(trend, n, lang, links)
        text += more_text
        html += more_html
    why = words(lang, "why", what=what, every=words(lang, follower.frequency))
    unsubscribe = words(lang, "unsubscribe")
    text += ["--", why, f"{unsubscribe}: {page}"]
    document = (
        f'<!doctype html><html lang="{lang}"><meta charset="utf-8">'
        f"<title>{escape(subject)}</title><body>{''.join(html)}"
        f"<hr><p><small>{escape(why)} "
        f'<a href="{escape(page)}">{escape(unsubscribe)}</a></small></p></body></html>'
    )
    headers = (
        ("List-Unsubscribe", f"<{one_click}>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
    )
    return Digest(subject, "\n".join(text) + "\n", document, headers)


def send_digests(
    trends: list[Trend],
    followers: list[Follower],
    *,
    at: float,
    notifier: Notifier,
    claims: Claims,
    claimant: str,
    links: DigestLinks,
) -> list[str]:
    """Send each follower the rising trends of ``trends`` that are new to them, unless they
    had their digest of this period; returns where the sent ones went."""
    sent: list[str] = []
    for follower in followers:
        fresh = [
            t
            for t in trends
            if t.status == "rising"
            and matches(follower, t)
            and not claims.marked(keys.digest_trend(follower.follower_id, t.key))
        ][:DIGEST_TOP]
        if not fresh:
            continue
        key = digest_key(follower, at)
        if claims.marked(keys.digest_sent(key)) or claims.claim(keys.digest(key), claimant) != (
            claimant
        ):
            continue
        digest = render(follower, fresh, links)
        where = notifier.send_message(
            Message(
                key=key,
                to=follower.email,
                subject=digest.subject,
                text=digest.text,
                html=digest.html,
                language=follower.language,
                headers=digest.headers,
            )
        )
        for trend in fresh:
            claims.claim_once(keys.digest_trend(follower.follower_id, trend.key))
        claims.claim_once(keys.digest_sent(key))
        log.info("trend digest %s sent to %s: %s (%s)", key, follower.email, where, utc(at))
        sent.append(where)
    return sent
