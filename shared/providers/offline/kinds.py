"""What kind of being a story's character is: an animal, a child or an elderly person.

Read only from the words right next to the character's name (``토끼 달래``,
``a fox named Pip``, ``동생 민호``, ``うさぎのモモ``, ``小狐狸阿福``), with small Korean, English,
Japanese and Chinese word tables; anything else is left unknown.
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

_JA_ANIMALS = {
    "うさぎ": "rabbit", "ウサギ": "rabbit", "兎": "rabbit", "きつね": "fox", "キツネ": "fox",
    "狐": "fox", "ねこ": "cat", "ネコ": "cat", "猫": "cat", "子猫": "kitten", "いぬ": "dog",
    "イヌ": "dog", "犬": "dog", "子犬": "puppy", "くま": "bear", "クマ": "bear", "熊": "bear",
    "とり": "bird", "鳥": "bird", "小鳥": "bird", "ふくろう": "owl", "フクロウ": "owl",
    "たぬき": "raccoon dog", "タヌキ": "raccoon dog", "狸": "raccoon dog", "さる": "monkey",
    "サル": "monkey", "猿": "monkey", "かめ": "turtle", "カメ": "turtle", "亀": "turtle",
    "りす": "squirrel", "リス": "squirrel", "ねずみ": "mouse", "ネズミ": "mouse",
    "おおかみ": "wolf", "オオカミ": "wolf", "狼": "wolf", "しか": "deer", "シカ": "deer",
    "鹿": "deer", "ぶた": "pig", "ブタ": "pig", "豚": "pig", "かえる": "frog", "カエル": "frog",
    "さかな": "fish", "魚": "fish", "くじら": "whale", "クジラ": "whale", "ペンギン": "penguin",
    "竜": "dragon", "龍": "dragon", "ドラゴン": "dragon", "とら": "tiger", "トラ": "tiger",
    "虎": "tiger", "すずめ": "sparrow", "スズメ": "sparrow", "からす": "crow", "カラス": "crow",
    "あひる": "duck", "アヒル": "duck", "ひよこ": "chick",
}  # fmt: skip
_JA_PEOPLE = {
    "女の子": "child", "男の子": "child", "少女": "child", "少年": "child", "子ども": "child",
    "子供": "child", "娘": "child", "坊や": "child", "おばあさん": "elderly",
    "おじいさん": "elderly", "おばあちゃん": "elderly", "おじいちゃん": "elderly",
    "老人": "elderly", "お婆さん": "elderly", "お爺さん": "elderly",
}  # fmt: skip
_ZH_ANIMALS = {
    "兔子": "rabbit", "小兔": "rabbit", "小白兔": "rabbit", "兔": "rabbit", "狐狸": "fox",
    "小狐狸": "fox", "猫": "cat", "貓": "cat", "小猫": "kitten", "小貓": "kitten", "狗": "dog",
    "小狗": "puppy", "熊": "bear", "小熊": "bear", "鸟": "bird", "鳥": "bird", "小鸟": "bird",
    "小鳥": "bird", "猫头鹰": "owl", "貓頭鷹": "owl", "松鼠": "squirrel", "乌龟": "turtle",
    "烏龜": "turtle", "龙": "dragon", "龍": "dragon", "鹿": "deer", "小鹿": "deer",
    "老虎": "tiger", "狼": "wolf", "老鼠": "mouse", "鸭子": "duck", "鴨子": "duck",
    "企鹅": "penguin", "企鵝": "penguin", "鲸鱼": "whale", "鯨魚": "whale", "鱼": "fish",
    "魚": "fish", "猪": "pig", "豬": "pig", "青蛙": "frog", "猴子": "monkey", "熊猫": "panda",
    "熊貓": "panda",
}  # fmt: skip
_ZH_PEOPLE = {
    "小女孩": "child", "女孩": "child", "小男孩": "child", "男孩": "child", "孩子": "child",
    "小姑娘": "child", "小朋友": "child", "老奶奶": "elderly", "奶奶": "elderly",
    "老爷爷": "elderly", "老爺爺": "elderly", "爷爷": "elderly", "爺爺": "elderly",
    "老人": "elderly", "老婆婆": "elderly", "老人家": "elderly",
}  # fmt: skip


def _words(table: dict[str, str]) -> str:
    return "|".join(sorted(table, key=lambda w: (-len(w), w)))


def _cjk_kind(text: str, name: str, language: Language) -> str | None:
    """Japanese: ``うさぎのモモ``, ``モモというウサギ``; Chinese: ``小狐狸阿福``,
    ``叫阿福的狐狸``, ``狐狸阿福``. Animals first, then age words."""
    n = re.escape(name)
    animals, people = (_JA_ANIMALS, _JA_PEOPLE) if language == "ja" else (_ZH_ANIMALS, _ZH_PEOPLE)
    for table in (animals, people):
        words = _words(table)
        if language == "ja":
            before = re.search(rf"({words})の{n}", text)
            after = re.search(
                rf"{n}(?:さん|くん|ちゃん)?(?:という|と呼ばれる|っていう)({words})", text
            )
        else:
            before = re.search(rf"({words})[，、]?{n}", text)
            after = re.search(rf"(?:叫|名叫|叫做){n}的({words})", text) or re.search(
                rf"{n}[，,]?是[^。！？]{{0,12}}?的?({words})", text
            )
        found = before or after
        if found:
            return table[found.group(1)]
    return None


def character_kind(text: str, name: str, language: Language) -> str | None:
    """What the story says ``name`` is, from the words right next to the name, else None.

    An English animal word when it introduces the character as an animal (``토끼 달래``,
    ``달래라는 토끼``, ``a fox named Pip``, ``Pip the fox``); otherwise ``"child"`` or
    ``"elderly"`` when an age word stands right before the name (``동생 민호``,
    ``an old keeper named Tobin``).
    """
    if language in ("ja", "zh"):
        return _cjk_kind(text, name, language)
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
