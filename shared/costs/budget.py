"""Spending caps: what a tale will cost, shown before generation, and the cap it is held to.

Every tenant (user) has a monthly spending cap in USD (``TALE_SPEND_CAP_USD``, per-user
overrides in ``TALE_SPEND_CAPS_USD``). A tale's estimate (``shared.costs.estimate``: the
configured scenario's models priced with the price table) comes from its storyboard once it has
one, and before that from its shot count and shot length (two characters assumed).

The month's committed spend is the sum of the estimates the tenant's tales were admitted with
that month (UTC) — a failed or cancelled tale still counts, because part of its generation may
have been paid. A tale whose estimate would take the committed spend over the cap is refused
(``SpendingCapExceeded``; HTTP 402 ``spending-cap-exceeded``) before anything is reserved or
generated. The check and the reservation are one transaction in the ledger
(``Ledger.admit``), so parallel requests cannot all pass it.

What changed: the committed spend used to be recomputed from the tale store at every request
(each tale re-estimated from its storyboard once planned); it is now the estimate each tale
was admitted with, kept with its reservation, and tales admitted before admissions were
recorded count as nothing. An estimate shown later (from the storyboard) is for the owner's
information only.
"""

from __future__ import annotations

from schemas.plan import StoryPlan
from shared.config import Settings
from shared.costs.estimate import Estimate, estimate_tale
from shared.costs.prices import load_prices
from shared.costs.scenarios import deployment_engines
from shared.domain.tale import TaleRecord

DEFAULT_CHARACTERS = 2
"""Assumed before a storyboard says how many characters a tale has."""


def estimate(settings: Settings, shots: int, seconds: int, characters: int) -> Estimate:
    prices = load_prices(settings.price_table)
    return estimate_tale(
        shots,
        seconds,
        characters,
        settings.scenario,
        prices,
        specs=deployment_engines(prices, settings),
    )


def estimate_of(settings: Settings, tale: TaleRecord, plan: StoryPlan | None) -> Estimate:
    """The tale's estimate from its storyboard when it has one (shots, durations, cast)."""
    if plan is None or not plan.shots:
        return estimate(settings, max(tale.shot_count, 1), 8, DEFAULT_CHARACTERS)
    seconds = round(sum(s.duration_s for s in plan.shots) / len(plan.shots))
    return estimate(settings, len(plan.shots), seconds, len(plan.characters))


def cap_of(settings: Settings, owner: str) -> float:
    return settings.spend_caps_usd.get(owner, settings.spend_cap_usd)
