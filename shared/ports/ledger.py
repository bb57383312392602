"""Ledger port: profiles, plans and credits — what users and billing see.

Credits move only through these operations, each atomic and idempotent:
- ``grant_monthly``: the plan's monthly credits, at most once per user and period;
- ``admit``: at submission, at most once per tale — in one transaction, the running-tale
  limit, the month's spending cap and the balance are checked and the credits reserved
  (the rule: ``shared.domain.admission``), so parallel requests cannot race past a limit;
- ``reserve``: the same reservation without the limits (operator runs, the chaos run);
- ``reserve_more``: an edited storyboard needs more than its tale holds — the difference is
  reserved on the same tale, with the month's spending cap and the balance checked in the
  same transaction; an edit that needs less reserves nothing (the rest is returned when the
  tale is settled);
- ``settle``: the tale completed — the reservation becomes final, at most once; given what
  the finished storyboard costs, only that much is kept and the rest is returned with it;
- ``refund``: the tale failed or was cancelled — everything reserved for it is returned, at
  most once, and never after a settle.
A reservation is *open* from its ``admit`` (or ``reserve``) until its settle or refund;
``open_reservations`` lists the open ones older than a moment (the sweep returns those whose
tale was never created: ``shared.usecases.return_orphans``). A closed reservation is never
opened again: ``admit`` of a tale whose reservation was settled or refunded raises
``SubmissionExpired`` (a retry under the ``Idempotency-Key`` of a request that died before
creating its tale, after the sweep returned the credits, must neither create the tale
without a reservation nor reserve a second time).
Paid plans add three kinds of entry, written by the billing book (``shared.ports.billing``) in
the same database: ``paid`` (the credits of a paid invoice), ``revoke`` (credits taken back
after a refund or a dispute, never below a zero balance) and ``reinstate`` (what a dispute's
``revoke`` entries took, given back once when the dispute is closed in our favour).
The balance is the sum of the append-only ledger (grants, refunds and what a settlement
returns positive, reservations negative), so it can always be audited; a tale's reserved
credits move exactly once, by its one settlement or refund.

Boolean results say whether *this* call made the change; after a lost reply a retry answers
False (already done), which callers must treat as success. User ids are UUID strings (the
Supabase ``sub``). Both adapters raise ``LookupError`` for a missing profile (``set_plan``,
``grant_monthly``) and ``ValueError`` for impossible requests (a non-positive reservation, a
malformed period, a tale already reserved by another account).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Literal

from shared.domain.errors import InsufficientCredits

__all__ = [
    "GRANT_KINDS",
    "EntryKind",
    "InsufficientCredits",
    "Ledger",
    "LedgerEntry",
    "OpenReservation",
    "Plan",
    "Profile",
]

Plan = Literal["free", "pro", "business"]
EntryKind = Literal[
    "grant", "paid", "revoke", "reinstate", "reserve", "reserve_more", "settle", "refund"
]
GRANT_KINDS: frozenset[str] = frozenset({"grant", "paid", "revoke", "reinstate"})
"""Entries that change what an account was given, not what its tales used."""


@dataclass(frozen=True)
class Profile:
    user_id: str
    email: str
    plan: Plan
    balance: int
    subscribed: bool = False
    """The plan is paid through a subscription: its credits come with each paid invoice, not
    with the monthly grant (``shared.domain.billing``)."""


@dataclass(frozen=True)
class LedgerEntry:
    user_id: str
    kind: EntryKind
    amount: int
    """Signed change of the balance."""
    tale_id: str | None
    period: str | None
    at: float


@dataclass(frozen=True)
class OpenReservation:
    """A reservation neither settled nor refunded (``Ledger.open_reservations``)."""

    tale_id: str
    """The ledger key: a tale id, or a revision's (``shared.domain.credits.ledger_key``)."""
    user_id: str
    credits: int
    """What the reservation took (without what storyboard edits added)."""
    opened_at: float
    """When it was made (seconds since the epoch, the ledger's clock)."""


class Ledger(ABC):
    @abstractmethod
    def ensure_profile(self, user_id: str, email: str, plan: Plan = "free") -> bool:
        """Create the profile if missing; True when this call created it.

        An existing profile without an email address takes ``email`` when it is not empty
        (the sign-up webhook or a token may know the address later than the other); an
        address already recorded is never replaced here. The owner's notifications go to it.
        """

    @abstractmethod
    def profile(self, user_id: str) -> Profile | None: ...

    @abstractmethod
    def set_plan(self, user_id: str, plan: Plan) -> None: ...

    @abstractmethod
    def grant_monthly(self, user_id: str, period: str, amount: int) -> bool:
        """Grant ``amount`` for ``period`` (``YYYY-MM``); False if already granted."""

    @abstractmethod
    def admit(
        self,
        user_id: str,
        tale_id: str,
        *,
        credits: int,
        estimate_usd: float,
        period: str,
        cap_usd: float,
        max_running: int,
    ) -> bool:
        """Admit a new tale and reserve its credits, in one transaction. True when this call
        admitted it, False when the tale's reservation exists and is still open (idempotent:
        no limit is checked again). ``SubmissionExpired`` when it exists and was settled or
        refunded: a closed reservation is never reused nor made again, and nothing is written.

        Checked against the account as it stands in that transaction, in this order:
        ``TooManyRunningTales`` when ``max_running`` reservations are neither settled nor
        refunded; ``SpendingCapExceeded`` when the estimates of the tales admitted in
        ``period`` (``YYYY-MM``; whatever became of them) plus ``estimate_usd`` exceed
        ``cap_usd``; ``InsufficientCredits`` when the balance is below ``credits``. The
        estimate is kept with the reservation, in micro-dollars."""

    @abstractmethod
    def reserve(self, user_id: str, tale_id: str, amount: int) -> bool:
        """Reserve credits for a tale. True when this call reserved, False when the tale was
        already reserved (idempotent). Raises ``InsufficientCredits``."""

    @abstractmethod
    def reserve_more(
        self,
        user_id: str,
        tale_id: str,
        *,
        version: int,
        credits: int,
        estimate_usd: float,
        period: str,
        cap_usd: float,
    ) -> bool:
        """The tale's storyboard, edited to plan ``version``, needs ``credits`` in all and is
        estimated at ``estimate_usd``: in one transaction, reserve on the same tale what its
        reservation (with earlier ``reserve_more``) lacks, and commit what its estimate adds
        to what the tale committed before, in ``period`` (``YYYY-MM``). True when this call
        reserved more; False when nothing was lacking — which makes a repeated call for the
        same version (a retry after a lost answer) change nothing — or the tale has no open
        reservation (an operator's tale is not charged; a settled or refunded one is over).

        Refused, and nothing written, with ``SpendingCapExceeded`` when the added estimate
        takes the month's committed spend over ``cap_usd``, then ``InsufficientCredits``
        (``needed``: the difference) when the balance is below the difference. No running
        limit is checked: the tale is running already. ``version`` is kept with the entry."""

    @abstractmethod
    def settle(self, tale_id: str, cost: int | None = None) -> bool:
        """True when this call settled the tale's reservation. ``cost``: what the finished
        storyboard costs; what the tale holds beyond it (an edit removed shots) is returned
        in the same entry, and never more than it holds is kept. ``None``: all of it is
        kept."""

    @abstractmethod
    def refund(self, tale_id: str) -> bool:
        """True when this call refunded the tale's reservation (all it holds)."""

    @abstractmethod
    def open_reservations(
        self, opened_before: float, *, after: str = "", limit: int = 500
    ) -> list[OpenReservation]:
        """Reservations of every account that are neither settled nor refunded and were made
        before ``opened_before`` (seconds since the epoch), in tale-id order: at most
        ``limit`` of them, from the first tale id after ``after`` (the next page starts after
        the last one returned). Read-only; a reservation settled or refunded meanwhile is
        simply absent from the next page."""

    @abstractmethod
    def entries(self, user_id: str) -> list[LedgerEntry]:
        """The user's ledger, oldest first."""
