"""Payments port: the payment provider — checkout, the customer portal, and its webhooks.

Stripe is the adapter on GCP (``shared.adapters.stripe``); the embedded default has a local
provider that plays Stripe's part (``shared.adapters.local.payments``, a test double). A
Korean payment gateway would be a second adapter: it creates its own checkout and management
pages and translates its own webhooks into the same ``PaymentEvent``s, which the billing rules
(``shared.domain.billing``) decide whatever their source.

Idempotency: ``customer`` and ``checkout`` take a key, so a retried request (a lost answer, a
double click) creates one customer and one checkout session; ``portal`` sessions are cheap and
short-lived but carry a key too. Transient failures (the provider unreachable, 5xx, 429) are
raised as ``TransientError`` after the client's own retries; a refusal (a bad price, a deleted
customer) as ``PaymentRefused``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass

from shared.domain.billing.events import PaymentEvent
from shared.ports.ledger import Plan


class BadSignature(Exception):
    """A webhook delivery that is not the provider's (signature, timestamp); ``reason`` says
    why, never the secret."""


class PaymentRefused(Exception):
    """The provider refused a request for good (not worth repeating)."""


@dataclass(frozen=True)
class Checkout:
    url: str
    """Where the customer pays (the provider's hosted page)."""
    session_id: str
    customer_id: str


@dataclass(frozen=True)
class CheckoutRequest:
    user_id: str
    customer_id: str
    plan: Plan
    success_url: str
    cancel_url: str
    idempotency_key: str
    language: str | None = None


@dataclass(frozen=True)
class PaidInvoice:
    invoice_id: str
    customer_id: str | None


class Payments(ABC):
    name: str = "payments"
    """The provider's name, as webhooks and logs say it (``stripe``, ``local``)."""

    @abstractmethod
    def customer(self, user_id: str, email: str, idempotency_key: str) -> str:
        """A new customer for this account (its id); the same for a repeated key."""

    @abstractmethod
    def checkout(self, request: CheckoutRequest) -> Checkout:
        """A hosted checkout of a subscription to ``plan`` for the customer."""

    @abstractmethod
    def portal(self, customer_id: str, return_url: str, idempotency_key: str) -> str:
        """A customer portal session's URL: change plan, cancel, payment method, invoices."""

    @abstractmethod
    def event(self, payload: bytes, headers: Mapping[str, str]) -> PaymentEvent:
        """Verify a webhook delivery and translate it; raises ``BadSignature``."""

    @abstractmethod
    def invoice_of_payment(self, payment_intent: str) -> PaidInvoice | None:
        """The invoice a payment paid, if it paid one (a refund or a dispute names the
        payment, not the invoice)."""
