"""Whether an account may start one more tale: the rule every ledger applies atomically.

A tale is admitted when the account has fewer unfinished tales than its limit, the tale's
estimate keeps the month's committed spend within the account's cap, and the balance covers
its credits — checked in that order, against the account as it stands inside the ledger's
transaction (``Ledger.admit``), so that parallel requests cannot all pass the same check.

Money is compared in whole micro-dollars (``micro_usd``), so that SQLite, PostgreSQL and
Python add estimates up to exactly the same total.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shared.domain.errors import InsufficientCredits, SpendingCapExceeded, TooManyRunningTales

PERIOD = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
"""A spending and grant period: ``YYYY-MM`` (UTC)."""


def micro_usd(usd: float) -> int:
    return round(usd * 1_000_000)


def usd(micro: int) -> float:
    return micro / 1_000_000


@dataclass(frozen=True)
class Request:
    """What a new tale asks of its account."""

    credits: int
    estimate_usd: float
    period: str
    """The month the tale is admitted in (``YYYY-MM``): its estimate counts there."""
    cap_usd: float
    max_running: int

    def __post_init__(self) -> None:
        if self.credits <= 0:
            raise ValueError(f"a reservation must be positive, not {self.credits!r}")
        if not PERIOD.fullmatch(self.period):
            raise ValueError(f"the period must be YYYY-MM, not {self.period!r}")
        if self.estimate_usd < 0 or self.cap_usd < 0 or self.max_running < 1:
            raise ValueError("an estimate and a cap are ≥ 0 and the running limit ≥ 1")


@dataclass(frozen=True)
class Standing:
    """The account inside the admitting transaction."""

    running: int
    """Reservations neither settled nor refunded."""
    committed_micro_usd: int
    """The estimates of the tales admitted in the request's period (any outcome)."""
    balance: int


def check(standing: Standing, request: Request) -> None:
    """Raise ``TooManyRunningTales``, ``SpendingCapExceeded`` or ``InsufficientCredits``."""
    if standing.running >= request.max_running:
        raise TooManyRunningTales(standing.running, request.max_running)
    estimate, cap = micro_usd(request.estimate_usd), micro_usd(request.cap_usd)
    if standing.committed_micro_usd + estimate > cap:
        raise SpendingCapExceeded(
            usd(estimate), usd(standing.committed_micro_usd), request.cap_usd, request.period
        )
    if standing.balance < request.credits:
        raise InsufficientCredits(request.credits, standing.balance)
