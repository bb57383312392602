"""Ledger port: profiles, plans and credits — what users and billing see.

Credits move only through these operations, each atomic and idempotent:
- ``grant_monthly``: the plan's monthly credits, at most once per user and period;
- ``reserve``: at submission, at most once per tale; refused when the balance is short;
- ``settle``: the tale completed — the reservation becomes final, at most once;
- ``refund``: the tale failed or was cancelled — the reservation is returned, at most once,
  and never after a settle.
The balance is the sum of the append-only ledger (grants and refunds positive, reservations
negative, settlements zero), so it can always be audited.

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

Plan = Literal["free", "pro", "business"]
EntryKind = Literal["grant", "reserve", "settle", "refund"]


class InsufficientCredits(Exception):
    """The balance does not cover the tale."""

    def __init__(self, needed: int, balance: int) -> None:
        super().__init__(f"this tale needs {needed} credits; the balance is {balance}")
        self.needed = needed
        self.balance = balance


@dataclass(frozen=True)
class Profile:
    user_id: str
    email: str
    plan: Plan
    balance: int


@dataclass(frozen=True)
class LedgerEntry:
    user_id: str
    kind: EntryKind
    amount: int
    """Signed change of the balance."""
    tale_id: str | None
    period: str | None
    at: float


class Ledger(ABC):
    @abstractmethod
    def ensure_profile(self, user_id: str, email: str, plan: Plan = "free") -> bool:
        """Create the profile if missing; True when this call created it."""

    @abstractmethod
    def profile(self, user_id: str) -> Profile | None: ...

    @abstractmethod
    def set_plan(self, user_id: str, plan: Plan) -> None: ...

    @abstractmethod
    def grant_monthly(self, user_id: str, period: str, amount: int) -> bool:
        """Grant ``amount`` for ``period`` (``YYYY-MM``); False if already granted."""

    @abstractmethod
    def reserve(self, user_id: str, tale_id: str, amount: int) -> bool:
        """Reserve credits for a tale. True when this call reserved, False when the tale was
        already reserved (idempotent). Raises ``InsufficientCredits``."""

    @abstractmethod
    def settle(self, tale_id: str) -> bool:
        """True when this call settled the tale's reservation."""

    @abstractmethod
    def refund(self, tale_id: str) -> bool:
        """True when this call refunded the tale's reservation."""

    @abstractmethod
    def entries(self, user_id: str) -> list[LedgerEntry]:
        """The user's ledger, oldest first."""
