"""Spending caps: what a tale will cost, shown before generation, and refused over the cap.

Every tenant (user) has a monthly spending cap in USD (``TALE_SPEND_CAP_USD``, per-user
overrides in ``TALE_SPEND_CAPS_USD``). A tale's estimate (``shared.costs.estimate``: the
configured scenario's models priced with the price table) comes from its storyboard once it has
one, and before that from its shot count (8-second shots, two characters assumed). The month's
committed spend is the sum of the estimates of the tenant's tales created that month — a failed
or cancelled tale still counts, because part of its generation may have been paid. A tale whose
estimate would take the committed spend over the cap is refused (HTTP 402,
``spending-cap-exceeded``) before anything is reserved or generated.
"""

from __future__ import annotations

from datetime import UTC, datetime

from shared.api.problems import Problem
from shared.api.views import CostEstimate
from shared.bootstrap import Container
from shared.costs.estimate import Estimate, estimate_tale
from shared.costs.prices import load_prices
from shared.costs.scenarios import deployment_engines
from shared.domain.credits import period_of
from shared.domain.tale import TaleRecord


def estimate(container: Container, shots: int, seconds: int, characters: int) -> Estimate:
    settings = container.settings
    prices = load_prices(settings.price_table)
    return estimate_tale(
        shots,
        seconds,
        characters,
        settings.scenario,
        prices,
        specs=deployment_engines(prices, settings),
    )


def estimate_of(container: Container, tale: TaleRecord) -> Estimate:
    """The tale's estimate from its storyboard when it has one (shots, durations, cast)."""
    plan = container.store.plan(tale.tale_id)
    if plan is None or not plan.shots:
        return estimate(container, max(tale.shot_count, 1), 8, 2)
    seconds = round(sum(s.duration_s for s in plan.shots) / len(plan.shots))
    return estimate(container, len(plan.shots), seconds, len(plan.characters))


def cap_of(container: Container, owner: str) -> float:
    settings = container.settings
    return settings.spend_caps_usd.get(owner, settings.spend_cap_usd)


def committed(container: Container, owner: str, now: float) -> float:
    """The sum of the estimates of the owner's tales created in the month of ``now``."""
    period = period_of(now)
    total = 0.0
    for tale in container.store.list_tales(owner=owner, limit=1000):  # newest first
        month = period_of(tale.created_at)
        if month < period:
            break  # every later tale is older still
        if month == period:
            total += estimate_of(container, tale).usd
    return total


def admit(container: Container, owner: str, expected: Estimate, now: float) -> None:
    """Refuse a new tale that would take the month's committed spend over the cap."""
    cap = cap_of(container, owner)
    spent = committed(container, owner, now)
    if spent + expected.usd > cap:
        month = datetime.fromtimestamp(now, UTC).strftime("%B %Y")
        raise Problem(
            402,
            "spending-cap-exceeded",
            "Monthly spending cap reached",
            f"this tale is estimated at ${expected.usd:.2f}; ${spent:.2f} of your "
            f"${cap:.2f} cap for {month} is already committed",
            estimate_usd=round(expected.usd, 6),
            committed_usd=round(spent, 6),
            cap_usd=cap,
        )


def view(estimate: Estimate) -> CostEstimate:
    return CostEstimate(
        usd=round(estimate.usd, 6),
        by_stage={k: round(v, 6) for k, v in estimate.by_stage.items()},
        scenario=estimate.scenario,
        price_table=estimate.price_table,
    )
