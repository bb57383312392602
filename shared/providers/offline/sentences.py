"""Sentences and paragraphs for the offline planner, in Korean, English, Japanese and Chinese.

Plain string processing with curated word lists — no model, no dictionary, no network. A
sentence ends at terminal punctuation (English abbreviations, initials and quoted speech
followed by "she said" do not end one) and, since Korean stories often leave periods out,
after a curated Korean sentence-final verb or adjective ending. Japanese and Chinese
sentences end at ``。！？`` outside quotes (``「」『』“”``); a quotation that ends a sentence
ends it unless a quotative follows (Japanese ``と``/``って``, a Chinese speech tag such as
``他说``). The rules are tuned for
children's stories and will make mistakes on unusual text; they exist so that the
pipeline can run end to end without a language model, not to understand the story.

The punctuation sets, ``word_set`` and ``final_consonant`` are shared with the title and
name rules beside this module.
"""

from __future__ import annotations

import re

from schemas.story import Language

__all__ = [
    "CLOSERS",
    "OPENERS",
    "TERMINALS",
    "ends_with_korean_sentence_ending",
    "final_consonant",
    "is_cjk_language",
    "paragraphs",
    "split_sentences",
    "word_set",
]


def word_set(text: str) -> frozenset[str]:
    """A word list written as one whitespace-separated string."""
    return frozenset(text.split())


#: Punctuation that ends a sentence.
TERMINALS = ".!?…。！？"
_CJK_TERMINALS = "。！？"
#: Closing quotes and brackets that may follow the end of a sentence.
CLOSERS = "\"'”’)]」』》〉»"
#: Opening quotes and brackets.
OPENERS = "\"'“‘([「『《〈«"
_TERMINAL_RUN = re.compile(f"[{re.escape(TERMINALS)}]+[{re.escape(CLOSERS)}]*")

#: English abbreviations whose period does not end a sentence (compared in lower case).
_ABBREVIATIONS = word_set(
    "mr mrs ms dr st jr sr prof mt vs etc capt gen lt col sgt rev hon ave rd co inc ltd "
    "fig approx dept"
)
_ACRONYM = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]$")
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)$")
#: After a quoted line, these English verbs continue the sentence ("Run!" Mira said.).
_SPEECH_VERBS = word_set(
    "said says asked asks cried cries shouted shouts whispered whispers called calls "
    "replied replies answered answers laughed laughs yelled yells sang sings"
)
#: Korean quotative words that continue a sentence after a quotation ("달려!" 하고 외쳤다).
_KO_QUOTATIVE = ("하고", "하며", "하면서", "라고", "이라고", "하자", "하는", "하던", "하니")

_HANGUL_FIRST, _HANGUL_LAST = 0xAC00, 0xD7A3
_JONG_N, _JONG_L, _JONG_SS = 4, 8, 20


def _is_hangul(ch: str) -> bool:
    return _HANGUL_FIRST <= ord(ch) <= _HANGUL_LAST


def final_consonant(ch: str) -> int:
    """The final-consonant index of a Hangul syllable (0 when it has none)."""
    return (ord(ch) - _HANGUL_FIRST) % 28 if _is_hangul(ch) else -1


#: Fixed sentence-final verb and adjective endings (matched on a whole word's end).
_KO_FIXED_ENDINGS = (
    # formal and polite
    "니다",
    "니까",
    "시오",
    "세요",
    "네요",
    "군요",
    "지요",
    "죠",
    "까요",
    "래요",
    "대요",
    "게요",
    "거든요",
    "는데요",
    # plain present and copula
    "는다",
    "이다",
    "하다",
    "되다",
    "구나",
    # imperative and propositive
    "어라",
    "아라",
    "거라",
    "해라",
    "여라",
    "하자",
    "가자",
    "놀자",
    "보자",
    "먹자",
    "자자",
    # common adjectives in their plain form
    "좋다",
    "싫다",
    "많다",
    "없다",
    "있다",
    "같다",
    "않다",
    "싶다",
    "쁘다",
    "프다",
    "롭다",
    "럽다",
    "답다",
    "겁다",
    "갑다",
    "쉽다",
    "렵다",
    "깝다",
    "덥다",
    "춥다",
    "깊다",
    "높다",
    "낮다",
    "작다",
    "크다",
    "넓다",
    "멀다",
    "맑다",
    "밝다",
    "둡다",
    "엽다",
    "맙다",
    "르다",
)
#: Two-syllable ㄴ다 verbs (한다, 간다 …); longer ㄴ다 words are accepted by rule.
_KO_SHORT_N_DA = frozenset("한된간온본준논운산탄잔선난뛴춘둔친신민진인낸센켠쉰빈든")
#: Words that look like sentence endings but are nouns or particles.
_KO_NOT_ENDINGS = word_set(
    "바다 판다 베란다 아젠다 우간다 르완다 프로파간다 사이다 누구나 "
    "필요 중요 주요 수요 요요 동요 소요 개요 강요 토요 월요 화요 목요 금요 일요"
)


def ends_with_korean_sentence_ending(word: str) -> bool:
    """Whether a Hangul word ends in a curated sentence-final verb or adjective ending.

    ``갔다``, ``한다``, ``먹습니다``, ``좋아요`` do; ``바다`` (sea) and ``필요`` (need) do not.
    """
    if not word or not _is_hangul(word[-1]) or word in _KO_NOT_ENDINGS:
        return False
    if word.endswith(_KO_FIXED_ENDINGS):
        return True
    if len(word) < 2:
        return False
    prev, last = word[-2], word[-1]
    if final_consonant(prev) == _JONG_SS and last in "다지네니죠":  # 갔다, 했지, 왔네, 했니
        return True
    if (
        last == "다"
        and final_consonant(prev) == _JONG_N
        and (len(word) >= 3 or prev in _KO_SHORT_N_DA)
    ):
        return True  # 한다, 달린다, 부른다
    if last == "까" and final_consonant(prev) == _JONG_L:  # 갈까, 먹을까
        return True
    return last == "요"  # 가요, 먹어요, 예뻐요 (nouns ending in 요 are excluded above)


def _period_is_abbreviation(before: str) -> bool:
    match = _WORD_BEFORE.search(before)
    if match is None:
        return False
    word = match.group(1)
    if word.lower().rstrip(".") in _ABBREVIATIONS or _ACRONYM.search(word):
        return True
    return len(word) == 1 and word.isupper()  # an initial: "J. Smith"


def _continues_after(punct: str, rest: str, language: Language) -> bool:
    """Whether the text after a terminal punctuation run continues the same sentence."""
    following = rest.lstrip()
    if not following:
        return False
    nxt = following[0]
    if "a" <= nxt <= "z":
        return True  # '"Run!" she said.', 'Wait... what?'
    if punct[-1] not in CLOSERS:
        return False
    words = following.split(maxsplit=2)
    if language == "ko":
        return words[0].startswith(_KO_QUOTATIVE)
    verb = words[1].lower().rstrip(".,!?;:…") if len(words) >= 2 else ""
    return words[0][:1].isupper() and verb in _SPEECH_VERBS


def _split_on_punctuation(line: str, language: Language) -> list[str]:
    pieces: list[str] = []
    start = 0
    for match in _TERMINAL_RUN.finditer(line):
        end = match.end()
        punct = match.group(0)
        rest = line[end:]
        at_break = not rest or rest[0].isspace()
        cjk = any(ch in _CJK_TERMINALS for ch in punct)
        if not (at_break or cjk or (rest and _is_hangul(rest[0]))):
            continue  # 3.5, "e.g.x", a period inside a word
        if punct == "." and _period_is_abbreviation(line[start : match.start()]):
            continue
        if at_break and _continues_after(punct, rest, language):
            continue
        pieces.append(line[start:end])
        start = end
    pieces.append(line[start:])
    return [p.strip() for p in pieces if p.strip()]


def _split_on_korean_endings(piece: str) -> list[str]:
    words = piece.split()
    out: list[str] = []
    current: list[str] = []
    for i, word in enumerate(words):
        current.append(word)
        last = i == len(words) - 1
        if (
            not last
            and ends_with_korean_sentence_ending(word)
            and not words[i + 1].startswith(_KO_QUOTATIVE)
        ):
            out.append(" ".join(current))
            current = []
    if current:
        out.append(" ".join(current))
    return out


#: Opening and closing quotes of Japanese and Chinese text, paired.
_CJK_QUOTES = {"「": "」", "『": "』", "“": "”", "‘": "’", "（": "）", "(": ")", "《": "》"}
_CJK_CLOSING = frozenset(_CJK_QUOTES.values())
_CJK_ENDS = "。！？!?"
#: Japanese quotatives that continue a sentence after a closing quote (「走れ！」と言った).
_JA_QUOTATIVE = ("と", "って", "っと", "とい", "など")
#: A Chinese speech tag after a quotation (“快跑！”他喊道。): short, with a speech verb.
_ZH_SPEECH = re.compile(r"^[^。！？!?“「『]{0,8}?(?:说|說|道|问|問|喊|叫|答|笑|想|嚷|哭)")
_ZH_SPEECH_MAX = 10


def is_cjk_language(language: str) -> bool:
    """Japanese or Chinese: no spaces between words, ``。`` ends sentences."""
    return language in ("ja", "zh")


def _quote_continues(rest: str, language: Language) -> bool:
    """Whether the text after a closing quote continues the sentence the quote ended."""
    following = rest.lstrip()
    if not following:
        return False
    if language == "ja":
        return following.startswith(_JA_QUOTATIVE)
    tag = _ZH_SPEECH.match(following)
    return tag is not None and len(tag.group(0)) <= _ZH_SPEECH_MAX


def _split_cjk(line: str, language: Language) -> list[str]:
    """Japanese or Chinese sentences of one line: ``。！？`` outside quotes end one (with any
    closing quotes after them); inside a quotation they do not. A quotation whose last
    sentence ends it ends the sentence too, unless a quotative or speech tag follows."""
    pieces: list[str] = []
    start, i = 0, 0
    stack: list[str] = []
    while i < len(line):
        ch = line[i]
        if ch in _CJK_QUOTES and not (ch == "(" and not stack):
            stack.append(_CJK_QUOTES[ch])
        elif stack and ch == stack[-1]:
            stack.pop()
            if not stack and line[i - 1 : i] and line[i - 1] in _CJK_ENDS + "…":
                end = i + 1
                if not _quote_continues(line[end:], language):
                    pieces.append(line[start:end])
                    start = end
        elif ch in _CJK_ENDS and not stack:
            end = i + 1
            while end < len(line) and (line[end] in _CJK_ENDS or line[end] in _CJK_CLOSING):
                end += 1
            pieces.append(line[start:end])
            start, i = end, end
            continue
        i += 1
    pieces.append(line[start:])
    return [p.strip() for p in pieces if p.strip()]


def split_sentences(text: str, language: Language) -> list[str]:
    """Split a story into sentences, keeping each sentence's own punctuation.

    Splits on terminal punctuation (``. ! ? … 。 ！ ？``, with any closing quotes or brackets
    that follow), on line breaks and — for Korean — after a curated sentence-final verb
    ending when no punctuation follows (``그는 집에 갔다 그리고 잠이 들었다``). English
    abbreviations (``Mr.``, ``Dr.``, ``St.``), initials and a lowercase continuation
    (``"Run!" she said.``) do not split. Japanese and Chinese: ``。！？`` outside quotes;
    ``「また明日ね。」とハナは言った。`` and ``“快跑！”小兰喊道。`` are one sentence each.
    """
    sentences: list[str] = []
    for line in text.splitlines():
        if is_cjk_language(language):
            sentences.extend(_split_cjk(line.strip(), language))
            continue
        for piece in _split_on_punctuation(line.strip(), language):
            if language == "ko":
                sentences.extend(_split_on_korean_endings(piece))
            else:
                sentences.append(piece)
    return [s for s in sentences if s]


def paragraphs(text: str) -> list[str]:
    """The text's paragraphs: blocks separated by blank lines, stripped, empties dropped."""
    blocks = re.split(r"\n[ \t\r\f\v]*\n", text.replace("\r\n", "\n").replace("\r", "\n"))
    return [b.strip() for b in blocks if b.strip()]
