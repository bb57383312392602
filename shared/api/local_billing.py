"""The local payment provider's pages on ``tale serve`` (``/billing/local/…``): a checkout
with a "Pay" button and a portal — a **test double** of Stripe's hosted pages, so the
embedded default shows an upgrade end to end. Never part of a deployed function; 404 when
Stripe is configured. Each action sends the Stripe-shaped events of
``shared.adapters.local.payments`` to the payment webhook, then redirects as Stripe would."""

from __future__ import annotations

from html import escape
from urllib.parse import parse_qs

from flask import Request, Response

from shared import bootstrap
from shared.adapters.local.payments import LocalPayments
from shared.api.problems import Problem, not_found
from shared.api.requests import leave_unread, read_body

NOTE = (
    "Local test payments (Tale's embedded default): no money moves and no card is asked for. "
    "With TALE_STRIPE_SECRET_KEY set, Stripe's own pages are used instead."
)
ACTIONS = {
    "plan:pro": "Switch to Pro",
    "plan:business": "Switch to Business",
    "cancel": "Cancel at the end of the period",
    "renew": "Simulate the next renewal (paid)",
    "fail": "Simulate the next renewal (payment fails)",
}


def _page(title: str, body: str) -> Response:
    html = (
        f'<!doctype html><html lang="en"><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<body><h1>{escape(title)}</h1><p><small>{escape(NOTE)}</small></p>{body}</body></html>"
    )
    return Response(html, mimetype="text/html")


def _see_other(url: str) -> Response:
    return Response(status=303, headers={"Location": url})


def _button(action: str, label: str) -> str:
    return (
        f'<form method="post"><input type="hidden" name="action" value="{escape(action)}">'
        f"<button>{escape(label)}</button></form>"
    )


def _checkout(payments: LocalPayments, request: Request, session_id: str) -> Response:
    session = payments.session(session_id)
    if session is None:
        raise not_found("checkout session")
    if request.method == "POST":
        read_body(request, 4096)
        return _see_other(payments.pay(session_id))
    plan = session["metadata"]["plan"]
    price = payments.price(plan)["unit_amount"] / 100
    return _page(
        f"Subscribe to Tale {plan.title()}",
        f"<p>{escape(plan.title())}: ${price:,.2f} a month.</p>" + _button("pay", "Pay"),
    )


def _portal(payments: LocalPayments, request: Request, portal_id: str) -> Response:
    portal = payments.portal_session(portal_id)
    if portal is None:
        raise not_found("portal session")
    if request.method == "POST":
        form = parse_qs(read_body(request, 4096).decode("ascii", "replace"))
        action = (form.get("action") or [""])[0]
        if action not in ACTIONS:
            raise Problem(422, "invalid-request", "Invalid request", "action: unknown")
        try:
            return _see_other(payments.change(portal_id, action))
        except LookupError as exc:
            raise Problem(409, "conflict", "Conflict", str(exc)) from exc
    sub = payments.subscription_of(portal["customer"])
    if sub is None:
        return _page("Your Tale subscription", "<p>No subscription.</p>")
    item = sub["items"]["data"][0]
    plan = payments.plans.get(item["price"]["id"], "?")
    state = escape(
        f"{plan} · {sub['status']}" + (" · cancels" if sub["cancel_at_period_end"] else "")
    )
    buttons = "".join(_button(a, label) for a, label in ACTIONS.items())
    back = f'<p><a href="{escape(portal["return_url"])}">Back to Tale</a></p>'
    return _page("Your Tale subscription", f"<p>{state}</p>{buttons}{back}")


def handle(request: Request, path: str) -> Response:
    payments = bootstrap.container().payments
    try:
        if not isinstance(payments, LocalPayments) or request.method not in ("GET", "POST"):
            raise not_found(f"/billing/local/{path}")
        kind, _, ident = path.partition("/")
        if kind == "checkout":
            return leave_unread(request, _checkout(payments, request, ident))
        if kind == "portal":
            return leave_unread(request, _portal(payments, request, ident))
        raise not_found(f"/billing/local/{path}")
    except Problem as problem:
        return leave_unread(request, problem.response(request.path))
