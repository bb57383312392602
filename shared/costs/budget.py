"""Spending caps: what a tale will cost, shown before generation, and the cap it is held to.

Every tenant (user) has a monthly spending cap in USD (``TALE_SPEND_CAP_USD``, per-user
overrides in ``TALE_SPEND_CAPS_USD``). A tale's estimate (``shared.costs.estimate``: the
configured scenario's models priced with the price table) comes from its storyboard once it has
one — its shots, cast and narration lines — and before that from its shot count and shot
length (two characters assumed, every shot narrated at the typical fill). Either way a tale
whose voice option is ``none`` has no narration to pay for.

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
from shared.costs.narration import Narration, of_plan, silent
from shared.costs.prices import load_prices
from shared.costs.scenarios import deployment_engines
from shared.domain.tale import TaleRecord
from shared.ports.voices import NO_VOICE

DEFAULT_CHARACTERS = 2
"""Assumed before a storyboard says how many characters a tale has."""


def estimate(
    settings: Settings,
    shots: int,
    seconds: int,
    characters: int,
    *,
    voice: str = "",
    narration: Narration | None = None,
) -> Estimate:
    """A tale of ``shots`` × ``seconds``. ``voice``: the tale's voice option (``none``: no
    narration); ``narration``: what is voiced, when known (a storyboard's), instead."""
    prices = load_prices(settings.price_table)
    if narration is None and voice == NO_VOICE:
        narration = silent()
    return estimate_tale(
        shots,
        seconds,
        characters,
        settings.scenario,
        prices,
        specs=deployment_engines(prices, settings),
        narration=narration,
    )


def estimate_of(
    settings: Settings, tale: TaleRecord, plan: StoryPlan | None, voice: str = ""
) -> Estimate:
    """The tale's estimate from its storyboard when it has one (shots, durations, cast,
    narration lines); ``voice``: the tale's voice option."""
    if plan is None or not plan.shots:
        return estimate(settings, max(tale.shot_count, 1), 8, DEFAULT_CHARACTERS, voice=voice)
    seconds = round(sum(s.duration_s for s in plan.shots) / len(plan.shots))
    return estimate(
        settings,
        len(plan.shots),
        seconds,
        len(plan.characters),
        narration=of_plan(plan, voice),
    )


def estimate_revision(
    settings: Settings, plan: StoryPlan, shots: list[int], renarrated: set[int], voice: str
) -> Estimate:
    """A revision of ``shots`` (indexes) of the revised ``plan``: those shots render again,
    and only the ``renarrated`` ones are voiced again."""
    seconds = sum(plan.shots[i].duration_s for i in shots)
    return estimate(
        settings,
        len(shots),
        round(seconds / len(shots)),
        0,
        narration=of_plan(plan, voice, sorted(renarrated)),
    )


def cap_of(settings: Settings, owner: str) -> float:
    return settings.spend_caps_usd.get(owner, settings.spend_cap_usd)
