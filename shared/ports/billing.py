"""Billing book port: the billing side of the ledger database.

It keeps, per account, the payment provider's customer, the billing state the rules decide on
(``shared.domain.billing.account.Account``: subscriptions and invoices, with a version), every
payment event id processed, and the accounting of payments, refunds and disputes — in the same
database as the credit ledger, so that an event's credit change, its accounting lines, the
plan and the event id are written in **one transaction**. That is why processed event ids
live here and not in the claims store: a claim written before the credits would lose the
credits if the process died between the two; one written after could grant twice.

``apply`` is a compare-and-set on the account's version: the caller loads the account,
decides, and applies; ``Conflict`` means another event changed the account meanwhile (load
and decide again), ``Duplicate`` that this event id was applied before (nothing changes).
The book itself enforces one rule of its own, because it needs the balance as it stands in
that transaction: a withdrawal takes at most the balance, and the rest is recorded as lost.
Its mirror needs what the book wrote: a line with ``restore`` (a dispute closed in our favour)
gives back the credits its named withdrawal lines of the account actually took — a
``reinstate`` entry of that sum, never what was lost — once, since the line itself is written
once.

Adapters: SQLite (embedded default, beside ``ledger.db``'s tables) and Supabase (the
``billing.*`` functions of ``supabase/migrations``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import Enum

from shared.domain.billing.account import Account
from shared.domain.billing.changes import Changes, Notice


class Outcome(Enum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"


@dataclass(frozen=True)
class PaymentRecord:
    """One accounting line (``shared.domain.billing.changes.Record`` as it was written)."""

    user_id: str
    kind: str
    object_id: str
    amount: int
    currency: str
    invoice_id: str | None
    plan: str | None
    credits: int
    """Granted or given back (positive), or taken back (negative)."""
    credits_lost: int
    """Credits a refund or dispute could not take back: they were spent."""
    at: float


class BillingBook(ABC):
    @abstractmethod
    def customer(self, user_id: str) -> str | None:
        """The provider's customer recorded for the account."""

    @abstractmethod
    def link_customer(self, user_id: str, customer_id: str, language: str | None = None) -> str:
        """Record the account's customer unless one is recorded; the one recorded. The
        language (the owner's, for billing mail) is updated when given. ``LookupError``
        without a profile."""

    @abstractmethod
    def user_of(self, customer_id: str) -> str | None:
        """The account whose customer this is."""

    @abstractmethod
    def load(self, user_id: str) -> Account:
        """The account's billing state (an empty one at version 0). ``LookupError`` without
        a profile."""

    @abstractmethod
    def apply(
        self, event_id: str | None, event_type: str, version: int, changes: Changes
    ) -> Outcome:
        """Apply ``changes`` (decided on the account at ``version``) with the event id, in one
        transaction. ``event_id`` None: a change with no event (time moved on)."""

    @abstractmethod
    def mark(self, event_id: str, event_type: str) -> bool:
        """Record an event that concerns no account of ours as processed; False if it was."""

    @abstractmethod
    def processed(self, event_id: str) -> bool: ...

    @abstractmethod
    def notices(self, event_id: str) -> list[Notice]:
        """What the applied event has to tell its owner (kept with it, so that a redelivery
        after a failed send sends it again; the notifier sends each once)."""

    @abstractmethod
    def records(self, user_id: str | None = None, period: str | None = None) -> list[PaymentRecord]:
        """Accounting lines, oldest first: one account's, or every account's; of one month
        (``YYYY-MM``, UTC) or all."""
