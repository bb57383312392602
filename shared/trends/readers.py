"""Who reads a trend, and so which languages it is written up in.

Every write-up a model produces is a paid call (scenario A: Gemini, per token), so a trend is
written only in the languages someone will read it in:

- **Korean and English, always** — the API's and the CLI's defaults, and English is what
  every reader without a write-up in their language gets.
- **Japanese or Chinese when the trend's region speaks it** (``JP`` → ``ja``, ``TW`` →
  ``zh``): the region's own readers, in the API and the web app.
- **Japanese or Chinese when a follower in that language will be mailed the trend**: a
  *rising* trend (the digest carries nothing else) of the region or topic they follow.

A reader asking for a language the trend lacks gets the English write-up, marked as English
(``Trend.explanation`` falls back to it; the API answers with ``language: "en"``; the digest
says in the reader's language that the write-up is shown in English).
"""

from __future__ import annotations

from collections.abc import Iterable

from schemas.story import Language
from shared.trends.models import Follower, Trend
from shared.trends.regions import reader_language

#: Written for every trend.
ALWAYS: tuple[Language, ...] = ("ko", "en")
#: Written for a trend only when it has readers in them.
ON_DEMAND: tuple[Language, ...] = ("ja", "zh")
#: Every language a trend can be written in, in the order they are written.
WRITTEN: tuple[Language, ...] = (*ALWAYS, *ON_DEMAND)

__all__ = ["ALWAYS", "ON_DEMAND", "WRITTEN", "languages_for", "matches", "region_language_of"]


def _norm(term: str) -> str:
    return term.strip().lstrip("#").lower()


def matches(follower: Follower, trend: Trend) -> bool:
    """Whether ``follower`` follows ``trend``: its region, or a topic among its niches, search
    queries, keywords or label (``먹방`` matches ``#먹방``)."""
    if follower.kind == "region":
        return follower.value.upper() == trend.region
    wanted = _norm(follower.value)
    terms = [*trend.niches, *trend.topics, *trend.keywords, trend.label]
    return any(_norm(t) == wanted for t in terms)


def region_language_of(region: str) -> Language:
    """The language a region's trends are shown in when the reader names none: the region's
    own when Tale writes it (``KR`` → ``ko``, ``JP`` → ``ja``), else English."""
    return reader_language(region) or "en"


def languages_for(trend: Trend, followers: Iterable[Follower] = ()) -> tuple[Language, ...]:
    """The languages ``trend`` is written up in (see the module doc), in ``WRITTEN`` order."""
    wanted = set(ALWAYS)
    regional = reader_language(trend.region)
    if regional is not None:
        wanted.add(regional)
    if trend.status == "rising":
        wanted |= {f.language for f in followers if f.language not in wanted and matches(f, trend)}
    return tuple(language for language in WRITTEN if language in wanted)
