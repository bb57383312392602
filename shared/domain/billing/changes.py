"""What a decision changes: the account's new state, its accounting lines and the owner's
notices — stored by the billing book atomically with the event id."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from shared.domain.billing.account import Account
from shared.ports.ledger import Plan

RecordKind = Literal["payment", "refund", "dispute", "dispute_won", "withdrawal"]
NoticeKind = Literal["payment_failed", "downgraded"]


@dataclass(frozen=True)
class Record:
    """One line of the accounting beside the credit ledger."""

    kind: RecordKind
    object_id: str
    """Unique per movement (the invoice, ``<charge>:<refunded so far>``, the dispute)."""
    amount: int
    """Signed, minor units: payments positive, refunds and disputes negative."""
    currency: str
    invoice_id: str | None = None
    plan: Plan | None = None
    grant: int = 0
    """Credits to grant with it (a payment)."""
    withdraw: int = 0
    """Credits to take back with it (at most the balance; the rest is recorded lost)."""
    restore: tuple[str, ...] = ()
    """Lines (object ids) whose credits taken from the balance are given back with it (a
    dispute closed in our favour: what its withdrawals took, never what was lost)."""


@dataclass(frozen=True)
class Notice:
    kind: NoticeKind
    amount: int = 0
    currency: str = "usd"
    until: int | None = None
    """Payment failed: when the grace period ends."""


@dataclass(frozen=True)
class Changes:
    account: Account
    records: tuple[Record, ...] = ()
    notices: tuple[Notice, ...] = ()
