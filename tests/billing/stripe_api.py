"""A stand-in for Stripe's API at the HTTP layer of the ``stripe`` library: an
``httpx.MockTransport`` answering the requests Tale makes with bodies shaped as Stripe's API
reference shows them, remembering every request (method, path, form fields, headers) and
replaying an answer for a repeated ``Idempotency-Key`` as Stripe does."""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx

from shared.adapters.local import stripe_shapes as shapes
from shared.adapters.local.payments import signature

SECRET = "whsec_" + "test" * 8
PRICES = {"pro": "price_1ProMonthly", "business": "price_1BusinessMonthly"}
CENTS = {"pro": 1500, "business": 4900}


@dataclass
class Seen:
    method: str
    path: str
    form: dict[str, str]
    headers: dict[str, str]


@dataclass
class StripeStandIn:
    requests: list[Seen] = field(default_factory=list)
    fail: list[int] = field(default_factory=list)
    """Statuses to answer the next requests with (an error body each)."""
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Payment intent → the invoice it paid."""
    _replies: dict[str, httpx.Response] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=self.transport())

    def handle(self, request: httpx.Request) -> httpx.Response:
        form = dict(parse_qsl(request.content.decode() or request.url.query.decode()))
        seen = Seen(request.method, request.url.path, form, dict(request.headers))
        key = request.headers.get("Idempotency-Key")
        with self._lock:
            self.requests.append(seen)
            if self.fail:
                status = self.fail.pop(0)
                kind = "api_error" if status >= 500 else "invalid_request_error"
                body = {"error": {"type": kind, "message": f"stand-in failure {status}"}}
                return httpx.Response(status, json=body)
            if key and key in self._replies:
                return self._replies[key]
            reply = httpx.Response(200, json=self._answer(seen))
            if key:
                self._replies[key] = reply
            return reply

    def _answer(self, seen: Seen) -> dict[str, Any]:
        f, now = seen.form, int(time.time())
        if seen.path == "/v1/customers":
            return {
                "id": "cus_" + secrets.token_hex(7),
                "object": "customer",
                "created": now,
                "email": f.get("email"),
                "livemode": False,
                "metadata": {"user_id": f.get("metadata[user_id]")},
            }
        if seen.path == "/v1/checkout/sessions":
            session = "cs_test_" + secrets.token_hex(16)
            return {
                "id": session,
                "object": "checkout.session",
                "client_reference_id": f.get("client_reference_id"),
                "customer": f.get("customer"),
                "livemode": False,
                "locale": f.get("locale"),
                "metadata": {
                    "user_id": f.get("metadata[user_id]"),
                    "plan": f.get("metadata[plan]"),
                },
                "mode": f.get("mode"),
                "payment_status": "unpaid",
                "status": "open",
                "success_url": f.get("success_url"),
                "cancel_url": f.get("cancel_url"),
                "subscription": None,
                "url": f"https://checkout.stripe.com/c/pay/{session}",
            }
        if seen.path == "/v1/billing_portal/sessions":
            return {
                "id": "bps_" + secrets.token_hex(12),
                "object": "billing_portal.session",
                "created": now,
                "customer": f.get("customer"),
                "livemode": False,
                "return_url": f.get("return_url"),
                "url": "https://billing.stripe.com/p/session/test_" + secrets.token_hex(12),
            }
        if seen.path == "/v1/invoice_payments":
            invoice = self.payments.get(f.get("payment[payment_intent]", ""))
            data = (
                []
                if invoice is None
                else [
                    {
                        "id": "inpay_" + secrets.token_hex(8),
                        "object": "invoice_payment",
                        "amount_paid": invoice["amount_paid"],
                        "currency": invoice["currency"],
                        "invoice": invoice,
                        "is_default": True,
                        "payment": {
                            "type": "payment_intent",
                            "payment_intent": f.get("payment[payment_intent]"),
                        },
                        "status": "paid",
                    }
                ]
            )
            return {"object": "list", "data": data, "has_more": False, "url": seen.path}
        raise AssertionError(f"the stand-in does not know {seen.method} {seen.path}")


def signed(
    event: dict[str, Any], *, at: float | None = None, secret: str = SECRET
) -> tuple[bytes, dict[str, str]]:
    payload = json.dumps(event).encode()
    header = signature(secret, payload, int(at if at is not None else time.time()))
    return payload, {"Stripe-Signature": header, "Content-Type": "application/json"}


@dataclass
class Customer:
    """One customer's life at Stripe, as the events Stripe sends about it."""

    user_id: str
    customer: str = field(default_factory=lambda: "cus_" + secrets.token_hex(7))
    sub_id: str = field(default_factory=lambda: "sub_" + secrets.token_hex(8))
    start: int = field(default_factory=lambda: int(time.time()) - 86_400)
    clock: int = 0

    def __post_init__(self) -> None:
        self.end = self.start + 30 * 86_400
        self.clock = self.start

    def tick(self, seconds: int = 60) -> int:
        self.clock += seconds
        return self.clock

    def price(self, plan: str) -> dict[str, Any]:
        return shapes.price(PRICES[plan], CENTS[plan])

    def checkout(self) -> dict[str, Any]:
        session = {
            "id": "cs_test_" + secrets.token_hex(8),
            "object": "checkout.session",
            "client_reference_id": self.user_id,
            "customer": self.customer,
            "mode": "subscription",
            "status": "complete",
            "payment_status": "paid",
            "subscription": self.sub_id,
            "metadata": {"user_id": self.user_id},
        }
        return shapes.event("checkout.session.completed", session, self.tick())

    def subscription(
        self, kind: str, plan: str, status: str = "active", **extra: Any
    ) -> dict[str, Any]:
        sub = shapes.subscription(
            self.sub_id,
            self.customer,
            self.user_id,
            self.price(plan),
            self.start,
            self.end,
            status=status,
            **extra,
        )
        return shapes.event(f"customer.subscription.{kind}", sub, self.tick())

    def invoice(
        self,
        plan: str,
        *,
        reason: str = "subscription_cycle",
        paid: bool = True,
        lines: list[dict[str, Any]] | None = None,
        invoice_id: str | None = None,
        payment_intent: str | None = None,
    ) -> dict[str, Any]:
        lines = lines or [
            shapes.line(self.price(plan), self.sub_id, CENTS[plan], self.start, self.end)
        ]
        invoice = shapes.invoice(
            invoice_id or "in_" + secrets.token_hex(8),
            self.customer,
            self.user_id,
            self.sub_id,
            lines,
            reason=reason,
            created=self.tick(),
            paid=paid,
            next_attempt=None if paid else self.clock + 3 * 86_400,
        )
        kind = "invoice.paid" if paid else "invoice.payment_failed"
        return shapes.event(kind, invoice, self.clock)

    def upgrade_invoice(self, old: str, new: str) -> dict[str, Any]:
        at = self.clock
        return self.invoice(
            new,
            reason="subscription_update",
            lines=[
                shapes.line(
                    self.price(old), self.sub_id, -CENTS[old] // 2, at, self.end, proration=True
                ),
                shapes.line(
                    self.price(new), self.sub_id, CENTS[new] // 2, at, self.end, proration=True
                ),
            ],
        )

    def renew(self) -> None:
        self.start, self.end = self.end, self.end + 30 * 86_400
