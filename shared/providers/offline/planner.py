"""The offline planner: a rule-based placeholder for the language model. It is not AI.

``OfflinePlanner`` turns a story into a ``StoryPlan`` with fixed rules so that Tale runs end to
end with no model and no network: sentences are split by punctuation and (for Korean)
sentence-final verb endings, scenes follow paragraphs, shots take consecutive sentences,
characters are recurring names found by word lists, and every "visual" detail — a
character's looks, a scene's setting — is either looked up from keywords or picked from
short lists by a hash of the text. It understands nothing and translates nothing: the
shot prompts are English scaffolding around the story's own words. Each shot's narration is
its beat cut to what a calm narrator reads within the shot (``shared.domain.reading``: whole
sentences while they fit, else the first one cut at a word); the prompt keeps the whole beat.

The rules live beside this module — ``sentences``, ``titles``, ``names``, ``kinds`` and
``looks`` — and the planner composes them: it groups sentences into scenes and shots,
chooses cameras and writes the prompts.

Same submission, same plan: there is no randomness except choices derived from SHA-256
of the text.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from schemas.plan import Camera, Character, Scene, Shot, StoryPlan
from schemas.story import Language, StorySubmission
from shared.domain.reading import trim_to_fit
from shared.ports.generators import Planner
from shared.providers.offline.kinds import character_kind
from shared.providers.offline.looks import (
    STYLE_WORDING,
    describe_character,
    setting_of,
    setting_parts,
)
from shared.providers.offline.names import extract_characters
from shared.providers.offline.sentences import is_cjk_language, paragraphs, split_sentences
from shared.providers.offline.titles import body_of, title_of

__all__ = ["OfflinePlanner"]

#: The quoted story beat in a prompt is cut to this many characters.
ACTION_MAX = 400

#: Camera cycle for shots that neither open a scene nor focus on one character.
_CYCLE = (Camera.WIDE, Camera.MEDIUM, Camera.TRACKING, Camera.LOW_ANGLE, Camera.AERIAL)
#: Tried in this order when a shot would repeat the previous shot's camera.
_FALLBACK = (Camera.MEDIUM, Camera.TRACKING, Camera.LOW_ANGLE, Camera.WIDE, Camera.AERIAL)

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
    if language in ("ko", "ja", "zh"):
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
    story beat is quoted in the story's own language: ``Action: "<beat>"``. The narration is
    the beat within its shot's reading budget.
    """

    def plan(self, submission: StorySubmission, *, tale_id: str = "") -> StoryPlan:
        language = submission.resolved_language()
        text = submission.text
        body = body_of(text)
        title = title_of(text, split_sentences(body, language), language)[:120]
        shot_count = submission.shot_count

        groups = _scene_groups(body, language, shot_count)
        beats = _beats(groups, shot_count)

        names = extract_characters(body, language)
        characters = [
            Character(name=n, description=describe_character(n, character_kind(body, n, language)))
            for n in names
        ]
        described = {c.name: c.description for c in characters}

        joiner = "" if is_cjk_language(language) else " "  # no spaces between ja/zh sentences
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
            told = joiner.join(beat.sentences)
            present = _present(names, told, language)
            mentions = {n: told.count(n) for n in present}
            opens_scene = index > 0 and beats[index - 1].scene != beat.scene
            camera = _camera(index, opens_scene, mentions, previous)
            previous = camera
            parts = [
                f"{camera.value[:1].upper()}{camera.value[1:]}, {STYLE_WORDING[submission.style]}.",
                f"Setting: {scenes[beat.scene].setting}.",
                *(f"{n}: {described[n]}." for n in present),
                f'Action: "{_quote(told)}"',
            ]
            shots.append(
                Shot(
                    index=index,
                    scene_index=beat.scene,
                    prompt=" ".join(parts),
                    camera=camera,
                    duration_s=submission.shot_seconds,
                    characters=present,
                    narration=trim_to_fit(told, language, submission.shot_seconds),
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
