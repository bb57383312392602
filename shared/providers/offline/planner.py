"""The offline planner: a rule-based placeholder for the language model. It is not AI.

``OfflinePlanner`` turns a story into a ``StoryPlan`` with fixed rules so that Tale runs end to
end with no model and no network: sentences are split by punctuation and (for Korean)
sentence-final verb endings, scenes follow paragraphs, shots take consecutive sentences,
characters are recurring names found by word lists, and every "visual" detail — a
character's looks, a scene's setting — is either looked up from keywords or picked from
short lists by a hash of the text. It understands nothing and translates nothing: the
shot prompts are English scaffolding around the story's own words.

Same submission, same plan: there is no randomness except choices derived from SHA-256
of the text.
"""

from __future__ import annotations

import bisect
import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from schemas.plan import Camera, Character, Scene, Shot, StoryPlan
from schemas.story import Language, StorySubmission, Style
from shared.ports.generators import Planner
from shared.providers.offline.text import (
    PERSON_KINDS,
    body_of,
    character_kind,
    extract_characters,
    paragraphs,
    split_sentences,
    title_of,
)

__all__ = [
    "STYLE_WORDING",
    "OfflinePlanner",
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

#: The quoted story beat in a prompt is cut to this many characters.
ACTION_MAX = 400

#: Camera cycle for shots that neither open a scene nor focus on one character.
_CYCLE = (Camera.WIDE, Camera.MEDIUM, Camera.TRACKING, Camera.LOW_ANGLE, Camera.AERIAL)
#: Tried in this order when a shot would repeat the previous shot's camera.
_FALLBACK = (Camera.MEDIUM, Camera.TRACKING, Camera.LOW_ANGLE, Camera.WIDE, Camera.AERIAL)

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
    (``바다에서``, ``숲속``).
    """
    words = _KO_WORDS.findall(text) if language == "ko" else _EN_WORDS.findall(text.lower())
    return _first_keyword(words, _PLACES, language), _first_keyword(words, _TIMES, language)


def setting_of(text: str, language: Language, previous_place: str | None = None) -> str:
    """An English setting for a scene: place and time of day, from keywords in ``text``.

    Without a place keyword the previous scene's place carries on, and without that the
    setting is "a story-world location".
    """
    place, time = setting_parts(text, language)
    place = place or previous_place or _FALLBACK_SETTING
    return f"{place}, {time}" if time else place


# --------------------------------------------------------------------------------------
# Splitting the story over shots
# --------------------------------------------------------------------------------------


def _balanced_partition(weights: Sequence[int], parts: int) -> list[tuple[int, int]]:
    """Cut ``weights`` into ``parts`` consecutive non-empty ranges of similar total weight."""
    n = len(weights)
    parts = max(1, min(parts, n))
    cumulative = [0]
    for w in weights:
        cumulative.append(cumulative[-1] + w)
    total = cumulative[-1]
    cuts = [0]
    for k in range(1, parts):
        lo, hi = cuts[-1] + 1, n - (parts - k)
        target = total * k / parts
        i = bisect.bisect_left(cumulative, target, lo, hi + 1)
        candidates = [c for c in (i - 1, i) if lo <= c <= hi] or [min(max(i, lo), hi)]
        cuts.append(min(candidates, key=lambda c: (abs(cumulative[c] - target), c)))
    cuts.append(n)
    return [(cuts[j], cuts[j + 1]) for j in range(parts)]


def _greedy_extra(
    weights: Sequence[int], counts: list[int], extra: int, caps: Sequence[int]
) -> None:
    """Give ``extra`` more units, one at a time, to the item with most weight per unit."""
    for _ in range(extra):
        open_items = [i for i in range(len(counts)) if counts[i] < caps[i]]
        best = max(open_items, key=lambda i: (weights[i] / counts[i], -i))
        counts[best] += 1


@dataclass(frozen=True)
class _Beat:
    sentences: tuple[str, ...]
    scene: int


def _scene_groups(body: str, language: Language, shot_count: int) -> list[list[str]]:
    """Sentences grouped into scenes: by paragraph, or evenly when there is only one."""
    groups = [s for s in (split_sentences(p, language) for p in paragraphs(body)) if s]
    if not groups:
        groups = [[body.strip()]]
    if len(groups) == 1:
        sentences = groups[0]
        ranges = _balanced_partition([len(s) + 1 for s in sentences], math.ceil(shot_count / 2))
        groups = [sentences[a:b] for a, b in ranges]
    if len(groups) > shot_count:
        weights = [sum(len(s) + 1 for s in g) for g in groups]
        ranges = _balanced_partition(weights, shot_count)
        groups = [[s for g in groups[a:b] for s in g] for a, b in ranges]
    return groups


def _beats(groups: list[list[str]], shot_count: int) -> list[_Beat]:
    """Exactly ``shot_count`` beats that use every sentence once, in order, or repeat some.

    With at least as many sentences as shots, consecutive sentences are grouped into chunks
    balanced by length (and no shot crosses a scene). With fewer, each sentence gets its
    own shot and the longest sentences are repeated over consecutive shots.
    """
    weights = [sum(len(s) + 1 for s in g) for g in groups]
    sizes = [len(g) for g in groups]
    enough = sum(sizes) >= shot_count
    if enough:
        counts = [1] * len(groups)
        _greedy_extra(weights, counts, shot_count - len(groups), sizes)
    else:
        counts = list(sizes)
        _greedy_extra(weights, counts, shot_count - sum(sizes), [shot_count] * len(groups))

    beats: list[_Beat] = []
    for scene, (group, count) in enumerate(zip(groups, counts, strict=True)):
        lengths = [len(s) + 1 for s in group]
        if count <= len(group):
            for a, b in _balanced_partition(lengths, count):
                beats.append(_Beat(tuple(group[a:b]), scene))
        else:
            repeats = [1] * len(group)
            _greedy_extra(lengths, repeats, count - len(group), [count] * len(group))
            for sentence, times in zip(group, repeats, strict=True):
                beats.extend(_Beat((sentence,), scene) for _ in range(times))
    return beats


# --------------------------------------------------------------------------------------
# The planner
# --------------------------------------------------------------------------------------


def _present(names: list[str], narration: str, language: Language) -> list[str]:
    if language == "ko":
        return [n for n in names if n in narration]
    return [n for n in names if re.search(rf"(?<![A-Za-z]){re.escape(n)}(?![a-z])", narration)]


def _camera(
    index: int, opens_scene: bool, mentions: dict[str, int], previous: Camera | None
) -> Camera:
    ranked = sorted(mentions.values(), reverse=True)
    dominant = len(ranked) == 1 or (len(ranked) > 1 and ranked[0] >= 2 * ranked[1])
    if index == 0 or opens_scene:
        camera = Camera.WIDE
    elif dominant:
        camera = Camera.CLOSE_UP
    else:
        camera = _CYCLE[index % len(_CYCLE)]
        if camera is Camera.MEDIUM and len(ranked) >= 2:
            camera = Camera.OVER_SHOULDER
    if camera is previous:
        camera = next(c for c in _FALLBACK if c is not previous)
    return camera


def _quote(narration: str) -> str:
    beat = " ".join(narration.split()).replace('"', "'")
    if len(beat) > ACTION_MAX:
        beat = beat[: ACTION_MAX - 1].rstrip() + "…"
    return beat


class OfflinePlanner(Planner):
    """Rule-based planner: a deterministic stand-in for the language model, not AI.

    Shot prompts are English — camera, style wording, the scene's setting and each present
    character's description, verbatim — but the offline planner cannot translate, so the
    story beat is quoted in the story's own language: ``Action: "<narration>"``.
    """

    def plan(self, submission: StorySubmission) -> StoryPlan:
        language = submission.resolved_language()
        text = submission.text
        body = body_of(text)
        title = title_of(text, split_sentences(body, language))[:120]
        shot_count = submission.shot_count

        groups = _scene_groups(body, language, shot_count)
        beats = _beats(groups, shot_count)

        names = extract_characters(body, language)
        characters = [
            Character(name=n, description=describe_character(n, character_kind(body, n, language)))
            for n in names
        ]
        described = {c.name: c.description for c in characters}

        scenes: list[Scene] = []
        place: str | None = None
        for index, group in enumerate(groups):
            scene_text = " ".join(group)
            setting = setting_of(scene_text, language, place)
            place = setting_parts(scene_text, language)[0] or place
            scenes.append(Scene(index=index, setting=setting, summary=group[0]))

        shots: list[Shot] = []
        previous: Camera | None = None
        for index, beat in enumerate(beats):
            narration = " ".join(beat.sentences)
            present = _present(names, narration, language)
            mentions = {n: narration.count(n) for n in present}
            opens_scene = index > 0 and beats[index - 1].scene != beat.scene
            camera = _camera(index, opens_scene, mentions, previous)
            previous = camera
            parts = [
                f"{camera.value[:1].upper()}{camera.value[1:]}, {STYLE_WORDING[submission.style]}.",
                f"Setting: {scenes[beat.scene].setting}.",
                *(f"{n}: {described[n]}." for n in present),
                f'Action: "{_quote(narration)}"',
            ]
            shots.append(
                Shot(
                    index=index,
                    scene_index=beat.scene,
                    prompt=" ".join(parts),
                    camera=camera,
                    duration_s=submission.shot_seconds,
                    characters=present,
                    narration=narration,
                )
            )

        return StoryPlan(
            title=title or "Untitled",
            language=language,
            style=submission.style,
            aspect_ratio=submission.aspect_ratio,
            characters=characters,
            scenes=scenes,
            shots=shots,
        )
