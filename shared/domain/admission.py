"""Whether an account may start one more tale: the rule every ledger applies atomically.

A tale is admitted when the account has fewer unfinished tales than its limit, the tale's
estimate keeps the month's committed spend within the account's cap, and the balance covers
its credits — checked in that order, against the account as it stands inside the ledger's
transaction (``Ledger.admit``), so that parallel requests cannot all pass the same check.

An edited storyboard (``extend``) is admitted again for what it adds: the credits its tale's
reservation lacks and the estimate beyond what the tale committed, the increase held to the
same cap (``Ledger.reserve_more``). What it needs less is not returned before the tale is
settled, so a tale's reservation only grows until its one settlement or refund.

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


@dataclass(frozen=True)
class Extension:
    """What an edited storyboard asks of its tale's account (``Ledger.reserve_more``)."""

    version: int
    """The plan version the edit creates (kept with the entry)."""
    credits: int
    """What the edited storyboard needs in all."""
    estimate_usd: float
    period: str
    """The month an increase of the estimate counts in (``YYYY-MM``)."""
    cap_usd: float

    def __post_init__(self) -> None:
        if self.version < 1 or self.credits < 1:
            raise ValueError("a plan version and a storyboard's credits are ≥ 1")
        if not PERIOD.fullmatch(self.period):
            raise ValueError(f"the period must be YYYY-MM, not {self.period!r}")
        if self.estimate_usd < 0 or self.cap_usd < 0:
            raise ValueError("an estimate and a cap are ≥ 0")


@dataclass(frozen=True)
class Held:
    """What a tale holds inside the extending transaction."""

    credits: int
    """Its reservation plus earlier extensions."""
    committed_micro_usd: int
    """The estimate it was admitted with plus earlier increases."""


def extend(
    held: Held, request: Extension, committed_micro_usd: int, balance: int
) -> tuple[int, int]:
    """(credits, micro-dollars) the edit adds to its tale: only what the tale lacks, so a
    repeated request adds nothing. Raises ``SpendingCapExceeded`` when the added estimate
    takes the month's committed spend (``committed_micro_usd``) over the cap, then
    ``InsufficientCredits`` when the balance does not cover the added credits."""
    credits = max(0, request.credits - held.credits)
    micro = max(0, micro_usd(request.estimate_usd) - held.committed_micro_usd)
    if micro and committed_micro_usd + micro > micro_usd(request.cap_usd):
        raise SpendingCapExceeded(
            usd(micro), usd(committed_micro_usd), request.cap_usd, request.period
        )
    if balance < credits:
        raise InsufficientCredits(credits, balance)
    return credits, micro
