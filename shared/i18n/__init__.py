"""Every user-facing text in Korean, English, Japanese and Chinese, from gettext catalogues.

The messages live in ``locales/<language>.po`` (standard gettext PO files, read with Babel):
one catalogue per language, each message keyed by a stable id (``email.subject.completed``,
``problem.not-found.title``) whose English text is in ``en.po``. Values are filled with
``str.format`` fields (``{title}``; the PO files flag them ``python-brace-format``). A test
fails when a language misses a message or a field, so a message cannot be added in one
language only.

``message(language, id, **values)`` renders one; a language Tale does not speak gets
English. ``negotiate`` picks the language of an HTTP request from ``Accept-Language``
(RFC 9110 quality values), falling back to a given default (the user's) and then English.
Catalogues are read on first use, not at import (cold starts).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "catalogue",
    "language_of",
    "message",
    "negotiate",
]

#: The languages of every catalogue (and of stories): Korean, English, Japanese, Chinese.
LANGUAGES: tuple[str, ...] = ("ko", "en", "ja", "zh")
DEFAULT_LANGUAGE = "en"
LOCALES = Path(__file__).resolve().parent / "locales"


@lru_cache(maxsize=len(LANGUAGES))
def catalogue(language: str) -> dict[str, str]:
    """Message id → text of one language's catalogue (untranslated entries are empty)."""
    from babel.messages.pofile import read_po  # on first use only: Babel is not small

    with (LOCALES / f"{language}.po").open("rb") as handle:
        catalog = read_po(handle, domain="tale")
    out: dict[str, str] = {}
    for entry in catalog:
        if isinstance(entry.id, str) and isinstance(entry.string, str) and entry.id:
            out[entry.id] = entry.string
    return out


def language_of(tag: str | None) -> str | None:
    """The catalogue language of a language tag (``ja-JP`` → ``ja``, ``zh-Hant-TW`` → ``zh``),
    or None when Tale does not speak it."""
    if not tag:
        return None
    primary = tag.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if primary in LANGUAGES else None


def message(language: str | None, key: str, /, **values: object) -> str:
    """The message ``key`` in ``language`` (English when Tale does not speak it, or when the
    language lacks the message), with ``values`` filled in."""
    lang = language_of(language) or DEFAULT_LANGUAGE
    text = catalogue(lang).get(key) or catalogue(DEFAULT_LANGUAGE).get(key) or None
    if text is None:
        raise KeyError(f"no message {key!r} in the catalogues")
    return text.format_map(values) if values else text


_RANGE = re.compile(
    r"^\s*([A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8})*|\*)\s*(?:;\s*q\s*=\s*([^\s;,]*))?"
)


def negotiate(header: str | None, default: str | None = None) -> str:
    """The language to answer in: the best of ``Accept-Language`` that Tale speaks, else
    ``default`` (the user's language) when Tale speaks it, else English."""
    best: tuple[float, int, str] | None = None
    for position, item in enumerate((header or "")[:1000].split(",")[:32]):
        match = _RANGE.match(item)
        if match is None:
            continue
        try:
            quality = float(match.group(2)) if match.group(2) is not None else 1.0
        except ValueError:
            continue
        tag = match.group(1)
        language = (language_of(default) or DEFAULT_LANGUAGE) if tag == "*" else language_of(tag)
        if language is None or quality <= 0:
            continue
        if best is None or (quality, -position) > (best[0], best[1]):
            best = (quality, -position, language)
    if best is not None:
        return best[2]
    return language_of(default) or DEFAULT_LANGUAGE
