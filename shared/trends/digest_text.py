"""The digest's words, from the message catalogues (``shared/i18n``, keys ``trends.…`` in
Korean, English, Japanese and Chinese), and a trend's figures as one line of text (the digest
and the CLI say the same thing the same way)."""

from __future__ import annotations

from datetime import UTC, datetime

from schemas.story import Language
from shared.i18n import message
from shared.trends.models import Trend


def text(language: Language, key: str, /, **values: object) -> str:
    """The digest's message ``trends.digest.<key>`` in ``language``."""
    return message(language, f"trends.digest.{key}", **values)


def status_word(language: Language, status: str) -> str:
    return message(language, f"trends.status.{status}")


def utc(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%m-%d %H:%M UTC")


def describe(trend: Trend, language: Language) -> str:
    """Status, growth in %, window, against the expected decay, age and channels."""
    if trend.growth_pct is None or trend.window is None or trend.vs_expected is None:
        growth, window, vs = text(language, "unknown"), "-", "-"
    else:
        growth = f"{trend.growth_pct:+.0f}%"
        window = f"{utc(trend.window[0])} – {utc(trend.window[1])}"
        vs = f"{trend.vs_expected:.1f}×"
    return text(
        language,
        "facts",
        status=status_word(language, trend.status),
        growth=growth,
        window=window,
        vs=vs,
        age=f"{trend.age_h:.0f}",
        channels=trend.channels,
    )
