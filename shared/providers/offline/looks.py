"""How the offline planner's prompts word what things look like: characters, settings, styles.

None of it comes from understanding the story. A character's looks are picked from short
English lists by SHA-256 of the name, narrowed by the kind of being the story says it is;
a scene's place and time of day are looked up from Korean and English keywords; each visual
style has fixed prompt wording. The same input always gets the same words.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from schemas.story import Language, Style
from shared.providers.offline.kinds import PERSON_KINDS

__all__ = [
    "STYLE_WORDING",
    "describe_character",
    "setting_of",
    "setting_parts",
]


#: Prompt wording per visual style.
STYLE_WORDING: dict[Style, str] = {
    Style.STORYBOOK: "soft storybook illustration, warm light, gentle painted textures",
    Style.CINEMATIC: "cinematic film still, shallow depth of field, 35mm",
    Style.ANIME: "anime style, clean line art, vibrant cel shading",
    Style.WATERCOLOR: "loose watercolor painting, soft washes, visible paper texture",
    Style.DOCUMENTARY: "naturalistic documentary footage, handheld camera, available light",
}

# --------------------------------------------------------------------------------------
# Characters' looks
# --------------------------------------------------------------------------------------

_AGES = (
    "a small child",
    "a school-age child",
    "a lanky teenager",
    "a young adult",
    "a middle-aged adult",
    "an elderly person",
)
_AGES_BY_KIND: dict[str, tuple[str, ...]] = {
    "child": ("a small child", "a school-age child"),
    "elderly": ("an elderly person", "a stooped old person"),
}
_HAIR_STYLES = (
    "short tousled",
    "long straight",
    "shoulder-length wavy",
    "curly",
    "neatly braided",
    "cropped",
    "bobbed",
    "tied-back",
)
_HAIR_COLOURS = (
    "jet-black",
    "dark brown",
    "chestnut",
    "auburn",
    "sandy blond",
    "copper-red",
    "ash-brown",
)
_GREY_HAIR = ("silver-grey", "snow-white", "salt-and-pepper", "pale grey")
_CLOTH_COLOURS = (
    "mustard-yellow",
    "deep blue",
    "forest-green",
    "brick-red",
    "lavender",
    "cream",
    "teal",
    "rust-orange",
    "navy",
    "rose-pink",
)
_GARMENTS = (
    "hooded raincoat",
    "knitted sweater",
    "button-up cardigan",
    "linen tunic",
    "quilted jacket",
    "pinafore dress",
    "wool coat",
    "hanbok-style jacket",
)
_ACCESSORIES = (
    "a small silver bell on a red string",
    "round tortoiseshell glasses",
    "a striped woollen scarf",
    "a canvas satchel with a star patch",
    "a straw hat with a blue ribbon",
    "a brass pocket compass on a cord",
    "a yellow hair clip shaped like a leaf",
    "a patched leather backpack",
    "a wooden bead bracelet",
    "a knitted cap with a pompom",
)
_ANIMAL_SIZES = ("small", "tiny", "plump", "slender", "fluffy", "young")
_FUR_COLOURS = (
    "snow-white",
    "russet",
    "pale grey",
    "honey-brown",
    "black-and-white",
    "cream",
    "charcoal",
    "golden",
)
_ANIMAL_ACCESSORIES = (
    "a tiny red scarf",
    "a little blue bow",
    "a bell on a green ribbon",
    "a patch of white on one ear",
    "a star-shaped mark on its forehead",
    "a woven grass collar",
)
_FEATHERED = frozenset(
    {"bird", "owl", "duck", "penguin", "gull", "seagull", "crow", "raven", "hen", "chick"}
    | {"magpie", "sparrow"}
)
_SCALED = frozenset({"fish", "dragon", "turtle", "tortoise", "frog"})


def _pick(digest: bytes, slot: int, options: Sequence[str]) -> str:
    return options[digest[slot] % len(options)]


def describe_character(name: str, kind: str | None = None) -> str:
    """An English visual description derived only from a hash of ``name`` (and its kind).

    ``kind`` comes from ``character_kind``: an animal word (``"fox"``) when the story
    introduces the character as one, ``"child"`` or ``"elderly"`` to narrow a person's age
    group; otherwise any age group. The same name and kind always get the same words.
    """
    digest = hashlib.sha256(f"tale-character:{name}".encode()).digest()
    if kind is not None and kind not in PERSON_KINDS:
        covering = "feathers" if kind in _FEATHERED else "scales" if kind in _SCALED else "fur"
        return (
            f"a {_pick(digest, 0, _ANIMAL_SIZES)} {kind} with {_pick(digest, 1, _FUR_COLOURS)} "
            f"{covering}, bright dark eyes and {_pick(digest, 2, _ANIMAL_ACCESSORIES)}"
        )
    ages = _AGES_BY_KIND.get(kind or "", _AGES)
    age = _pick(digest, 0, ages)
    colours = _GREY_HAIR if age in _AGES_BY_KIND["elderly"] else _HAIR_COLOURS
    return (
        f"{age} with {_pick(digest, 1, _HAIR_STYLES)} "
        f"{_pick(digest, 2, colours)} hair, wearing a {_pick(digest, 3, _CLOTH_COLOURS)} "
        f"{_pick(digest, 4, _GARMENTS)}, with {_pick(digest, 5, _ACCESSORIES)}"
    )


# --------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------

#: Place keywords (English words, Korean nouns) → English setting, first match in text wins.
_PLACES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("lighthouse", "등대"), "at a lighthouse on a rocky coast"),
    (("beach", "shore", "해변", "바닷가", "모래사장"), "on a sandy beach"),
    (("sea", "ocean", "waves", "harbour", "harbor", "바다", "파도", "항구"), "by the sea"),
    (("forest", "woods", "wood", "숲", "숲속"), "in a quiet forest"),
    (("mountain", "hill", "산", "언덕"), "on a grassy hillside"),
    (("river", "stream", "lake", "강", "냇가", "호수", "개울"), "beside a winding river"),
    (("city", "street", "town", "도시", "거리"), "in a busy town street"),
    (("village", "마을"), "in a small village"),
    (("school", "classroom", "학교", "교실"), "in a school classroom"),
    (("garden", "yard", "meadow", "field", "마당", "정원", "뜰", "들판"), "in a garden"),
    (("kitchen", "부엌"), "in a warm kitchen"),
    (("room", "bedroom", "window", "방", "창가", "창문", "창밖"), "in a cozy bedroom"),
    (("house", "home", "cottage", "집"), "inside a cozy house"),
    (("달나라",), "on the surface of the moon"),
    (("sky", "clouds", "하늘", "구름"), "under an open sky"),
)
#: Time keywords → English phrase.
_TIMES: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("night", "midnight", "moon", "stars", "밤", "달", "보름달", "달빛", "별", "한밤"),
        "at night",
    ),
    (("morning", "dawn", "sunrise", "아침", "새벽"), "in the early morning"),
    (("evening", "sunset", "dusk", "저녁", "노을", "해질녘"), "at dusk"),
    (("winter", "snow", "겨울"), "in winter"),
    (("storm", "rain", "폭풍", "빗속", "비바람"), "in stormy weather"),
)
_KO_LOCATIVE = (
    "에서", "에게", "으로", "까지", "부터", "처럼", "보다", "에", "로", "은", "는", "이", "가",
    "을", "를", "의", "도", "만", "과", "와", "속", "빛",
)  # fmt: skip
#: Japanese and Chinese keywords (no spaces to split words at: matched as substrings, the
#: earliest in the text wins, ties by table order — so 海辺 is a beach before 海 is the sea).
_CJK_PLACES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("灯台", "灯塔", "燈塔"), "at a lighthouse on a rocky coast"),
    (("浜辺", "海辺", "砂浜", "海滩", "沙滩", "海边", "海灘", "沙灘", "海邊"), "on a sandy beach"),
    (("海", "波", "港"), "by the sea"),
    (("森", "林"), "in a quiet forest"),
    (("山", "丘", "坡"), "on a grassy hillside"),
    (("川", "湖", "池", "河", "溪"), "beside a winding river"),
    (("都会", "街", "町", "城市", "街道", "小镇", "小鎮", "城里", "城裡"), "in a busy town street"),
    (("村",), "in a small village"),
    (("学校", "教室", "學校"), "in a school classroom"),
    (("庭", "畑", "野原", "花园", "花園", "院子", "田野", "草地"), "in a garden"),
    (("台所", "厨房", "廚房"), "in a warm kitchen"),
    (("部屋", "窓", "房间", "房間", "窗"), "in a cozy bedroom"),
    (("家", "屋子", "房子"), "inside a cozy house"),
    (
        ("月の世界", "月の国", "月面", "月宫", "月宮", "月亮上", "月球"),
        "on the surface of the moon",
    ),
    (("空", "雲", "云"), "under an open sky"),
)
_CJK_TIMES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("夜", "晚上", "満月", "月夜", "月光", "星", "月亮", "晚"), "at night"),
    (("朝", "夜明け", "早上", "清晨", "早晨", "黎明", "日出"), "in the early morning"),
    (("夕方", "夕焼け", "日暮れ", "傍晚", "黄昏", "夕阳", "夕陽", "日落"), "at dusk"),
    (("冬", "雪"), "in winter"),
    (("嵐", "雨", "暴风", "暴風"), "in stormy weather"),
)
_FALLBACK_SETTING = "a story-world location"
_EN_WORDS = re.compile(r"[a-z]+")
_KO_WORDS = re.compile(r"[\uac00-\ud7a3]+")


def _first_keyword(
    words: list[str], table: tuple[tuple[tuple[str, ...], str], ...], language: Language
) -> str | None:
    best: tuple[int, str] | None = None
    for keywords, phrase in table:
        for position, word in enumerate(words):
            if best is not None and position >= best[0]:
                break
            if _matches(word, keywords, language):
                best = (position, phrase)
                break
    return best[1] if best else None


def _matches(word: str, keywords: tuple[str, ...], language: Language) -> bool:
    if word in keywords:
        return True
    if language != "ko":
        return word.endswith("s") and word[:-1] in keywords
    return any(word.startswith(k) and word[len(k) :] in _KO_LOCATIVE for k in keywords if _is_ko(k))


def _is_ko(word: str) -> bool:
    return bool(_KO_WORDS.fullmatch(word))


def setting_parts(text: str, language: Language) -> tuple[str | None, str | None]:
    """(place, time) in English from keywords in ``text``; either is None when absent.

    The earliest keyword in the text wins. Korean nouns match with a particle attached
    (``바다에서``, ``숲속``); Japanese and Chinese keywords are found inside the text.
    """
    if language in ("ja", "zh"):
        return _first_substring(text, _CJK_PLACES), _first_substring(text, _CJK_TIMES)
    words = _KO_WORDS.findall(text) if language == "ko" else _EN_WORDS.findall(text.lower())
    return _first_keyword(words, _PLACES, language), _first_keyword(words, _TIMES, language)


def _first_substring(text: str, table: tuple[tuple[tuple[str, ...], str], ...]) -> str | None:
    best: tuple[int, int, str] | None = None
    for order, (keywords, phrase) in enumerate(table):
        for keyword in keywords:
            at = text.find(keyword)
            if at >= 0 and (best is None or (at, order) < best[:2]):
                best = (at, order, phrase)
    return best[2] if best else None


def setting_of(text: str, language: Language, previous_place: str | None = None) -> str:
    """An English setting for a scene: place and time of day, from keywords in ``text``.

    Without a place keyword the previous scene's place carries on, and without that the
    setting is "a story-world location".
    """
    place, time = setting_parts(text, language)
    place = place or previous_place or _FALLBACK_SETTING
    return f"{place}, {time}" if time else place
