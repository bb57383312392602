"""What a tale will cost before it is generated (returned with the storyboard by the API).

The estimate prices the tale's shape — shots, seconds per shot, characters — and its
narration with the same model as the A/B comparison (``scenarios``): planner tokens from the
table's assumptions for a typical story, one reference image per character, every second of
video (A) or its GPU-seconds (B), the narrator (A: Gemini TTS tokens; B: Bark's GPU-seconds),
and the platform's cloud operations modelled per shot. The narration is the storyboard's when
the caller has one (``narration.of_plan``, with the tale's voice option), none for a tale
whose voice is ``none``, and otherwise every shot narrated at the typical fill
(``narration.typical``). ``"offline"`` (the embedded default's placeholders, espeak-ng
included) costs only the platform.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.costs.narration import Narration
from shared.costs.prices import PriceTable, ScenarioSpec
from shared.costs.profile import default_profile
from shared.costs.scenarios import Pricer, ScenarioCost, engines_from, scenario_a, scenario_b

SCENARIOS = ("A", "B", "offline")


@dataclass(frozen=True)
class Estimate:
    scenario: str
    usd: float
    by_stage: dict[str, float]
    price_table: str
    """The price table's version the estimate was made with."""
    unpriced: tuple[str, ...] = ()
    """Engine units the table cannot price (counted as 0 — the estimate is then too low)."""


def estimate_tale(
    shots: int,
    seconds_per_shot: int,
    characters: int,
    scenario: str,
    prices: PriceTable,
    *,
    specs: dict[str, ScenarioSpec] | None = None,
    narration: Narration | None = None,
) -> Estimate:
    """Cost of one tale in USD, total and by stage. ``specs``: the deployment's engines
    (``scenarios.engines_from`` with the settings' models); default: the table's.
    ``narration``: what the narrator voices (``shared.costs.narration``); default: every
    shot, at the typical fill."""
    if scenario not in SCENARIOS:
        raise ValueError(f"scenario must be one of {', '.join(SCENARIOS)}, not {scenario!r}")
    if shots < 1 or seconds_per_shot < 1 or characters < 0:
        raise ValueError("a tale has at least one shot of at least one second")
    profile = default_profile(prices, shots, seconds_per_shot, characters, narration)
    specs = specs or engines_from(prices)
    price = Pricer(prices)
    cost: ScenarioCost
    if scenario == "A":
        cost = scenario_a(profile, specs["A"], price, prices)
    elif scenario == "B":
        cost = scenario_b(profile, specs["B"], price, prices)
    else:
        by_stage = {"platform": profile.platform_usd.value}
        return Estimate(scenario, sum(by_stage.values()), by_stage, prices.version)
    by_stage = {c.stage: c.usd for c in cost.variable}
    return Estimate(scenario, cost.variable_usd, by_stage, prices.version, tuple(price.unpriced))
