"""How long a narration line takes to read aloud, calmly: the reading budget of a shot.

A shot's narration must fit inside its shot (a 4, 6 or 8-second clip). The planners are asked
for lines within the budget, the plan validation refuses lines over it, and the mixer checks
the synthesized speech against its shot with ``fits``.

The budget counts what a reader of each language actually paces by, at the calm end of
measured reading speeds (numbers checked 2026-12-01):

=========  ======================  ===================================================
language   budget                  source
=========  ======================  ===================================================
``ko``     5 syllables a second    300 syllables a minute; a study of telemarketer and
                                   show-host voices found the preferred, *slower* pace
                                   at about 320 syllables a minute
                                   (https://m.earticle.net/Article/A147185); Korean
                                   speech rate is measured in syllables per second
                                   (Lee et al., Phonetics and Speech Sciences 9(1),
                                   2017: http://koreascience.or.kr/article/JAKO201713647763102.page)
``ja``     5 characters a second   NHK reads 300 characters a minute — kanji, kana and
                                   punctuation counted alike — as the pace listeners
                                   follow best (https://talkrescue.jp/archives/5153,
                                   https://nareroku.com/column/goodpacenarration)
``zh``     4 characters a second   everyday Mandarin runs about 240 syllables (one
                                   character each) a minute; broadcast news 250–300
                                   (http://9jiaoyu.com/baike/30075.html,
                                   https://99.wendadaohang.com/zd/WvejttXzjBBvev7j7Wj.html)
``en``     2.5 words a second      150 words a minute: audiobook narration runs 150–160
                                   wpm (http://digitalwriting101.net/content/how-to-estimate-script-length-for-audio-voiceover);
                                   "a calm, well paced read will be around 2.5 words per
                                   second" (https://plaza.directvoices.com/voice)
=========  ======================  ===================================================

Lines mix scripts (a Latin name in Korean text, digits anywhere), so each piece of text is
costed by what it is, whatever the line's language: a Hangul syllable 1/5 s, a kana 1/5 s,
a Han character 1/4 s (1/5 s in Japanese, where NHK's count includes kanji), a Latin word
2/5 s, a digit 1/4 s (a number is read out in words), and in Japanese punctuation 1/5 s
(NHK's count includes it). Other punctuation, spaces and symbols cost nothing: the rates
above already include the pauses of read speech.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "BUDGETS",
    "Budget",
    "budget_of",
    "fits",
    "reading_seconds",
    "trim_to_fit",
]


@dataclass(frozen=True)
class Budget:
    """A language's reading pace: ``per_second`` of ``unit`` (as the planner is told)."""

    language: str
    unit: str
    """What is counted, in the planner's words: ``Korean syllables``, ``words``, …"""
    per_second: float

    def units_in(self, seconds: float) -> int:
        """How many units fit in ``seconds`` (what the planner is told to stay within)."""
        return int(seconds * self.per_second)


BUDGETS: dict[str, Budget] = {
    "ko": Budget("ko", "Korean syllables", 5.0),
    "ja": Budget("ja", "Japanese characters (kanji, kana and punctuation)", 5.0),
    "zh": Budget("zh", "Chinese characters", 4.0),
    "en": Budget("en", "words", 2.5),
}

_HANGUL = "\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f"
_KANA = "\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f"
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_JA_PUNCTUATION = "\u3001\u3002\u300c-\u300f\uff01\uff1f\u30fb"
_TOKENS = re.compile(
    rf"(?P<hangul>[{_HANGUL}])|(?P<kana>[{_KANA}])|(?P<han>[{_HAN}])"
    r"|(?P<word>[A-Za-z\u00c0-\u024f]+(?:['\u2019][A-Za-z]+)*)"
    rf"|(?P<digit>[0-9\uff10-\uff19])|(?P<japunct>[{_JA_PUNCTUATION}])"
)
_SECONDS = {"hangul": 1 / 5, "kana": 1 / 5, "han": 1 / 4, "word": 2 / 5, "digit": 1 / 4}


def budget_of(language: str) -> Budget:
    """The language's budget (English's for a language without one)."""
    return BUDGETS.get(language, BUDGETS["en"])


def reading_seconds(text: str, language: str) -> float:
    """Seconds a calm reader takes to read ``text`` aloud in ``language``."""
    seconds = 0.0
    for match in _TOKENS.finditer(text):
        kind = match.lastgroup
        assert kind is not None
        if kind == "japunct":
            seconds += 1 / 5 if language == "ja" else 0.0
        elif kind == "han" and language in ("ja", "ko"):
            seconds += 1 / 5
        else:
            seconds += _SECONDS[kind]
    return seconds


def fits(text: str, language: str, seconds: float) -> bool:
    """Whether ``text`` can be read calmly within ``seconds``."""
    return reading_seconds(text, language) <= seconds + 1e-9


#: A sentence's end: terminal punctuation with the closing quotes after it (「…のよ。」).
_SENTENCE = re.compile(r".*?(?:[.!?…。！？]+[\"'”’」』）)\]]*|$)\s*", re.DOTALL)


def trim_to_fit(text: str, language: str, seconds: float, *, ellipsis: str = "…") -> str:
    """``text`` cut to what fits in ``seconds``: whole sentences while they fit, else the
    first sentence cut at a word (at a character for Japanese and Chinese) with ``ellipsis``.
    Returns ``text`` unchanged when it fits; ``""`` when not even one word does."""
    text = " ".join(text.split())
    if fits(text, language, seconds):
        return text
    kept = ""
    for sentence in (m.group(0).strip() for m in _SENTENCE.finditer(text) if m.group(0)):
        candidate = f"{kept} {sentence}".strip() if language in ("ko", "en") else kept + sentence
        if not fits(candidate, language, seconds):
            break
        kept = candidate
    if kept:
        return kept
    return _cut(text, language, seconds, ellipsis)


def _cut(text: str, language: str, seconds: float, ellipsis: str) -> str:
    """The longest prefix (whole words; characters in ja/zh) that fits, with ``ellipsis``."""
    pieces = list(text) if language in ("ja", "zh") else text.split(" ")
    joiner = "" if language in ("ja", "zh") else " "
    best = ""
    for end in range(1, len(pieces) + 1):
        candidate = joiner.join(pieces[:end]).rstrip(" ,、，;:")
        if not fits(candidate, language, seconds):
            break
        best = candidate
    return best + ellipsis if best else ""
