"""Stripe as the ``Payments`` port: customers, Checkout Sessions, portal sessions, webhooks.

Requests go through ``stripe.StripeClient`` over the composition root's HTTP client
(``HttpxStripeClient``): every creation carries our idempotency key, and the library repeats
a request that failed in transit (``max_network_retries``) with that same key, so a lost
answer never creates a second customer or session. What is still failing after that — the
network, 429, 5xx — is raised as ``TransientError`` (the caller answers 503 and the user
tries again); a refusal (a wrong price id, a deleted customer, a bad key) as
``PaymentRefused``.

Webhook deliveries are verified by the library (``stripe.WebhookSignature.verify_header``:
the ``Stripe-Signature`` header's HMAC-SHA256 over ``<t>.<body>`` with the endpoint's
``whsec_`` secret, and ``t`` within ``tolerance_s``) before they are read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx
import stripe

from shared.adapters.stripe.events import translate
from shared.adapters.stripe.http import HttpxStripeClient
from shared.domain.billing.events import PaymentEvent
from shared.domain.errors import TransientError
from shared.ports.ledger import Plan
from shared.ports.payments import (
    BadSignature,
    Checkout,
    CheckoutRequest,
    PaidInvoice,
    PaymentRefused,
    Payments,
)

CHECKOUT_LOCALES = frozenset({"ko", "ja", "zh", "en"})
"""Languages of ours that Checkout speaks (its ``locale``); others get ``auto``."""
TRANSIENT = (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


class StripePayments(Payments):
    name = "stripe"

    def __init__(
        self,
        api_key: str,
        webhook_secret: str,
        prices: Mapping[str, str],
        http: httpx.Client,
        *,
        tolerance_s: int = 300,
        retries: int = 2,
    ) -> None:
        self.client = stripe.StripeClient(
            api_key, http_client=HttpxStripeClient(http), max_network_retries=retries
        )
        self.webhook_secret = webhook_secret
        self.prices = dict(prices)
        """Plan → price id."""
        self.plans: dict[str, Plan] = {price: plan for plan, price in prices.items()}  # type: ignore[misc]
        self.tolerance_s = tolerance_s

    def _call(self, request: Any) -> Any:
        try:
            return request()
        except TRANSIENT as exc:
            raise TransientError(f"Stripe unavailable: {exc.user_message or exc}") from exc
        except stripe.StripeError as exc:
            raise PaymentRefused(f"Stripe refused: {exc.user_message or exc}") from exc

    def customer(self, user_id: str, email: str, idempotency_key: str) -> str:
        params: dict[str, Any] = {"metadata": {"user_id": user_id}}
        if email:
            params["email"] = email
        made = self._call(
            lambda: self.client.v1.customers.create(
                params,  # type: ignore[arg-type]
                {"idempotency_key": idempotency_key},
            )
        )
        return str(made.id)

    def checkout(self, request: CheckoutRequest) -> Checkout:
        price = self.prices.get(request.plan)
        if not price:
            raise PaymentRefused(f"no Stripe price is set for the {request.plan} plan")
        locale = request.language if request.language in CHECKOUT_LOCALES else "auto"
        params: dict[str, Any] = {
            "mode": "subscription",
            "customer": request.customer_id,
            "client_reference_id": request.user_id,
            "line_items": [{"price": price, "quantity": 1}],
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
            "locale": locale,
            "metadata": {"user_id": request.user_id, "plan": request.plan},
            "subscription_data": {"metadata": {"user_id": request.user_id}},
        }
        session = self._call(
            lambda: self.client.v1.checkout.sessions.create(
                params,  # type: ignore[arg-type]
                {"idempotency_key": request.idempotency_key},
            )
        )
        return Checkout(str(session.url), str(session.id), request.customer_id)

    def portal(self, customer_id: str, return_url: str, idempotency_key: str) -> str:
        session = self._call(
            lambda: self.client.v1.billing_portal.sessions.create(
                {"customer": customer_id, "return_url": return_url},
                {"idempotency_key": idempotency_key},
            )
        )
        return str(session.url)

    def event(self, payload: bytes, headers: Mapping[str, str]) -> PaymentEvent:
        signature = _header(headers, "stripe-signature")
        try:
            text = payload.decode("utf-8")
            stripe.WebhookSignature.verify_header(
                text, signature or "", self.webhook_secret, self.tolerance_s
            )
        except (stripe.SignatureVerificationError, UnicodeDecodeError) as exc:
            raise BadSignature(str(getattr(exc, "user_message", None) or exc)) from exc
        return translate(json.loads(text), self.plans)

    def invoice_of_payment(self, payment_intent: str) -> PaidInvoice | None:
        found = self._call(
            lambda: self.client.v1.invoice_payments.list(
                {
                    "payment": {"type": "payment_intent", "payment_intent": payment_intent},
                    "limit": 1,
                    "expand": ["data.invoice"],
                }
            )
        )
        for payment in found.data:
            invoice = payment.invoice
            if isinstance(invoice, str):
                return PaidInvoice(invoice, None)
            customer = invoice.customer
            return PaidInvoice(
                str(invoice.id),
                customer if isinstance(customer, str) or customer is None else str(customer.id),
            )
        return None
