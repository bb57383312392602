"""The embedded default's payment provider — a **test double** that plays Stripe's part.

It exists so that ``tale serve`` shows an upgrade end to end with no account anywhere: a
checkout answers a local page (``/billing/local/checkout/<session>``) whose "Pay" button
completes the purchase; the portal answers a local page to change plan, cancel, and to
simulate the next renewal paid or failed. Every step sends **Stripe-shaped events**
(``stripe_shapes``), signed with a local ``whsec_`` secret (``<home>/keys/
stripe-webhook.secret``), to the very webhook handling Stripe's deliveries reach
(``shared.api.payment_events``, behind ``shared.api.stripe_hook``), where the ``stripe``
library verifies them as it verifies Stripe's. No money moves and no card is asked for.

The composition root builds it only when no Stripe key is set and never on GCP: with
``TALE_STRIPE_SECRET_KEY`` the Stripe adapter is used, always.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import stripe

from shared.adapters.local import stripe_shapes as shapes
from shared.adapters.local.sqlite import Database
from shared.adapters.stripe.events import translate
from shared.domain.billing.account import PLAN_ORDER
from shared.domain.billing.events import PaymentEvent
from shared.ports.ledger import Plan
from shared.ports.payments import (
    BadSignature,
    Checkout,
    CheckoutRequest,
    PaidInvoice,
    PaymentRefused,
    Payments,
)

SCHEMA = """CREATE TABLE IF NOT EXISTS objects (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS idempotency (key TEXT PRIMARY KEY, id TEXT NOT NULL);
"""
MONTH_S = 30 * 86_400
Deliver = Callable[[bytes, dict[str, str]], None]


def local_secret(keys: Path) -> str:
    """The local webhook secret (made once, 0600)."""
    path = keys / "stripe-webhook.secret"
    if not path.exists():
        keys.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write("whsec_local" + secrets.token_hex(24))
    return path.read_text().strip()


def signature(secret: str, payload: bytes, timestamp: int) -> str:
    """A ``Stripe-Signature`` header, computed as Stripe documents it."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


class LocalPayments(Payments):
    name = "local"

    def __init__(
        self,
        path: Path,
        secret: str,
        plan_prices_usd: Mapping[str, float],
        *,
        base_url: str,
        deliver: Deliver | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = Database(path, SCHEMA)
        self.secret = secret
        self.cents = {plan: round(usd * 100) for plan, usd in plan_prices_usd.items()}
        self.base_url = base_url.rstrip("/")
        self.deliver = deliver
        self.clock = clock
        self._lock = threading.Lock()

    # -- storage ------------------------------------------------------------------------------

    def _get(self, object_id: str) -> dict[str, Any] | None:
        rows = self.db.read("SELECT data FROM objects WHERE id=?", (object_id,))
        return json.loads(rows[0]["data"]) if rows else None

    def _put(self, kind: str, obj: dict[str, Any]) -> None:
        with self.db.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO objects VALUES (?, ?, ?)",
                (obj["id"], kind, json.dumps(obj)),
            )

    def _once(self, key: str, make: Callable[[], dict[str, Any]], kind: str) -> dict[str, Any]:
        with self._lock:
            rows = self.db.read("SELECT id FROM idempotency WHERE key=?", (key,))
            if rows:
                found = self._get(rows[0]["id"])
                assert found is not None
                return found
            obj = make()
            self._put(kind, obj)
            with self.db.transaction() as db:
                db.execute("INSERT INTO idempotency VALUES (?, ?)", (key, obj["id"]))
            return obj

    def price(self, plan: str) -> dict[str, Any]:
        if plan not in self.cents:
            raise PaymentRefused(f"the local provider has no price for the {plan} plan")
        return shapes.price(f"price_local_{plan}", self.cents[plan])

    @property
    def plans(self) -> dict[str, Plan]:
        return {f"price_local_{plan}": plan for plan in self.cents}  # type: ignore[misc]

    # -- the port ----------------------------------------------------------------------------

    def customer(self, user_id: str, email: str, idempotency_key: str) -> str:
        def make() -> dict[str, Any]:
            return {
                "id": shapes.new_id("cus"),
                "object": "customer",
                "email": email,
                "metadata": {"user_id": user_id},
            }

        return str(self._once(idempotency_key, make, "customer")["id"])

    def checkout(self, request: CheckoutRequest) -> Checkout:
        self.price(request.plan)

        def make() -> dict[str, Any]:
            session_id = shapes.new_id("cs")
            return {
                "id": session_id,
                "object": "checkout.session",
                "mode": "subscription",
                "customer": request.customer_id,
                "client_reference_id": request.user_id,
                "metadata": {"user_id": request.user_id, "plan": request.plan},
                "status": "open",
                "payment_status": "unpaid",
                "success_url": request.success_url,
                "cancel_url": request.cancel_url,
                "subscription": None,
                "url": f"{self.base_url}/billing/local/checkout/{session_id}",
            }

        session = self._once(request.idempotency_key, make, "checkout.session")
        return Checkout(str(session["url"]), str(session["id"]), request.customer_id)

    def portal(self, customer_id: str, return_url: str, idempotency_key: str) -> str:
        def make() -> dict[str, Any]:
            portal_id = shapes.new_id("bps")
            return {
                "id": portal_id,
                "object": "billing_portal.session",
                "customer": customer_id,
                "return_url": return_url,
                "url": f"{self.base_url}/billing/local/portal/{portal_id}",
            }

        return str(self._once(idempotency_key, make, "billing_portal.session")["url"])

    def event(self, payload: bytes, headers: Mapping[str, str]) -> PaymentEvent:
        header = next((v for k, v in headers.items() if k.lower() == "stripe-signature"), "")
        try:
            stripe.WebhookSignature.verify_header(payload.decode(), header, self.secret, 300)
        except (stripe.SignatureVerificationError, UnicodeDecodeError) as exc:
            raise BadSignature(str(exc)) from exc
        return translate(json.loads(payload), self.plans)

    def invoice_of_payment(self, payment_intent: str) -> PaidInvoice | None:
        found = self._get(payment_intent)
        if found is None or not found.get("invoice"):
            return None
        invoice = self._get(str(found["invoice"]))
        return PaidInvoice(str(found["invoice"]), invoice["customer"] if invoice else None)

    # -- what the local pages do (each sends Stripe's events for it) ------------------------------

    def session(self, session_id: str) -> dict[str, Any] | None:
        found = self._get(session_id)
        return found if found is not None and found["object"] == "checkout.session" else None

    def portal_session(self, portal_id: str) -> dict[str, Any] | None:
        found = self._get(portal_id)
        return found if found is not None and found["object"] == "billing_portal.session" else None

    def subscription_of(self, customer_id: str) -> dict[str, Any] | None:
        rows = self.db.read(
            "SELECT data FROM objects WHERE kind='subscription' ORDER BY rowid DESC", ()
        )
        for row in rows:
            sub: dict[str, Any] = json.loads(row["data"])
            if sub["customer"] == customer_id and sub["status"] != "canceled":
                return sub
        return None

    def pay(self, session_id: str) -> str:
        """Complete a checkout: the subscription starts and its first invoice is paid."""
        session = self.session(session_id)
        if session is None:
            raise LookupError("no such checkout session")
        if session["status"] == "complete":
            return str(session["success_url"])
        now = int(self.clock())
        user, customer = session["client_reference_id"], session["customer"]
        price = self.price(session["metadata"]["plan"])
        sub = shapes.subscription(shapes.new_id("sub"), customer, user, price, now, now + MONTH_S)
        session = {**session, "status": "complete", "payment_status": "paid"}
        session["subscription"] = sub["id"]
        self._put("subscription", sub)
        self._put("checkout.session", session)
        lines = [shapes.line(price, sub["id"], price["unit_amount"], now, now + MONTH_S)]
        invoice = self._invoice(sub, lines, "subscription_create", now)
        self._send(
            shapes.event("checkout.session.completed", session, now),
            shapes.event("customer.subscription.created", sub, now),
            shapes.event("invoice.paid", invoice, now),
        )
        return str(session["success_url"])

    def _invoice(
        self,
        sub: dict[str, Any],
        lines: list[dict[str, Any]],
        reason: str,
        now: int,
        *,
        paid: bool = True,
    ) -> dict[str, Any]:
        user = sub["metadata"]["user_id"]
        invoice = shapes.invoice(
            shapes.new_id("in"),
            sub["customer"],
            user,
            sub["id"],
            lines,
            reason=reason,
            created=now,
            paid=paid,
            next_attempt=None if paid else now + 86_400,
        )
        self._put("invoice", invoice)
        intent = {"id": shapes.new_id("pi"), "object": "payment_intent", "invoice": invoice["id"]}
        self._put("payment_intent", intent)
        return invoice

    def change(self, portal_id: str, action: str) -> str:
        """A portal action: ``plan:<plan>``, ``cancel``, ``renew`` or ``fail``."""
        portal = self.portal_session(portal_id)
        if portal is None:
            raise LookupError("no such portal session")
        sub = self.subscription_of(portal["customer"])
        if sub is None:
            raise LookupError("no subscription to change")
        now = int(self.clock())
        item = sub["items"]["data"][0]
        old_plan = self.plans.get(item["price"]["id"], "free")
        start, end = item["current_period_start"], item["current_period_end"]
        events: list[dict[str, Any]] = []
        if action.startswith("plan:"):
            plan = action.removeprefix("plan:")
            price = self.price(plan)
            sub = self._with(sub, price=price)
            events.append(shapes.event("customer.subscription.updated", sub, now))
            if PLAN_ORDER[plan] > PLAN_ORDER[old_plan]:  # an upgrade is invoiced at once
                share = max(0.0, (end - now) / max(1, end - start))
                lines = [
                    shapes.line(
                        item["price"],
                        sub["id"],
                        -round(item["price"]["unit_amount"] * share),
                        now,
                        end,
                        proration=True,
                    ),
                    shapes.line(
                        price,
                        sub["id"],
                        round(price["unit_amount"] * share),
                        now,
                        end,
                        proration=True,
                    ),
                ]
                invoice = self._invoice(sub, lines, "subscription_update", now)
                events.append(shapes.event("invoice.paid", invoice, now))
        elif action == "cancel":
            sub = self._with(sub, cancel_at_period_end=True, cancel_reason="cancellation_requested")
            events.append(shapes.event("customer.subscription.updated", sub, now))
        elif action in ("renew", "fail"):
            paid = action == "renew"
            status = "active" if paid else "past_due"
            sub = self._with(sub, start=end, end=end + MONTH_S, status=status)
            lines = [
                shapes.line(
                    item["price"], sub["id"], item["price"]["unit_amount"], end, end + MONTH_S
                )
            ]
            invoice = self._invoice(sub, lines, "subscription_cycle", now, paid=paid)
            kind = "invoice.paid" if paid else "invoice.payment_failed"
            events += [
                shapes.event(kind, invoice, now),
                shapes.event("customer.subscription.updated", sub, now),
            ]
        else:
            raise ValueError(f"unknown action {action!r}")
        self._put("subscription", sub)
        self._send(*events)
        return str(portal["return_url"])

    @staticmethod
    def _with(sub: dict[str, Any], **change: Any) -> dict[str, Any]:
        item = sub["items"]["data"][0]
        return shapes.subscription(
            sub["id"],
            sub["customer"],
            sub["metadata"]["user_id"],
            change.get("price", item["price"]),
            change.get("start", item["current_period_start"]),
            change.get("end", item["current_period_end"]),
            status=change.get("status", sub["status"]),
            cancel_at_period_end=change.get("cancel_at_period_end", sub["cancel_at_period_end"]),
            cancel_reason=change.get("cancel_reason", sub["cancellation_details"]["reason"]),
            created=sub["created"],
        )

    def _send(self, *events: dict[str, Any]) -> None:
        if self.deliver is None:
            raise RuntimeError("the local payment provider has no webhook to deliver to")
        for body in events:
            payload = json.dumps(body).encode()
            header = signature(self.secret, payload, int(self.clock()))
            self.deliver(payload, {"Stripe-Signature": header, "Content-Type": "application/json"})
