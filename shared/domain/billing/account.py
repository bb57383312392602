"""An account's billing state: every subscription, invoice and dispute the provider told of,
kept so that events in any order end in the same state (``rules``, "Order")."""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.ports.ledger import Plan

PLAN_ORDER: dict[str, int] = {"free": 0, "pro": 1, "business": 2}
_STAGE = {
    "incomplete": 0,
    "trialing": 1,
    "active": 2,
    "past_due": 3,
    "paused": 3,
    "unpaid": 4,
    "incomplete_expired": 5,
    "canceled": 5,
}
"""A subscription's stages in the order its life goes through them: of two snapshots taken in
the same second, the later stage is the newer one (``canceled`` is final)."""
KEPT = frozenset({"won", "warning_closed"})
"""A dispute's statuses at ``charge.dispute.closed`` that leave the payment with us.

Stripe sends that event when "the dispute status changes to ``lost``, ``warning_closed``, or
``won``" (https://docs.stripe.com/api/events/types). ``warning_*`` statuses are an inquiry
(https://docs.stripe.com/api/disputes/object, ``status``), and for an inquiry, "unlike a formal
dispute, no funds have been withdrawn" (https://stripe.com/docs/disputes, "Inquiries and
retrievals"): ``warning_closed`` is an inquiry that ended without a chargeback, so the payment
stands as when a dispute is won. Since API 2026-10-28 (the one the ``stripe`` library pins) a
decision against us may be appealed (``appeal_needs_response``, ``appeal_under_review``:
https://docs.stripe.com/changelog/endive/2026-10-28/evidence-submission-appeal-dispute-decisions),
so ``lost`` is not final; no status turns a close in our favour around. ``prevented`` (a
chargeback blocked or resolved by a prevention programme,
https://docs.stripe.com/changelog/basil/2025-08-27/add-preventions-to-dispute) is not a close
Stripe announces with this event, and a resolution refunds the cardholder: it restores nothing.

``charge.dispute.funds_reinstated`` is not used: it says money came back to our Stripe balance,
not who won — Stripe sends it "after a dispute is closed", including for "partially refunded
payments" (https://docs.stripe.com/api/events/types), so it is no sign that the payment
stands, and it never comes for an inquiry (no funds moved). One signal, the close, keeps the
restoration exactly once without pairing two events."""


@dataclass(frozen=True)
class Subscription:
    id: str
    status: str
    plan: Plan | None
    """The plan of its price; None for a price that is no plan of ours."""
    period_end: int
    cancel_at_period_end: bool = False
    cancel_reason: str | None = None
    """``cancellation_requested``, ``payment_failed``, ``payment_disputed`` (Stripe's)."""
    created: int = 0
    """When the snapshot was taken (the event's ``created``)."""
    held: Plan | None = None
    """A higher plan kept until ``period_end`` after a downgrade in the middle of it."""

    def newer_than(self, other: Subscription) -> bool:
        return (self.created, _STAGE.get(self.status, 3)) > (
            other.created,
            _STAGE.get(other.status, 3),
        )


@dataclass(frozen=True)
class Invoice:
    id: str
    subscription_id: str | None = None
    plan: Plan | None = None
    period_end: int = 0
    amount: int = 0
    """Paid, in the currency's minor unit."""
    currency: str = "usd"
    paid: bool = False
    failed_at: int | None = None
    """The first failed payment, while it is not paid."""
    credits: int = 0
    """Granted by it."""
    refunded: int = 0
    disputed: int = 0
    withdrawn: int = 0
    """Credits withdrawn for its refunds and disputes (taken from the balance or lost)."""


@dataclass(frozen=True)
class Dispute:
    """A dispute of the payment of an invoice, as far as its events told of it (in any order)."""

    id: str
    invoice_id: str | None = None
    amount: int = 0
    currency: str = "usd"
    opened: bool = False
    """Its opening was applied (its amount counts in the invoice's ``disputed`` until it is
    closed in our favour)."""
    status: str = ""
    """Stripe's status when it was closed (``won``, ``lost``, ``warning_closed``); empty while
    no close was seen."""
    closed_at: int = 0
    """The ``created`` of the close applied (a later one replaces it, an older one is stale)."""
    withdrawn: int = 0
    """Credits withdrawn for it (taken from the balance or lost)."""
    lines: tuple[str, ...] = ()
    """Its withdrawal lines (their object ids): their credits are what it took from the
    balance, what a close in our favour gives back."""

    @property
    def kept(self) -> bool:
        """Closed in our favour: the payment stands."""
        return self.status in KEPT

    @property
    def counts(self) -> bool:
        """It takes back a share of its invoice's credits."""
        return self.opened and not self.kept


@dataclass(frozen=True)
class Account:
    user_id: str
    plan: Plan = "free"
    subscribed: bool = False
    """The plan is paid through a subscription (its credits come with its invoices)."""
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    invoices: dict[str, Invoice] = field(default_factory=dict)
    language: str | None = None
    version: int = 0
    disputes: dict[str, Dispute] = field(default_factory=dict)
