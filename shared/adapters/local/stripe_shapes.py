"""Stripe objects and events as Stripe's API (version 2026-10-28) shapes them — what the local
payment provider sends its webhook, so that the embedded default exercises the very code
Stripe's events go through. Only the fields Tale reads are guaranteed; the rest follow the
API reference so that the payloads look like what a Stripe endpoint receives."""

from __future__ import annotations

import secrets
from typing import Any

API_VERSION = "2026-10-28.endive"


def new_id(prefix: str) -> str:
    return f"{prefix}_local{secrets.token_hex(10)}"


def event(kind: str, obj: dict[str, Any], created: int, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": new_id("evt"),
        "object": "event",
        "api_version": API_VERSION,
        "created": created,
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": kind,
    }
    body.update(extra)
    return body


def price(price_id: str, cents: int, currency: str = "usd") -> dict[str, Any]:
    return {
        "id": price_id,
        "object": "price",
        "active": True,
        "currency": currency,
        "product": "prod_" + price_id.removeprefix("price_"),
        "recurring": {"interval": "month", "interval_count": 1, "usage_type": "licensed"},
        "type": "recurring",
        "unit_amount": cents,
    }


def subscription(
    sub_id: str,
    customer: str,
    user_id: str,
    price_obj: dict[str, Any],
    start: int,
    end: int,
    *,
    status: str = "active",
    cancel_at_period_end: bool = False,
    cancel_reason: str | None = None,
    created: int | None = None,
) -> dict[str, Any]:
    return {
        "id": sub_id,
        "object": "subscription",
        "customer": customer,
        "status": status,
        "cancel_at_period_end": cancel_at_period_end,
        "cancel_at": end if cancel_at_period_end else None,
        "canceled_at": None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": cancel_reason},
        "collection_method": "charge_automatically",
        "created": created if created is not None else start,
        "currency": price_obj["currency"],
        "items": {
            "object": "list",
            "data": [
                {
                    "id": "si_" + sub_id.removeprefix("sub_"),
                    "object": "subscription_item",
                    "current_period_start": start,
                    "current_period_end": end,
                    "price": price_obj,
                    "quantity": 1,
                    "subscription": sub_id,
                }
            ],
            "has_more": False,
            "total_count": 1,
            "url": f"/v1/subscription_items?subscription={sub_id}",
        },
        "livemode": False,
        "metadata": {"user_id": user_id},
    }


def line(
    price_obj: dict[str, Any],
    sub_id: str,
    amount: int,
    start: int,
    end: int,
    *,
    proration: bool = False,
) -> dict[str, Any]:
    return {
        "id": new_id("il"),
        "object": "line_item",
        "amount": amount,
        "currency": price_obj["currency"],
        "description": None,
        "period": {"start": start, "end": end},
        "pricing": {
            "type": "price_details",
            "price_details": {"price": price_obj["id"], "product": price_obj["product"]},
            "unit_amount_decimal": str(amount),
        },
        "parent": {
            "type": "subscription_item_details",
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": None,
                "proration": proration,
                "subscription": sub_id,
                "subscription_item": "si_" + sub_id.removeprefix("sub_"),
            },
        },
        "quantity": 1,
    }


def invoice(
    invoice_id: str,
    customer: str,
    user_id: str,
    sub_id: str,
    lines: list[dict[str, Any]],
    *,
    reason: str,
    created: int,
    paid: bool = True,
    attempts: int = 1,
    next_attempt: int | None = None,
) -> dict[str, Any]:
    total = sum(int(item["amount"]) for item in lines)
    currency = lines[0]["currency"] if lines else "usd"
    return {
        "id": invoice_id,
        "object": "invoice",
        "amount_due": total,
        "amount_paid": total if paid else 0,
        "amount_remaining": 0 if paid else total,
        "attempt_count": attempts,
        "attempted": True,
        "billing_reason": reason,
        "collection_method": "charge_automatically",
        "created": created,
        "currency": currency,
        "customer": customer,
        "lines": {"object": "list", "data": lines, "has_more": False, "total_count": len(lines)},
        "livemode": False,
        "next_payment_attempt": next_attempt,
        "parent": {
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {"metadata": {"user_id": user_id}, "subscription": sub_id},
        },
        "period_end": created,
        "period_start": created,
        "status": "paid" if paid else "open",
        "total": total,
    }


def charge(
    charge_id: str,
    customer: str,
    payment_intent: str,
    amount: int,
    *,
    refunded: int = 0,
    currency: str = "usd",
    created: int = 0,
) -> dict[str, Any]:
    return {
        "id": charge_id,
        "object": "charge",
        "amount": amount,
        "amount_captured": amount,
        "amount_refunded": refunded,
        "captured": True,
        "created": created,
        "currency": currency,
        "customer": customer,
        "livemode": False,
        "paid": True,
        "payment_intent": payment_intent,
        "refunded": refunded >= amount,
        "status": "succeeded",
    }


DISPUTE_STATUSES = frozenset(
    {
        "warning_needs_response",
        "warning_under_review",
        "warning_closed",
        "needs_response",
        "under_review",
        "appeal_needs_response",
        "appeal_under_review",
        "won",
        "lost",
        "prevented",
    }
)
"""A dispute's ``status`` in API 2026-10-28 (https://docs.stripe.com/api/disputes/object; the
``stripe`` library's ``Dispute.status``). ``warning_*`` is an inquiry: no funds have moved."""
CLOSED_STATUSES = frozenset({"lost", "warning_closed", "won"})
"""The statuses ``charge.dispute.closed`` is sent with (https://docs.stripe.com/api/events/types)."""
DISPUTE_EVENTS = frozenset(
    {
        "charge.dispute.created",
        "charge.dispute.updated",
        "charge.dispute.closed",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.funds_reinstated",
    }
)


def _balance_transaction(
    dispute_id: str, charge_id: str, amount: int, currency: str, created: int
) -> dict[str, Any]:
    withdrawal = amount < 0
    return {
        "id": new_id("txn"),
        "object": "balance_transaction",
        "amount": amount,
        "created": created,
        "currency": currency,
        "description": f"Chargeback {'withdrawal' if withdrawal else 'reversal'} for {charge_id}",
        "reporting_category": "dispute" if withdrawal else "dispute_reversal",
        "source": dispute_id,
        "status": "available",
        "type": "adjustment",
    }


def dispute(
    dispute_id: str,
    charge_id: str,
    payment_intent: str,
    amount: int,
    *,
    status: str = "needs_response",
    currency: str = "usd",
    created: int = 0,
) -> dict[str, Any]:
    """A dispute as Stripe shows it: an inquiry (``warning_*``) has moved no funds, a
    chargeback has withdrawn its amount, and a won one has put it back. ``ValueError`` for a
    status Stripe does not have."""
    if status not in DISPUTE_STATUSES:
        raise ValueError(f"Stripe has no dispute status {status!r}")
    moves: list[int] = []
    if not status.startswith("warning_") and status != "prevented":
        moves = [-amount, amount] if status == "won" else [-amount]
    return {
        "id": dispute_id,
        "object": "dispute",
        "amount": amount,
        "balance_transactions": [
            _balance_transaction(dispute_id, charge_id, move, currency, created) for move in moves
        ],
        "charge": charge_id,
        "created": created,
        "currency": currency,
        "is_charge_refundable": status.startswith("warning_"),
        "livemode": False,
        "metadata": {},
        "payment_intent": payment_intent,
        "reason": "fraudulent",
        "status": status,
    }


def dispute_event(kind: str, obj: dict[str, Any], created: int) -> dict[str, Any]:
    """A ``charge.dispute.*`` event about ``obj``; ``ValueError`` for one Stripe never sends: a
    close, or funds reinstated ("after a dispute is closed"), with a dispute that is not
    closed, or an opening with one that is."""
    if kind not in DISPUTE_EVENTS:
        raise ValueError(f"not a dispute event: {kind!r}")
    closed = obj["status"] in CLOSED_STATUSES
    after_close = kind in ("charge.dispute.closed", "charge.dispute.funds_reinstated")
    if (after_close and not closed) or (kind == "charge.dispute.created" and closed):
        raise ValueError(f"Stripe sends no {kind} with a dispute {obj['status']}")
    return event(kind, obj, created)
