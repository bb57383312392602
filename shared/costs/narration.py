"""A tale's narration as work to price: the lines voiced, their text and their speech.

``narrate_shot`` voices every shot's narration line unless the tale's voice is ``none``
(``shared.ports.voices.NO_VOICE``). What that costs follows the text (scenario A bills the
line's text tokens in) and the speech (A bills the audio out as tokens; B spends GPU-seconds
of Bark on the tale's GPU job per second of speech). Where the narration comes from:

- a storyboard (``of_plan``): the shots with a line, their characters, and the seconds a calm
  reader takes to read them — ``shared.domain.reading.reading_seconds``, the reading budget
  the planners write to, the plan validation enforces and the mixer fits the voice into;
- a tale known only by its shape (``typical``): every shot narrated, its line filling
  ``narration_fill_ratio`` of the shot's reading budget (its length), at
  ``narration_chars_per_second`` characters a second — assumptions of the price table,
  measured on the offline plans of ``examples/``.

The seconds are reading seconds, not the synthesizer's: a narrator reads at its own pace (the
mixer takes up to 1.25× the shot's room), which the usage records then show.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from schemas.plan import StoryPlan
from shared.costs.prices import PriceTable
from shared.domain.reading import reading_seconds
from shared.ports.voices import NO_VOICE

Source = Literal["tales", "modelled"]


@dataclass(frozen=True)
class Narration:
    """The narration of one tale (or the mean of several)."""

    lines: float
    """Shots with a line to voice."""
    characters: float
    """Characters of those lines (the text a speech model reads)."""
    seconds: float
    """Seconds of speech: the lines read at the reading budget's calm pace."""
    source: Source
    """``tales``: from storyboards; ``modelled``: from a tale's shape and the assumptions."""


def silent(source: Source = "modelled") -> Narration:
    """No narration: a tale whose voice is ``none``."""
    return Narration(0.0, 0.0, 0.0, source)


def of_plan(plan: StoryPlan, voice: str, shots: Iterable[int] | None = None) -> Narration:
    """What ``narrate_shot`` voices for ``plan`` with the tale's ``voice`` option: every
    shot's line, or only those of ``shots`` (indexes: the re-narrated shots of a revision)."""
    if voice == NO_VOICE:
        return silent("tales")
    indexes = range(len(plan.shots)) if shots is None else shots
    lines = [text for i in indexes if (text := plan.shots[i].narration.strip())]
    return Narration(
        lines=float(len(lines)),
        characters=float(sum(len(text) for text in lines)),
        seconds=sum(reading_seconds(text, plan.language) for text in lines),
        source="tales",
    )


def typical(prices: PriceTable, shots: int, seconds_per_shot: int, voice: str = "") -> Narration:
    """The narration of a tale known by its shape: every shot narrated, unless ``voice`` is
    ``none``."""
    if voice == NO_VOICE:
        return silent()
    seconds = shots * seconds_per_shot * prices.assumption("narration_fill_ratio")
    return Narration(
        lines=float(shots),
        characters=seconds * prices.assumption("narration_chars_per_second"),
        seconds=seconds,
        source="modelled",
    )


def mean(narrations: list[Narration]) -> Narration:
    """The mean narration of several tales."""
    n = len(narrations)
    if n == 0:
        return silent()
    return Narration(
        lines=sum(x.lines for x in narrations) / n,
        characters=sum(x.characters for x in narrations) / n,
        seconds=sum(x.seconds for x in narrations) / n,
        source="tales" if all(x.source == "tales" for x in narrations) else "modelled",
    )
