"""What kind of being a story's character is: an animal, a child or an elderly person.

Read only from the words right next to the character's name (``토끼 달래``,
``a fox named Pip``, ``동생 민호``), with small Korean and English word tables; anything
else is left unknown.
"""

from __future__ import annotations

import re

from schemas.story import Language
from shared.providers.offline.sentences import word_set

__all__ = [
    "PERSON_KINDS",
    "character_kind",
]

_KO_ANIMALS = {
    "토끼": "rabbit", "여우": "fox", "고양이": "cat", "강아지": "puppy", "개": "dog",
    "곰": "bear", "새": "bird", "부엉이": "owl", "올빼미": "owl", "다람쥐": "squirrel",
    "거북이": "turtle", "거북": "turtle", "용": "dragon", "사슴": "deer", "호랑이": "tiger",
    "늑대": "wolf", "생쥐": "mouse", "쥐": "mouse", "오리": "duck", "펭귄": "penguin",
    "고래": "whale", "물고기": "fish", "돼지": "pig", "병아리": "chick", "개구리": "frog",
    "고슴도치": "hedgehog", "수달": "otter", "까치": "magpie", "참새": "sparrow",
}  # fmt: skip
_EN_ANIMALS = word_set(
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
