"""A payment provider's events, as its adapter translates them (``PaymentEvent``)."""

from __future__ import annotations

from dataclasses import dataclass

from shared.domain.billing.account import Invoice, Subscription


@dataclass(frozen=True)
class PaymentEvent:
    id: str
    created: int
    customer: str | None
    user_hint: str | None = None
    """Our user id as the event itself carries it (client reference, metadata), if any."""


@dataclass(frozen=True)
class CheckoutCompleted(PaymentEvent):
    subscription_id: str | None = None


@dataclass(frozen=True)
class SubscriptionChanged(PaymentEvent):
    subscription: Subscription | None = None


@dataclass(frozen=True)
class InvoicePaid(PaymentEvent):
    invoice: Invoice | None = None


@dataclass(frozen=True)
class InvoiceFailed(PaymentEvent):
    invoice: Invoice | None = None
    next_attempt: int | None = None


@dataclass(frozen=True)
class ChargeRefunded(PaymentEvent):
    charge_id: str = ""
    payment_intent: str | None = None
    refunded: int = 0
    """Cumulative: everything refunded of the charge so far."""
    currency: str = "usd"
    invoice_id: str | None = None
    """Resolved from the payment before deciding."""


@dataclass(frozen=True)
class DisputeOpened(PaymentEvent):
    dispute_id: str = ""
    payment_intent: str | None = None
    amount: int = 0
    currency: str = "usd"
    invoice_id: str | None = None


@dataclass(frozen=True)
class DisputeClosed(PaymentEvent):
    dispute_id: str = ""
    status: str = ""
    amount: int = 0
    currency: str = "usd"
    payment_intent: str | None = None
    invoice_id: str | None = None
    """Resolved from the payment before deciding (the account is found through it)."""


@dataclass(frozen=True)
class Ignored(PaymentEvent):
    """An event type we do not act on (acknowledged, recorded as processed)."""

    type: str = ""
