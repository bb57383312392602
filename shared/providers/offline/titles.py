"""A story's title: its title line when it has one, else its first sentence, shortened
(Japanese and Chinese titles to a clause of at most 20 characters).

A first line is taken as the title by its shape alone — short, no terminal punctuation,
more text after it and, for Korean, no sentence-final verb ending — and ``body_of`` is the
story without it.
"""

from __future__ import annotations

import re

from shared.providers.offline.sentences import CLOSERS, TERMINALS, ends_with_korean_sentence_ending

__all__ = [
    "body_of",
    "title_line",
    "title_of",
]

#: Longest title (in characters) ``title_of`` produces or accepts as a title line.
TITLE_MAX = 60
#: Longest Japanese or Chinese title ``title_of`` makes from a first sentence: each character
#: is a word's worth of width and meaning.
CJK_TITLE_MAX = 20
_CLAUSE_BREAKS = "、，,；;：:"


def title_line(text: str) -> str | None:
    """The first line when it reads as a title, else ``None``.

    A title line is at most 60 characters, has no terminal punctuation, is followed by more
    text and — for Korean — does not end in a sentence-final verb ending (Korean stories
    often leave periods out). Leading Markdown ``#`` marks are dropped.
    """
    lines = text.strip().splitlines()
    if len(lines) < 2 or not "\n".join(lines[1:]).strip():
        return None
    first = lines[0].strip().lstrip("#").strip()
    if not first or len(first) > TITLE_MAX:
        return None
    unquoted = first.rstrip(CLOSERS)
    if unquoted and unquoted[-1] in TERMINALS:
        return None
    last_word = re.sub(r"[^\uac00-\ud7a3]+$", "", first.split()[-1])
    if ends_with_korean_sentence_ending(last_word):
        return None
    return first


def body_of(text: str) -> str:
    """The story without its title line (the whole text when there is none)."""
    if title_line(text) is None:
        return text.strip()
    return text.strip().split("\n", 1)[1].strip()


def _shorten(sentence: str, limit: int = TITLE_MAX) -> str:
    sentence = " ".join(sentence.split())
    if sentence.endswith((".", "。")) and not sentence.endswith(".."):
        sentence = sentence[:-1].rstrip()
    if len(sentence) <= limit:
        return sentence
    cut = sentence[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:、，-—") + "…"


def _shorten_cjk(sentence: str, limit: int = CJK_TITLE_MAX) -> str:
    """A Japanese or Chinese sentence as a title: without its final punctuation; when too
    long, its longest leading clauses that fit (cut at ``、``/``，``), else cut with ``…``."""
    sentence = "".join(sentence.split()).rstrip("。．.！？!?…")
    if len(sentence) <= limit:
        return sentence
    cut = max((i for i, ch in enumerate(sentence[:limit]) if ch in _CLAUSE_BREAKS), default=0)
    if cut >= limit // 3:
        return sentence[:cut]
    return sentence[: limit - 1] + "…"


def title_of(text: str, sentences: list[str], language: str = "") -> str:
    """The story's title: its title line, else its first sentence cut to ≤ 60 characters
    (≤ 20 for Japanese and Chinese, at a clause where one fits).

    A cut is made at a word boundary and marked with ``…``; a trailing period is dropped.
    """
    line = title_line(text)
    if line is not None:
        return line
    first = sentences[0] if sentences else text.strip()
    if language in ("ja", "zh"):
        return _shorten_cjk(first) or "Untitled"
    return _shorten(first) or "Untitled"
