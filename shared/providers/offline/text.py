"""Rule-based text helpers for the offline planner: sentences, paragraphs, names, titles.

Everything here is plain string processing with curated word lists — no model, no
dictionary, no network. The rules are tuned for Korean and English children's stories and
will make mistakes on unusual text; they exist so that the pipeline can run end to end
without a language model, not to understand the story.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

from schemas.story import Language

__all__ = [
    "PERSON_KINDS",
    "body_of",
    "character_kind",
    "ends_with_korean_sentence_ending",
    "extract_characters",
    "paragraphs",
    "split_sentences",
    "title_line",
    "title_of",
]


def _words(text: str) -> frozenset[str]:
    """A word list written as one whitespace-separated string."""
    return frozenset(text.split())


#: Longest title (in characters) ``title_of`` produces or accepts as a title line.
TITLE_MAX = 60

# --------------------------------------------------------------------------------------
# Sentences
# --------------------------------------------------------------------------------------

_TERMINALS = ".!?…。！？"
_CJK_TERMINALS = "。！？"
_CLOSERS = "\"'”’)]」』》〉»"
_OPENERS = "\"'“‘([「『《〈«"
_TERMINAL_RUN = re.compile(f"[{re.escape(_TERMINALS)}]+[{re.escape(_CLOSERS)}]*")

#: English abbreviations whose period does not end a sentence (compared in lower case).
_ABBREVIATIONS = _words(
    "mr mrs ms dr st jr sr prof mt vs etc capt gen lt col sgt rev hon ave rd co inc ltd "
    "fig approx dept"
)
_ACRONYM = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]$")
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)$")
#: After a quoted line, these English verbs continue the sentence ("Run!" Mira said.).
_SPEECH_VERBS = _words(
    "said says asked asks cried cries shouted shouts whispered whispers called calls "
    "replied replies answered answers laughed laughs yelled yells sang sings"
)
#: Korean quotative words that continue a sentence after a quotation ("달려!" 하고 외쳤다).
_KO_QUOTATIVE = ("하고", "하며", "하면서", "라고", "이라고", "하자", "하는", "하던", "하니")

_HANGUL_FIRST, _HANGUL_LAST = 0xAC00, 0xD7A3
_JONG_N, _JONG_L, _JONG_SS = 4, 8, 20


def _is_hangul(ch: str) -> bool:
    return _HANGUL_FIRST <= ord(ch) <= _HANGUL_LAST


def _jong(ch: str) -> int:
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
_KO_NOT_ENDINGS = _words(
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
    if _jong(prev) == _JONG_SS and last in "다지네니죠":  # 갔다, 했지, 왔네, 했니
        return True
    if last == "다" and _jong(prev) == _JONG_N and (len(word) >= 3 or prev in _KO_SHORT_N_DA):
        return True  # 한다, 달린다, 부른다
    if last == "까" and _jong(prev) == _JONG_L:  # 갈까, 먹을까
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
    if punct[-1] not in _CLOSERS:
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


def split_sentences(text: str, language: Language) -> list[str]:
    """Split a story into sentences, keeping each sentence's own punctuation.

    Splits on terminal punctuation (``. ! ? … 。 ！ ？``, with any closing quotes or brackets
    that follow), on line breaks and — for Korean — after a curated sentence-final verb
    ending when no punctuation follows (``그는 집에 갔다 그리고 잠이 들었다``). English
    abbreviations (``Mr.``, ``Dr.``, ``St.``), initials and a lowercase continuation
    (``"Run!" she said.``) do not split.
    """
    sentences: list[str] = []
    for line in text.splitlines():
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


# --------------------------------------------------------------------------------------
# Titles
# --------------------------------------------------------------------------------------


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
    unquoted = first.rstrip(_CLOSERS)
    if unquoted and unquoted[-1] in _TERMINALS:
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


def title_of(text: str, sentences: list[str]) -> str:
    """The story's title: its title line, else its first sentence cut to ≤ 60 characters.

    A cut is made at a word boundary and marked with ``…``; a trailing period is dropped.
    """
    line = title_line(text)
    if line is not None:
        return line
    first = sentences[0] if sentences else text.strip()
    return _shorten(first) or "Untitled"


# --------------------------------------------------------------------------------------
# Characters
# --------------------------------------------------------------------------------------

#: Capitalised words that are not names (sentence starters, pronouns, function words …).
_EN_STOP = _words(
    """
    The A An He She It They We I You His Her Hers Him Its Their Theirs Them Our Ours Us Me My
    Mine Your Yours Then When But And Or Nor Yet One Two Three That This These Those There
    Here In On At As So Once Upon Of To For From By With Without Into Onto Over Under
    After Before Behind Beside Between Through Up Down Out Off Near Far Above Below Around
    Across Along Inside Outside Is Was Were Are Be Been Do Did Does Not No Yes Oh Ah Hello
    Hi Goodbye Bye Thank Thanks Please Sorry Well What Who Whom Whose Which Where Why How
    If Because While Although Though Until Since Still Just Only Even Also Too Very All Each
    Every Some Any Many Much More Most Few Other Another Such Now Soon Later Today Tonight
    Tomorrow Yesterday Morning Evening Night Day Days Suddenly Finally Meanwhile Together
    Again Never Always Sometimes Maybe Perhaps Let Lets Let's Come Go Look See Run Stop
    Wait Listen Don't Can't Won't It's I'm I'll I'd You're We're They're That's There's
    Everyone Everybody Someone Somebody Nobody Nothing Something Everything Anyone Long
    Little Big Small Old New Good Bad First Last Next Mom Mum Dad Mother Father Grandma
    Grandpa Chapter End Monday Tuesday Wednesday Thursday Friday Saturday Sunday
    January February March April June July August September October November December
    Spring Summer Autumn Fall Winter God Lord Late Early Soon Afterwards Outside Indeed
    """
)
#: Titles that may open a two-word name ("Captain Hana") but are never a name alone.
_EN_HONORIFICS = _words(
    "Mr Mrs Ms Miss Mister Dr Doctor Captain Capt Sir Lady Madam Professor Prof King Queen "
    "Prince Princess Aunt Auntie Uncle Granny Grandma Grandpa Old Little Saint St Lord"
)
_EN_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_EN_INITIAL_MARKS = set(_OPENERS) | set(_TERMINALS) | set(":;—–-")


def _en_clean(word: str) -> str:
    for suffix in ("'s", "’s"):
        if word.endswith(suffix):
            word = word[: -len(suffix)]
    return word.strip("'’-").rstrip(".")


def _is_capitalised(word: str) -> bool:
    return word[:1].isupper() and not (len(word) > 1 and word.isupper())


def _en_tokens(text: str) -> list[list[tuple[str, bool, bool]]]:
    """Per sentence: (word, sentence-initial, joined-to-previous-by-a-space) triples."""
    out: list[list[tuple[str, bool, bool]]] = []
    for sentence in split_sentences(text, "en"):
        tokens: list[tuple[str, bool, bool]] = []
        prev_end = 0
        for match in _EN_WORD.finditer(sentence):
            word = _en_clean(match.group(0))
            if not word:
                continue
            gap = sentence[prev_end : match.start()]
            initial = not tokens or any(ch in _EN_INITIAL_MARKS for ch in gap)
            tokens.append((word, initial, bool(tokens) and gap == " "))
            prev_end = match.end()
        out.append(tokens)
    return out


def _en_runs(
    sentences: list[list[tuple[str, bool, bool]]], usable: Callable[[str], bool]
) -> list[tuple[str, ...]]:
    """Runs of up to three usable words joined by single spaces ("Captain Hana")."""
    runs: list[tuple[str, ...]] = []
    for toks in sentences:
        current: list[str] = []
        for word, _, joined in toks:
            ok = usable(word)
            if ok and current and joined and len(current) < 3:
                current.append(word)
                continue
            if current:
                runs.append(tuple(current))
            current = [word] if ok else []
        if current:
            runs.append(tuple(current))
    return runs


def _extract_english(text: str, limit: int) -> list[str]:
    sentences = _en_tokens(text)
    lower_seen = {w for toks in sentences for w, _, _ in toks if w.islower()}
    mid_caps: Counter[str] = Counter(
        w for toks in sentences for w, initial, _ in toks if not initial and _is_capitalised(w)
    )

    def nameish(word: str) -> bool:
        if not _is_capitalised(word) or len(word) < 2 or word in _EN_STOP:
            return False
        # Not "Slowly", nor "Rain" that is "rain" elsewhere, unless capitalised mid-sentence.
        common = word.lower() in lower_seen or (len(word) >= 6 and word.endswith("ly"))
        return mid_caps[word] > 0 or not common

    runs = _en_runs(sentences, lambda w: nameish(w) or (w in _EN_HONORIFICS and _is_capitalised(w)))
    word_total: Counter[str] = Counter(w for run in runs for w in run)
    word_solo: Counter[str] = Counter(run[0] for run in runs if len(run) == 1)
    run_total: Counter[tuple[str, ...]] = Counter(run for run in runs if len(run) == 2)

    names: list[str] = []
    for run in runs:
        candidates: list[str]
        if len(run) == 2 and run_total[run] >= 2 and not (word_solo[run[0]] or word_solo[run[1]]):
            candidates = [" ".join(run)] if nameish(run[1]) else []
        else:
            candidates = [
                w for w in run if w not in _EN_HONORIFICS and nameish(w) and word_total[w] >= 2
            ]
        for name in candidates:
            if name not in names:
                names.append(name)
    return names[:limit]


#: Korean particles stripped from a word's end (longest first).
_KO_PARTICLES = (
    "에게서", "한테서", "이랑", "께서", "에게", "한테", "은", "는", "이", "가", "을", "를",
    "의", "와", "과", "도", "만", "야", "아", "랑", "께",
)  # fmt: skip
#: Subject, topic and vocative particles: a name is used with at least one of them.
_KO_STRONG = frozenset({"은", "는", "이", "가", "께서", "야", "아"})
#: Nouns that end in 이 where the 이 is part of the word, not a particle or name suffix.
_KO_I_NOUNS = _words(
    """
    고양이 아이 어린이 놀이 종이 나이 사이 길이 높이 먹이 원숭이 호랑이 부엉이 지렁이 올챙이
    달팽이 거북이 오이 멍멍이 야옹이 돌멩이 반딧불이 귀염둥이 막내둥이
    """
)
#: Common nouns and pronouns that recur in stories but are not names.
_KO_STOP = _words(
    """
    그 그녀 그들 우리 저희 너희 당신 자신 서로 사람 아이 아이들 어린이 하늘 바다 마을 집 밤 낮
    오늘 내일 어제 어느 모두 모든 엄마 아빠 어머니 아버지 할머니 할아버지 언니 오빠 누나 형
    동생 아기 친구 가족 선생님 이웃 사람들 친구들 나무 숲 강 산 길 문 창문 하루 아침 저녁
    시간 마음 얼굴 소리 목소리 이야기 세상 모습 생각 사랑 노래 토끼 여우 고양이 강아지 곰 새
    호랑이 다람쥐 부엉이 거북이 왕 공주 왕자 이것 그것 저것 여기 거기 저기 무엇 누구 아무도
    처음 마지막 다시 정말 그때 그날 이제 지금 달 별 해 달빛 별빛 햇빛 보름달 구름 바람 비
    눈 꽃 물 불 빛 꿈 잠 떡 하나 둘 셋 둘이 셋이 모두들 옛날 옛적 어디 무언가 누군가 아무것
    마리 가지 조각 동안 다음 아래 번째 순간 혼자 함께 마침내 갑자기 천천히 조용히
    """
)
#: What may follow a verb stem but never a name (evidence that a stem is a verb).
_KO_VERB_TAILS = ("고", "며", "면", "다", "게", "지", "서", "니", "던", "갔", "왔", "았", "었")
_KO_TOKEN = re.compile(r"[\uac00-\ud7a3]+")


def _ko_strip(word: str) -> tuple[str, str]:
    """(stem, particle) of one Hangul word; the particle is ``""`` when none was found."""
    stem, particle = word, ""
    if word not in _KO_I_NOUNS:
        for p in _KO_PARTICLES:
            if word.endswith(p) and len(word) - len(p) >= 2:
                stem, particle = word[: -len(p)], p
                break
    # 민준이 → 민준: the friendly suffix 이 after a consonant-final name of two syllables+.
    if stem.endswith("이") and len(stem) >= 3 and _jong(stem[-2]) > 0 and stem not in _KO_I_NOUNS:
        stem = stem[:-1]
    return stem, particle


def _ko_is_stop(stem: str) -> bool:
    return stem in _KO_STOP or (stem.endswith("들") and stem[:-1] in _KO_STOP)


def _extract_korean(text: str, limit: int) -> list[str]:
    words = _KO_TOKEN.findall(text)
    stems: list[tuple[str, str]] = [_ko_strip(w) for w in words]
    count: Counter[str] = Counter(stem for stem, _ in stems)
    particles: dict[str, set[str]] = {}
    for stem, particle in stems:
        particles.setdefault(stem, set()).add(particle)

    def verbal(stem: str) -> bool:
        if any(w.startswith(stem) and w[len(stem) :].startswith(_KO_VERB_TAILS) for w in words):
            return True
        # 노래하는, 반짝이는: a 는 that only ever follows this stem is an adnominal ending.
        return particles[stem] == {"는"} and stem.endswith(("하", "이", "리", "르", "지"))

    names: list[str] = []
    for stem, _ in stems:
        if stem in names or not 2 <= len(stem) <= 4 or count[stem] < 2 or _ko_is_stop(stem):
            continue
        if not particles[stem] & _KO_STRONG or ends_with_korean_sentence_ending(stem):
            continue
        if verbal(stem):
            continue
        names.append(stem)
        if len(names) == limit:
            break
    return names


def extract_characters(text: str, language: Language, *, limit: int = 4) -> list[str]:
    """Recurring character names, in order of first appearance, at most ``limit``.

    English: capitalised words (or two-word names such as ``Captain Hana``) used at least
    twice that are not stop words and not ordinary words capitalised only at a sentence
    start. Korean: Hangul words with particles stripped (``서연이는`` → ``서연``) whose stem
    has 2–4 syllables, recurs, is used at least once with a subject, topic or vocative
    particle, is not a common noun or pronoun and is not conjugated like a verb.
    """
    if limit <= 0:
        return []
    if language == "ko":
        return _extract_korean(text, limit)
    return _extract_english(text, limit)


# --------------------------------------------------------------------------------------
# What kind of being a character is
# --------------------------------------------------------------------------------------

_KO_ANIMALS = {
    "토끼": "rabbit", "여우": "fox", "고양이": "cat", "강아지": "puppy", "개": "dog",
    "곰": "bear", "새": "bird", "부엉이": "owl", "올빼미": "owl", "다람쥐": "squirrel",
    "거북이": "turtle", "거북": "turtle", "용": "dragon", "사슴": "deer", "호랑이": "tiger",
    "늑대": "wolf", "생쥐": "mouse", "쥐": "mouse", "오리": "duck", "펭귄": "penguin",
    "고래": "whale", "물고기": "fish", "돼지": "pig", "병아리": "chick", "개구리": "frog",
    "고슴도치": "hedgehog", "수달": "otter", "까치": "magpie", "참새": "sparrow",
}  # fmt: skip
_EN_ANIMALS = _words(
    "fox rabbit hare bunny cat kitten dog puppy bear owl bird squirrel turtle tortoise "
    "dragon deer tiger wolf mouse duck penguin whale fish pig frog hedgehog badger otter "
    "seal gull seagull crow raven horse pony goat sheep lamb cow hen chick magpie sparrow"
)


#: Words next to a name that say a person's age group.
_KO_PEOPLE = {
    "동생": "child", "꼬마": "child", "소녀": "child", "소년": "child", "아이": "child",
    "누나": "child", "언니": "child", "오빠": "child", "형": "child", "아기": "child",
    "할머니": "elderly", "할아버지": "elderly", "노인": "elderly",
}  # fmt: skip
_EN_PEOPLE = {
    "girl": "child", "boy": "child", "child": "child", "kid": "child", "little": "child",
    "young": "child", "old": "elderly", "elderly": "elderly", "grandma": "elderly",
    "grandpa": "elderly", "granny": "elderly", "grandmother": "elderly",
    "grandfather": "elderly",
}  # fmt: skip
#: What ``character_kind`` returns for people: "child" or "elderly".
PERSON_KINDS = frozenset(_EN_PEOPLE.values())


def character_kind(text: str, name: str, language: Language) -> str | None:
    """What the story says ``name`` is, from the words right next to the name, else None.

    An English animal word when it introduces the character as an animal (``토끼 달래``,
    ``달래라는 토끼``, ``a fox named Pip``, ``Pip the fox``); otherwise ``"child"`` or
    ``"elderly"`` when an age word stands right before the name (``동생 민호``,
    ``an old keeper named Tobin``).
    """
    n = re.escape(name)
    if language == "ko":
        table = {**_KO_ANIMALS, **_KO_PEOPLE}
        words = "|".join(sorted(table, key=len, reverse=True))
        before = re.search(rf"(?<![\uac00-\ud7a3])({words})\s+{n}", text)
        after = re.search(rf"{n}(?:이)?라는\s+({words})(?![\uac00-\ud7a3])", text)
        found = before or after
        return table[found.group(1)] if found else None
    animals = "|".join(sorted(_EN_ANIMALS, key=lambda a: (-len(a), a)))
    before = re.search(rf"\b({animals})\s+(?:named\s+|called\s+)?{n}\b", text, re.IGNORECASE)
    after = re.search(rf"\b{n},?\s+the\s+(?:[a-z]+\s+)?({animals})\b", text, re.IGNORECASE)
    found = before or after
    if found:
        return found.group(1).lower()
    people = "|".join(sorted(_EN_PEOPLE, key=lambda a: (-len(a), a)))
    person = re.search(
        rf"\b({people})\s+(?:[a-z]+\s+)?(?:named\s+|called\s+)?{n}\b", text, re.IGNORECASE
    )
    return _EN_PEOPLE[person.group(1).lower()] if person else None
