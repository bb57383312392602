"""Stripe's webhook events as the billing rules' ``PaymentEvent``s.

Shapes as Stripe documents them for API versions since 2025-03-31 ("basil"; the ``stripe``
library we use pins 2026-10-28): a subscription's period is on its items
(``items.data[].current_period_end``), an invoice names its subscription under
``parent.subscription_details`` and each line its price under ``pricing.price_details`` and
its period under ``period``; a charge no longer names its invoice (the invoice of a payment is
looked up, ``Payments.invoice_of_payment``). Our user id travels as the checkout session's
``client_reference_id`` and as ``metadata.user_id`` of the customer and the subscription.

A dispute, opened or closed, names its payment (``payment_intent``), through which its invoice
and account are found. Only what the rules need is read; an event of another type is
``Ignored``. A malformed object
raises ``ValueError`` (the webhook answers 400; Stripe never sends one).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.domain.billing.account import PLAN_ORDER, Invoice, Subscription
from shared.domain.billing.events import (
    ChargeRefunded,
    CheckoutCompleted,
    DisputeClosed,
    DisputeOpened,
    Ignored,
    InvoiceFailed,
    InvoicePaid,
    PaymentEvent,
    SubscriptionChanged,
)
from shared.ports.ledger import Plan

SUBSCRIPTION_EVENTS = frozenset(
    {
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
    }
)
HANDLED = SUBSCRIPTION_EVENTS | {
    "checkout.session.completed",
    "invoice.paid",
    "invoice.payment_failed",
    "charge.refunded",
    "charge.dispute.created",
    "charge.dispute.closed",
}
"""The event types the webhook endpoint subscribes to (docs/deploy.md). A dispute's outcome is
its ``charge.dispute.closed`` (status ``won``, ``lost`` or ``warning_closed``);
``charge.dispute.funds_reinstated`` is left out on purpose
(``shared.domain.billing.account.KEPT``)."""


def _id(value: Any) -> str | None:
    """An expandable field: an id, or the expanded object's id."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        found = value.get("id")
        return found if isinstance(found, str) else None
    return None


def _user(obj: Mapping[str, Any]) -> str | None:
    metadata = obj.get("metadata") or {}
    found = metadata.get("user_id") if isinstance(metadata, Mapping) else None
    return found if isinstance(found, str) and found else None


def subscription(obj: Mapping[str, Any], created: int, prices: Mapping[str, Plan]) -> Subscription:
    items = (obj.get("items") or {}).get("data") or []
    plan: Plan | None = None
    period_end = 0
    for item in items:
        price = _id(item.get("price"))
        found = prices.get(price or "")
        if found is not None and (plan is None or PLAN_ORDER[found] > PLAN_ORDER[plan]):
            plan = found
        period_end = max(period_end, int(item.get("current_period_end") or 0))
    details = obj.get("cancellation_details") or {}
    return Subscription(
        id=str(obj["id"]),
        status=str(obj["status"]),
        plan=plan,
        period_end=period_end,
        cancel_at_period_end=bool(obj.get("cancel_at_period_end")),
        cancel_reason=details.get("reason") if isinstance(details, Mapping) else None,
        created=created,
    )


def invoice(obj: Mapping[str, Any], prices: Mapping[str, Plan]) -> Invoice:
    parent = obj.get("parent") or {}
    details = parent.get("subscription_details") or {}
    plan: Plan | None = None
    period_end = 0
    for line in (obj.get("lines") or {}).get("data") or []:
        pricing = (line.get("pricing") or {}).get("price_details") or {}
        found = prices.get(_id(pricing.get("price")) or "")
        if found is None or int(line.get("amount") or 0) < 0:
            continue  # not one of our plans, or the unused time of the plan left behind
        if plan is None or PLAN_ORDER[found] > PLAN_ORDER[plan]:
            plan = found
            period_end = int((line.get("period") or {}).get("end") or 0)
    return Invoice(
        id=str(obj["id"]),
        subscription_id=_id(details.get("subscription")),
        plan=plan,
        period_end=period_end,
        amount=int(obj.get("amount_paid") or 0) or int(obj.get("amount_due") or 0),
        currency=str(obj.get("currency") or "usd"),
    )


def translate(event: Mapping[str, Any], prices: Mapping[str, Plan]) -> PaymentEvent:
    """``event`` (a Stripe event object) as a ``PaymentEvent``; ``prices``: price id → plan."""
    try:
        kind = str(event["type"])
        event_id, created = str(event["id"]), int(event["created"])
        obj: Mapping[str, Any] = event["data"]["object"]
        customer = _id(obj.get("customer"))
        if kind == "checkout.session.completed":
            hint = obj.get("client_reference_id") or _user(obj)
            return CheckoutCompleted(
                event_id, created, customer, hint, _id(obj.get("subscription"))
            )
        if kind in SUBSCRIPTION_EVENTS:
            sub = subscription(obj, created, prices)
            return SubscriptionChanged(event_id, created, customer, _user(obj), sub)
        if kind in ("invoice.paid", "invoice.payment_failed"):
            details = (obj.get("parent") or {}).get("subscription_details") or {}
            hint = _user(details)
            paid = invoice(obj, prices)
            if kind == "invoice.paid":
                return InvoicePaid(event_id, created, customer, hint, paid)
            next_attempt = obj.get("next_payment_attempt")
            return InvoiceFailed(
                event_id, created, customer, hint, paid, int(next_attempt or 0) or None
            )
        if kind == "charge.refunded":
            return ChargeRefunded(
                event_id,
                created,
                customer,
                None,
                str(obj["id"]),
                _id(obj.get("payment_intent")),
                int(obj["amount_refunded"]),
                str(obj["currency"]),
            )
        if kind == "charge.dispute.created":
            return DisputeOpened(
                event_id,
                created,
                None,
                None,
                str(obj["id"]),
                _id(obj.get("payment_intent")),
                int(obj["amount"]),
                str(obj["currency"]),
            )
        if kind == "charge.dispute.closed":
            return DisputeClosed(
                event_id,
                created,
                None,
                None,
                str(obj["id"]),
                str(obj["status"]),
                int(obj["amount"]),
                str(obj["currency"]),
                _id(obj.get("payment_intent")),
            )
        return Ignored(event_id, created, customer, None, kind)
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not a Stripe event we can read: {exc!r}") from exc
