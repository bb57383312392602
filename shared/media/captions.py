"""Captions of the narration: cues timed to the final cut, written as SRT and WebVTT.

One cue per narration segment. A shot's narration that does not fit ``MAX_LINES`` lines of
its language's line length is split into several cues, at sentence ends where it can be,
then between words (between characters for Japanese and Chinese, which have no spaces).
The line lengths follow the Netflix Timed Text Style Guides (partnerhelp.netflixstudios.com:
"General Requirements" and the per-language guides): 42 characters a line for English; 16 for
Korean and Simplified Chinese and 13 for Japanese, where Latin letters, spaces and punctuation
count as half a character; two lines at most. A shot's
cues share the time its narration sounds in the cut (or, with no voice, the shot less its
margins), in proportion to their characters, so every cue lies inside its shot.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

LINE_CHARS = {"en": 42, "ko": 16, "ja": 13, "zh": 16}
MAX_LINES = 2
_NO_SPACES = {"ja", "zh"}  # scripts that break between characters
_SENTENCE = re.compile(r"(?<=[.!?。！？…])\s+|(?<=[。！？])")


@dataclass(frozen=True)
class Cue:
    shot: int
    """0-based index of the shot whose narration this is."""
    start: float
    end: float
    text: str
    """At most ``MAX_LINES`` lines, joined by newlines."""


def line_chars(language: str) -> int:
    return LINE_CHARS.get(language, LINE_CHARS["en"])


def _wide(ch: str) -> bool:
    """Hangul, kana and CJK ideographs (a full character in a CJK line's count)."""
    code = ord(ch)
    return (
        0x1100 <= code <= 0x11FF
        or 0x3040 <= code <= 0x30FF
        or 0x3130 <= code <= 0x318F
        or 0x3400 <= code <= 0x9FFF
        or 0xAC00 <= code <= 0xD7A3
        or 0xFF01 <= code <= 0xFF60
    )


def width(text: str, language: str) -> float:
    """How many characters ``text`` counts for in a line of ``language``."""
    if language not in ("ko", "ja", "zh"):
        return float(len(text))
    return sum(1.0 if _wide(ch) else 0.5 for ch in text)


def _tokens(text: str, language: str) -> list[str]:
    if language in _NO_SPACES:
        return [ch for ch in text if not ch.isspace()]
    return text.split()


def _lines(text: str, language: str) -> list[str]:
    """``text`` wrapped to lines of at most ``line_chars(language)`` characters."""
    limit = line_chars(language)
    glue = "" if language in _NO_SPACES else " "
    lines: list[str] = []
    current = ""
    for token in _tokens(text, language):
        while width(token, language) > limit:  # a word longer than a line is cut
            if current:
                lines.append(current)
                current = ""
            cut = _fitting(token, language, limit)
            lines.append(token[:cut])
            token = token[cut:]
        trial = f"{current}{glue}{token}" if current else token
        if width(trial, language) <= limit:
            current = trial
        else:
            lines.append(current)
            current = token
    if current:
        lines.append(current)
    return lines


def _fitting(token: str, language: str, limit: int) -> int:
    """How many leading characters of ``token`` fit in a line (at least one)."""
    for n in range(len(token), 0, -1):
        if width(token[:n], language) <= limit:
            return n
    return 1


def _fits(text: str, language: str) -> bool:
    return len(_lines(text, language)) <= MAX_LINES


def _glue(language: str) -> str:
    return "" if language in _NO_SPACES else " "


def _balanced(sentence: str, language: str) -> list[str]:
    """A sentence too long for one cue, cut between words into the fewest cues that fit, of
    about equal length (no short remnant left on its own)."""
    tokens, glue = _tokens(sentence, language), _glue(language)
    total = width(glue.join(tokens), language)
    count = -(-len(_lines(sentence, language)) // MAX_LINES)
    while True:
        groups: list[list[str]] = [[] for _ in range(count)]
        done = 0.0
        for token in tokens:
            groups[min(count - 1, int(done / total * count))].append(token)
            done += width(token + glue, language)
        texts = [glue.join(g) for g in groups if g]
        if all(_fits(t, language) for t in texts) or count >= len(tokens):
            return texts
        count += 1


def _format(text: str, language: str) -> str:
    """One cue's text on one line, or on two of about equal length."""
    limit = line_chars(language)
    if width(text, language) <= limit:
        return text
    tokens, glue = _tokens(text, language), _glue(language)
    best: tuple[float, str] | None = None
    for cut in range(1, len(tokens)):
        first, second = glue.join(tokens[:cut]), glue.join(tokens[cut:])
        longest = max(width(first, language), width(second, language))
        if longest <= limit and (best is None or longest < best[0]):
            best = (longest, f"{first}\n{second}")
    return best[1] if best is not None else "\n".join(_lines(text, language))


def split_narration(text: str, language: str) -> list[str]:
    """The cue texts of one narration (at most ``MAX_LINES`` lines joined by newlines), in
    order: whole sentences packed while they fit, a longer sentence cut evenly."""
    sentences = [s for s in _SENTENCE.split(" ".join(text.split())) if s.strip()]
    glue = _glue(language)
    texts: list[str] = []
    pending = ""
    for sentence in sentences:
        joined = f"{pending}{glue}{sentence}" if pending else sentence
        if _fits(joined, language):
            pending = joined
            continue
        if pending:
            texts.append(pending)
        *whole, pending = (
            _balanced(sentence, language) if not _fits(sentence, language) else [sentence]
        )
        texts.extend(whole)
    if pending:
        texts.append(pending)
    return [_format(t, language) for t in texts]


def shot_cues(shot: int, text: str, language: str, start: float, end: float) -> list[Cue]:
    """The cues of one shot's narration, sharing [start, end] by their characters."""
    pieces = split_narration(text, language)
    if not pieces or end <= start:
        return []
    weights = [max(1, len(p.replace("\n", "").replace(" ", ""))) for p in pieces]
    total = sum(weights)
    cues, at = [], start
    for piece, weight in zip(pieces, weights, strict=True):
        stop = at + (end - start) * weight / total
        cues.append(Cue(shot, round(at, 3), round(min(stop, end), 3), piece))
        at = stop
    return cues


def _stamp(seconds: float, separator: str) -> str:
    ms = max(0, round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{separator}{ms:03d}"


def _clean(text: str) -> str:
    return text.replace("-->", "→")


def to_srt(cues: Sequence[Cue]) -> str:
    blocks = [
        f"{n}\n{_stamp(c.start, ',')} --> {_stamp(c.end, ',')}\n{_clean(c.text)}\n"
        for n, c in enumerate(cues, 1)
    ]
    return "\n".join(blocks)


def to_vtt(cues: Sequence[Cue]) -> str:
    def escaped(text: str) -> str:
        return _clean(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    blocks = [
        f"{n}\n{_stamp(c.start, '.')} --> {_stamp(c.end, '.')}\n{escaped(c.text)}\n"
        for n, c in enumerate(cues, 1)
    ]
    return "WEBVTT\n\n" + "\n".join(blocks)
