"""The work in one average video, and where each number comes from.

The A/B comparison prices *work* — shots, seconds of video, characters, planner tokens,
narration (``narration``: lines, their text, seconds of speech), GPU-seconds, cloud
operations — with each scenario's engines. The work is taken, in order of preference, from:

- ``usage``: the tales' usage records (what a provider or the platform actually counted);
- ``tales``: the tales themselves (their plans: shots, durations, characters, narration lines
  with the tale's voice option; their stories' length) — e.g. tales rendered by the offline
  generators, which record no provider usage;
- ``modelled``: the price table's assumptions applied to the above (tokens per plan, the
  platform cost of a shot), or to the default tale (8 shots × 8 s) when no tale finished.

Only completed tales make the profile: it describes a video. (What failed tales cost is in the
period's totals.) The narrator's usage records (``voice:<index>``, made by ``narrate_shot`` or
the GPU worker) are kept apart from the others (``narration_usage``): Bark's GPU-seconds are
not the video model's, and the speech model's text tokens are not the planner's.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Literal

from shared.costs.model import PLATFORM, TaleCost
from shared.costs.narration import Narration, of_plan, silent, typical
from shared.costs.narration import mean as mean_narration
from shared.costs.prices import PriceTable
from shared.domain.tale import TaleState
from shared.ports.store import TaleStore

Basis = Literal["usage", "tales", "modelled"]

DEFAULT_SHOTS = 8
DEFAULT_SECONDS_PER_SHOT = 8
#: The functions whose provider calls the profile reads apart from the rest.
PLANNER = "plan_story"
NARRATOR = "narrate_shot"


@dataclass(frozen=True)
class Amount:
    value: float
    basis: Basis


@dataclass(frozen=True)
class WorkProfile:
    tales: int
    """Completed tales the profile averages (0: the default tale, modelled)."""
    shots: Amount
    video_seconds: Amount
    characters: Amount
    input_tokens: Amount
    output_tokens: Amount
    platform_usd: Amount
    usage: dict[tuple[str, str], float] = field(default_factory=dict)
    """Mean per video of every provider unit recorded, by (provider, unit), but the
    narrator's."""
    narration: Narration = field(default_factory=silent)
    """The narration of a video: lines, characters, seconds of speech (default: none)."""
    narration_usage: dict[tuple[str, str], float] = field(default_factory=dict)
    """Mean per video of the narrator's units recorded (``voice:<index>``)."""

    def used(self, provider: str, unit: str) -> float | None:
        return self.usage.get((provider, unit))

    def narrator_used(self, provider: str, unit: str) -> float | None:
        return self.narration_usage.get((provider, unit))


def modelled_tokens(
    prices: PriceTable, shots: float, characters: float, story_chars: float
) -> tuple[float, float]:
    """(input, output) tokens of one planner call, from the table's assumptions."""
    a = prices.assumption
    tokens_in = a("planner_prompt_tokens") + story_chars * a("story_tokens_per_char")
    tokens_out = (
        a("plan_output_tokens_base")
        + shots * a("plan_output_tokens_per_shot")
        + characters * a("plan_output_tokens_per_character")
        + a("planner_thinking_tokens")
    )
    return tokens_in, tokens_out


def modelled_platform(prices: PriceTable, shots: float) -> float:
    """Cloud operations of one tale where none were recorded."""
    return shots * prices.assumption("platform_usd_per_shot") + prices.assumption(
        "platform_usd_per_tale"
    )


def default_profile(
    prices: PriceTable,
    shots: int = DEFAULT_SHOTS,
    seconds_per_shot: int = DEFAULT_SECONDS_PER_SHOT,
    characters: float | None = None,
    voiced: Narration | None = None,
) -> WorkProfile:
    """A tale known only by its shape (before generation, or when no tale finished).
    ``voiced``: its narration when known (a storyboard's, or none); default: every shot
    narrated at the typical fill (``narration.typical``)."""
    chars = prices.assumption("characters_per_tale") if characters is None else characters
    tokens_in, tokens_out = modelled_tokens(
        prices, shots, chars, prices.assumption("typical_story_chars")
    )
    return WorkProfile(
        tales=0,
        shots=Amount(shots, "modelled"),
        video_seconds=Amount(shots * seconds_per_shot, "modelled"),
        characters=Amount(chars, "modelled"),
        input_tokens=Amount(tokens_in, "modelled"),
        output_tokens=Amount(tokens_out, "modelled"),
        platform_usd=Amount(modelled_platform(prices, shots), "modelled"),
        narration=typical(prices, shots, seconds_per_shot) if voiced is None else voiced,
    )


@dataclass
class _Sums:
    tales: int = 0
    shots: float = 0.0
    seconds: float = 0.0
    characters: float = 0.0
    tokens_in: float = 0.0
    tokens_out: float = 0.0
    platform: float = 0.0
    tokens_observed: int = 0
    platform_observed: int = 0
    usage: dict[tuple[str, str], float] = field(default_factory=lambda: defaultdict(float))
    narrations: list[Narration] = field(default_factory=list)
    narrator: dict[tuple[str, str], float] = field(default_factory=lambda: defaultdict(float))


def profile_of(tales: list[TaleCost], store: TaleStore, prices: PriceTable) -> WorkProfile:
    """The mean work of the completed tales among ``tales`` (the default tale if none)."""
    sums = _Sums()
    for item in tales:
        if item.tale.state is TaleState.COMPLETED:
            _add(sums, item, store, prices)
    if sums.tales == 0:
        return default_profile(prices)
    n = sums.tales

    def mixed(observed: int) -> Basis:
        return "usage" if observed == n else "modelled"

    return WorkProfile(
        tales=n,
        shots=Amount(sums.shots / n, "tales"),
        video_seconds=Amount(sums.seconds / n, "tales"),
        characters=Amount(sums.characters / n, "tales"),
        input_tokens=Amount(sums.tokens_in / n, mixed(sums.tokens_observed)),
        output_tokens=Amount(sums.tokens_out / n, mixed(sums.tokens_observed)),
        platform_usd=Amount(sums.platform / n, mixed(sums.platform_observed)),
        usage={key: total / n for key, total in sorted(sums.usage.items())},
        narration=mean_narration(sums.narrations),
        narration_usage={key: total / n for key, total in sorted(sums.narrator.items())},
    )


def _add(sums: _Sums, item: TaleCost, store: TaleStore, prices: PriceTable) -> None:
    tale_id = item.tale.tale_id
    plan = store.plan(tale_id)
    if plan is None:
        return
    shots = len(plan.shots)
    characters = len(plan.characters)
    sums.tales += 1
    sums.shots += shots
    sums.seconds += sum(s.duration_s for s in plan.shots)
    sums.characters += characters
    sums.narrations.append(of_plan(plan, store.options(tale_id).voice))
    for counted in item.costs.counted():
        if counted.provider == PLATFORM:
            continue
        into = sums.narrator if counted.function == NARRATOR else sums.usage
        into[(counted.provider, counted.unit)] += counted.quantity
    planner_in, planner_out = _planner_tokens(item)
    if planner_in or planner_out:
        sums.tokens_observed += 1
        sums.tokens_in += planner_in
        sums.tokens_out += planner_out
    else:
        story_chars = len(store.submission(tale_id).text)
        tokens_in, tokens_out = modelled_tokens(prices, shots, characters, story_chars)
        sums.tokens_in += tokens_in
        sums.tokens_out += tokens_out
    if item.costs.quantities(PLATFORM).get("invocations"):
        sums.platform_observed += 1
        sums.platform += item.costs.platform_usd
    else:
        sums.platform += modelled_platform(prices, shots)


def _planner_tokens(item: TaleCost) -> tuple[float, float]:
    """Tokens of the tale's planner calls (records keyed ``plan:<attempt>``)."""
    tokens = {"input_tokens": 0.0, "output_tokens": 0.0}
    for counted in item.costs.counted():
        if counted.function == PLANNER and counted.unit in tokens:
            tokens[counted.unit] += counted.quantity
    return tokens["input_tokens"], tokens["output_tokens"]
