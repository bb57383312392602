"""Character names in a story, found by rules and word lists, for Korean and English
(Japanese and Chinese: ``cjk_names``).

A name is a word that recurs and is not a common word: in English a capitalised word (or a
two-word name such as ``Captain Hana``) that is not a stop word nor an ordinary word
capitalised only at a sentence start; in Korean a stem left after stripping particles
(``서연이는`` → ``서연``) that is used as a subject, topic or vocative, is not a common noun
or pronoun and is not conjugated like a verb. No dictionary and no model: the stop lists
are curated for children's stories, and unusual text will fool them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

from schemas.story import Language
from shared.providers.offline.cjk_names import extract_chinese, extract_japanese
from shared.providers.offline.sentences import (
    OPENERS,
    TERMINALS,
    ends_with_korean_sentence_ending,
    final_consonant,
    split_sentences,
    word_set,
)

__all__ = ["extract_characters"]

#: Capitalised words that are not names (sentence starters, pronouns, function words …).
_EN_STOP = word_set(
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
_EN_HONORIFICS = word_set(
    "Mr Mrs Ms Miss Mister Dr Doctor Captain Capt Sir Lady Madam Professor Prof King Queen "
    "Prince Princess Aunt Auntie Uncle Granny Grandma Grandpa Old Little Saint St Lord"
)
_EN_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_EN_INITIAL_MARKS = set(OPENERS) | set(TERMINALS) | set(":;—–-")


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
_KO_I_NOUNS = word_set(
    """
    고양이 아이 어린이 놀이 종이 나이 사이 길이 높이 먹이 원숭이 호랑이 부엉이 지렁이 올챙이
    달팽이 거북이 오이 멍멍이 야옹이 돌멩이 반딧불이 귀염둥이 막내둥이
    """
)
#: Common nouns and pronouns that recur in stories but are not names.
_KO_STOP = word_set(
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
    if (
        stem.endswith("이")
        and len(stem) >= 3
        and final_consonant(stem[-2]) > 0
        and stem not in _KO_I_NOUNS
    ):
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
    particle, is not a common noun or pronoun and is not conjugated like a verb. Japanese
    and Chinese: see ``cjk_names`` (honorifics, katakana names, ``小X``/``老X``/``阿X``).
    """
    if limit <= 0:
        return []
    if language == "ko":
        return _extract_korean(text, limit)
    if language == "ja":
        return extract_japanese(text, limit)
    if language == "zh":
        return extract_chinese(text, limit)
    return _extract_english(text, limit)
