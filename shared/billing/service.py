"""Billing use cases: start a checkout, open the portal, and process a payment event.

``handle_event`` is the webhook's one path, for Stripe and for the embedded default's local
provider alike: the event's account is found (the provider's customer recorded at checkout,
or our user id carried in the event), its billing state is loaded, the rules decide
(``shared.domain.billing.rules.decide``), and the book applies the decision with the event id in
one transaction, compare-and-set on the account's version — a conflict (another event of the
same account meanwhile) loads and decides again. A redelivered event is a ``duplicate`` and
changes nothing; the owner's mail kept with the event is sent (again: each message once).
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

from shared.billing.notices import message
from shared.config import Settings
from shared.domain.billing import rules
from shared.domain.billing.account import Account
from shared.domain.billing.changes import Notice
from shared.domain.billing.events import (
    ChargeRefunded,
    CheckoutCompleted,
    DisputeClosed,
    DisputeOpened,
    Ignored,
    PaymentEvent,
)
from shared.domain.errors import TransientError
from shared.ports.billing import BillingBook, Outcome
from shared.ports.ledger import Ledger, Plan
from shared.ports.notifier import Notifier
from shared.ports.payments import Checkout, CheckoutRequest, Payments

log = logging.getLogger("tale.billing")
PAID_PLANS: tuple[Plan, ...] = ("pro", "business")
ATTEMPTS = 20
"""Loads and decisions of one event before a conflict is given up (and retried by the
provider's redelivery)."""
WINDOW_S = 30 * 60
"""Checkout and portal requests of one account within this window are one request."""
_KEY_SAFE = re.compile(r"[^A-Za-z0-9._-]")


class AlreadySubscribed(Exception):
    """The account pays for a plan already: plan changes go through the portal."""


class NotACustomer(Exception):
    """The account never checked out: there is nothing to manage in the portal."""


@dataclass(frozen=True)
class Handled:
    event_id: str
    outcome: Literal["applied", "duplicate", "ignored"]
    user_id: str | None = None


def policy(settings: Settings, now: float) -> rules.Policy:
    return rules.Policy(
        now=now,
        grace_s=settings.billing_grace_days * 86_400.0,
        credits={plan: settings.monthly_credits(plan) for plan in PAID_PLANS},
    )


def billing_url(settings: Settings) -> str:
    """The web app's billing page: where Checkout and the portal return, and what billing
    mail links to (it opens a fresh portal session: the provider's expire in minutes)."""
    return settings.billing_url or settings.cors_origin.rstrip("/") + "/billing"


def _key(*parts: object) -> str:
    text = "-".join(str(p) for p in parts)
    return "tale-" + hashlib.sha256(text.encode()).hexdigest()[:32]


def start_checkout(
    user_id: str,
    email: str,
    plan: str,
    language: str | None,
    *,
    book: BillingBook,
    payments: Payments,
    ledger: Ledger,
    settings: Settings,
    clock: Callable[[], float] = time.time,
) -> Checkout:
    """A checkout of ``plan`` for the account: its customer created once (recorded on the
    profile), one session per account, plan and language within ``WINDOW_S`` (the provider's
    idempotency key). ``ValueError`` for a plan that is not paid, ``AlreadySubscribed``."""
    if plan not in PAID_PLANS:
        raise ValueError(f"plan: choose one of {', '.join(PAID_PLANS)}")
    ledger.ensure_profile(user_id, email)
    account = refresh(
        user_id, book=book, ledger=ledger, notifier=None, settings=settings, clock=clock
    )
    if account.subscribed:
        raise AlreadySubscribed(
            f"you are on the {account.plan} plan already; change it in the billing portal"
        )
    customer = book.customer(user_id)
    if customer is None:
        made = payments.customer(user_id, email, _key("customer", user_id))
        customer = book.link_customer(user_id, made, language)
    elif language:
        book.link_customer(user_id, customer, language)
    window = int(clock() // WINDOW_S)
    back = billing_url(settings)
    request = CheckoutRequest(
        user_id=user_id,
        customer_id=customer,
        plan=plan,  # checked above
        success_url=f"{back}?checkout=success",
        cancel_url=f"{back}?checkout=cancelled",
        idempotency_key=_key("checkout", user_id, plan, language, window),
        language=language,
    )
    return payments.checkout(request)


def open_portal(
    user_id: str,
    *,
    book: BillingBook,
    payments: Payments,
    settings: Settings,
    clock: Callable[[], float] = time.time,
) -> str:
    customer = book.customer(user_id)
    if customer is None:
        raise NotACustomer("there is no subscription to manage yet: choose a plan first")
    window = int(clock() // WINDOW_S)
    return payments.portal(customer, billing_url(settings), _key("portal", user_id, window))


def _account_of(event: PaymentEvent, book: BillingBook, ledger: Ledger) -> str | None:
    if event.customer is not None:
        user = book.user_of(event.customer)
        if user is not None:
            return user
    hint = event.user_hint
    if hint is None:
        return None
    try:
        if ledger.profile(hint) is None:
            return None
    except (ValueError, LookupError):  # not an account id of ours
        return None
    if event.customer is not None:  # our user's customer (first recorded wins)
        book.link_customer(hint, event.customer)
    return hint


def _resolved(event: PaymentEvent, payments: Payments) -> PaymentEvent:
    """A refund or dispute (opened or closed) with the invoice its payment paid (and that
    invoice's customer)."""
    resolvable = ChargeRefunded | DisputeOpened | DisputeClosed
    if not isinstance(event, resolvable) or event.payment_intent is None:
        return event
    paid = payments.invoice_of_payment(event.payment_intent)
    if paid is None:
        return event
    return replace(event, invoice_id=paid.invoice_id, customer=event.customer or paid.customer_id)


def handle_event(
    event: PaymentEvent,
    *,
    book: BillingBook,
    payments: Payments,
    ledger: Ledger,
    notifier: Notifier | None,
    settings: Settings,
    clock: Callable[[], float] = time.time,
) -> Handled:
    """Process one verified event exactly once (see the module's docstring)."""
    kind = type(event).__name__ if not isinstance(event, Ignored) else event.type
    if book.processed(event.id):
        notices = book.notices(event.id)
        if notices:  # sent when it was applied, unless that send failed: the notifier sends once
            user = _account_of(event, book, ledger)
            _tell(event.id, notices, user, book, ledger, notifier, settings)
        return Handled(event.id, "duplicate")
    event = _resolved(event, payments)
    user = _account_of(event, book, ledger)
    if user is None or isinstance(event, Ignored | CheckoutCompleted):
        if not book.mark(event.id, kind):
            return Handled(event.id, "duplicate", user)
        known = user is not None and isinstance(event, CheckoutCompleted)
        return Handled(event.id, "applied" if known else "ignored", user)
    for _ in range(ATTEMPTS):
        account = book.load(user)
        changes = rules.decide(account, event, policy(settings, clock()))
        outcome = book.apply(event.id, kind, account.version, changes)
        if outcome is Outcome.CONFLICT:
            continue
        if outcome is Outcome.APPLIED:
            log.info(
                "payment event %s (%s): plan %s, %d accounting lines",
                event.id,
                kind,
                changes.account.plan,
                len(changes.records),
            )
        _tell(event.id, book.notices(event.id), user, book, ledger, notifier, settings)
        return Handled(event.id, "applied" if outcome is Outcome.APPLIED else "duplicate", user)
    raise TransientError(f"payment event {event.id}: the account kept changing; retry")


def refresh(
    user_id: str,
    *,
    book: BillingBook,
    ledger: Ledger,
    notifier: Notifier | None,
    settings: Settings,
    clock: Callable[[], float] = time.time,
) -> Account:
    """The account's plan as time moved on (a grace period or a held plan ended)."""
    for _ in range(ATTEMPTS):
        account = book.load(user_id)
        changes = rules.refresh(account, policy(settings, clock()))
        after = changes.account
        if (after.plan, after.subscribed) == (account.plan, account.subscribed):
            return account
        if book.apply(None, "refresh", account.version, changes) is Outcome.APPLIED:
            name = f"refresh-{user_id}-{account.version}"
            _tell(name, list(changes.notices), user_id, book, ledger, notifier, settings)
            return replace(after, version=account.version + 1)
    raise TransientError(f"billing of {user_id}: the account kept changing; retry")


def _tell(
    name: str,
    notices: list[Notice],
    user_id: str | None,
    book: BillingBook,
    ledger: Ledger,
    notifier: Notifier | None,
    settings: Settings,
) -> None:
    """Mail the owner what the event means for them (each message once, by its key)."""
    if not notices or notifier is None or user_id is None:
        return
    profile = ledger.profile(user_id)
    if profile is None or not profile.email:
        log.warning("billing notice %s: the account %s has no email address", name, user_id)
        return
    language = book.load(user_id).language or "en"
    for notice in notices:
        key = _KEY_SAFE.sub("_", f"billing-{name}-{notice.kind}")[:200]
        notifier.send_message(message(key, profile.email, language, notice, billing_url(settings)))
