"""``GET /v1/estimate``: what a tale would cost, asked before it is submitted.

The story form shows it while the owner chooses the shots and their length: the credits the
tale would reserve (``tale_cost``, the rule admission applies), the owner's balance, and the
generation estimate in USD from the deployment's price table — the figure the monthly
spending cap counts (``shared.costs.budget``). Before a storyboard exists the estimate
assumes ``DEFAULT_CHARACTERS`` characters, as the tale's own estimate does. Nothing is
reserved or stored.
"""

from __future__ import annotations

from typing import get_args

from pydantic import BaseModel, Field

from schemas.story import MAX_SHOTS, ShotSeconds
from shared.api import budget
from shared.api.problems import Problem
from shared.api.routes import Call, ensure_account
from shared.api.views import CostEstimate
from shared.costs import budget as costs
from shared.domain.credits import tale_cost

SHOT_SECONDS: tuple[int, ...] = get_args(ShotSeconds)
QUERY = [
    ("shot_count", {"type": "integer", "minimum": 1, "maximum": MAX_SHOTS, "default": 8}),
    ("shot_seconds", {"type": "integer", "enum": list(SHOT_SECONDS), "default": 8}),
]
"""The query parameters, as the OpenAPI document states them."""


class Quote(BaseModel):
    """What a tale of ``shot_count`` shots of ``shot_seconds`` would cost."""

    shot_count: int
    shot_seconds: int
    credits: int = Field(description="Credits the tale would reserve when submitted.")
    balance: int = Field(description="The caller's credits now.")
    estimate: CostEstimate
    """The generation estimate (USD) the spending cap counts."""


def _integer(call: Call, name: str, default: int, allowed: range | tuple[int, ...]) -> int:
    raw = call.request.args.get(name, str(default))
    if not (raw.isdigit() and len(raw) <= 3 and int(raw) in allowed):
        shown = ", ".join(map(str, allowed)) if isinstance(allowed, tuple) else f"1 to {MAX_SHOTS}"
        raise Problem(422, "invalid-request", "Invalid request", f"{name}: {shown}")
    return int(raw)


def estimate(call: Call) -> Quote:
    shots = _integer(call, "shot_count", 8, range(1, MAX_SHOTS + 1))
    seconds = _integer(call, "shot_seconds", 8, SHOT_SECONDS)
    ensure_account(call)
    profile = call.container.ledger.profile(call.user)
    settings = call.container.settings
    usd = costs.estimate(settings, shots, seconds, costs.DEFAULT_CHARACTERS)
    return Quote(
        shot_count=shots,
        shot_seconds=seconds,
        credits=tale_cost(shots, seconds),
        balance=profile.balance if profile is not None else 0,
        estimate=budget.view(usd),
    )
