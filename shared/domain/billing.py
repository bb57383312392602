"""Paid plans: what a payment provider's events do to an account — pure rules, no I/O.

The provider's webhooks are the source of truth. Each event is translated by its adapter into
one of the events below (``PaymentEvent``) and decided here against the account's billing
state (``Account``: every subscription and invoice of the account the provider told us of),
giving the new state and the money and credit movements (``Changes``). The billing book
stores them atomically with the event id, so an event is applied exactly once.

Rules:
- **Plan**: the best plan among the account's subscriptions that entitle it — ``active`` or
  ``trialing``; ``past_due`` within the grace period after its first failed payment (Stripe is
  still retrying); ``canceled`` at the customer's request until the end of the paid period.
  Anything else (``unpaid``, ``incomplete``, ``canceled`` for non-payment, past the grace) is
  the free plan. A downgrade seen in the middle of a paid period keeps the higher plan until
  that period ends (``Subscription.held``).
- **Order**: a subscription is kept as its newest snapshot (the event's ``created``; within
  one second, the later stage of a subscription's life), so events in any order end in the
  same state; invoices, refunds and disputes are kept as cumulative figures per invoice.
- **Credits**: a paid invoice of a subscription grants its plan's credits for the period it
  pays for, topped up to that plan: the first invoice of a period grants the plan's credits,
  an upgrade's invoice in the same period the difference, and nothing is granted twice.
- **Refunds and disputes**: the share of an invoice's credits matching the share of its amount
  refunded or disputed is withdrawn; the book takes at most the balance (never below zero) and
  records the rest as a loss (credits already spent). Each dispute's withdrawals are lines of
  their own, named in its state (``Dispute.lines``).
- **Disputes closed in our favour**: ``won``, or ``warning_closed`` (an inquiry that never
  became a chargeback: no funds left us). The payment stands, so the dispute stops counting
  against its invoice and the book gives back exactly what its lines took from the balance
  (not what was lost: those credits were spent) — once, whatever the order or repetition of
  the events. ``lost`` changes nothing more, and is not final: a decision against us may be
  appealed and won later. A close in our favour is final; a close older than the one
  applied is stale.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from shared.ports.ledger import Plan

PLAN_ORDER: dict[str, int] = {"free": 0, "pro": 1, "business": 2}
ENTITLED = frozenset({"active", "trialing"})
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
RecordKind = Literal["payment", "refund", "dispute", "dispute_won", "withdrawal"]
NoticeKind = Literal["payment_failed", "downgraded"]
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


# -- events ----------------------------------------------------------------------------------


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


# -- what a decision changes -------------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    """One line of the accounting beside the credit ledger."""

    kind: RecordKind
    object_id: str
    """Unique per movement (the invoice, ``<charge>:<refunded so far>``, the dispute)."""
    amount: int
    """Signed, minor units: payments positive, refunds and disputes negative."""
    currency: str
    invoice_id: str | None = None
    plan: Plan | None = None
    grant: int = 0
    """Credits to grant with it (a payment)."""
    withdraw: int = 0
    """Credits to take back with it (at most the balance; the rest is recorded lost)."""
    restore: tuple[str, ...] = ()
    """Lines (object ids) whose credits taken from the balance are given back with it (a
    dispute closed in our favour: what its withdrawals took, never what was lost)."""


@dataclass(frozen=True)
class Notice:
    kind: NoticeKind
    amount: int = 0
    currency: str = "usd"
    until: int | None = None
    """Payment failed: when the grace period ends."""


@dataclass(frozen=True)
class Changes:
    account: Account
    records: tuple[Record, ...] = ()
    notices: tuple[Notice, ...] = ()


@dataclass(frozen=True)
class Policy:
    now: float
    grace_s: float
    credits: dict[str, int]
    """A plan's credits for one paid period."""


def better(a: Plan, b: Plan) -> Plan:
    return a if PLAN_ORDER[a] >= PLAN_ORDER[b] else b


def failing_since(account: Account, subscription_id: str) -> int | None:
    times = [
        i.failed_at
        for i in account.invoices.values()
        if i.subscription_id == subscription_id and not i.paid and i.failed_at is not None
    ]
    return min(times) if times else None


def entitlement(account: Account, now: float, grace_s: float) -> tuple[Plan, bool]:
    """(plan, subscribed) as the account's subscriptions stand at ``now``."""
    plan: Plan = "free"
    subscribed = False
    for sub in account.subscriptions.values():
        if sub.plan is None:
            continue
        since = failing_since(account, sub.id)
        entitled = (
            sub.status in ENTITLED
            or (sub.status == "past_due" and (since is None or now < since + grace_s))
            or (
                sub.status == "canceled"
                and sub.cancel_reason == "cancellation_requested"
                and now < sub.period_end
            )
        )
        if not entitled:
            continue
        subscribed = True
        plan = better(plan, sub.plan)
        if sub.held is not None and now < sub.period_end:
            plan = better(plan, sub.held)
    return plan, subscribed


def _snapshot(old: Subscription | None, new: Subscription) -> Subscription:
    """The newer of two snapshots; a downgrade within the same paid period holds the plan."""
    if old is not None and old.newer_than(new):
        return old  # of two snapshots as new as each other, the one seen last
    if old is None or old.plan is None or new.plan is None:
        return new
    held = old.held if old.period_end == new.period_end else None
    if new.period_end == old.period_end and PLAN_ORDER[new.plan] < PLAN_ORDER[old.plan]:
        held = better(old.plan, held) if held is not None else old.plan
    return replace(new, held=held)


def _granted_in_period(account: Account, invoice: Invoice) -> int:
    return sum(
        i.credits
        for i in account.invoices.values()
        if i.id != invoice.id
        and i.subscription_id == invoice.subscription_id
        and i.period_end == invoice.period_end
    )


def _share(invoice: Invoice, taken_back: int) -> int:
    """The invoice's credits matching ``taken_back`` of its amount (refunded or disputed)."""
    if invoice.credits == 0 or invoice.amount <= 0:
        return 0
    return invoice.credits * min(invoice.amount, taken_back) // invoice.amount


def _withdraw(invoice: Invoice, line: str, more: int, out: list[Record]) -> None:
    out.append(
        Record("withdrawal", line, 0, invoice.currency, invoice.id, invoice.plan, withdraw=more)
    )


def _settle(account: Account, invoice: Invoice, records: list[Record]) -> Account:
    """Withdraw what the invoice's refunds and disputes call for (once), store the invoice.

    Refunds (and disputes from before disputes were kept one by one) come first, then each
    dispute that counts in the order they were opened; each takes the share its amount adds,
    in lines of its own, so that a dispute closed in our favour knows what it took."""
    disputes = [d for d in account.disputes.values() if d.invoice_id == invoice.id and d.counts]
    untracked = max(0, invoice.disputed - sum(d.amount for d in disputes))
    taken_back = invoice.refunded + untracked
    base = invoice.withdrawn - sum(d.withdrawn for d in disputes)
    target = _share(invoice, taken_back)
    if target > base:
        _withdraw(invoice, f"{invoice.id}:withdrawn:{target}", target - base, records)
        base = target
    kept = dict(account.disputes)
    for dispute in disputes:
        taken_back += dispute.amount
        share, target = _share(invoice, taken_back) - target, _share(invoice, taken_back)
        if share > dispute.withdrawn:
            line = f"{dispute.id}:withdrawn:{share}"
            _withdraw(invoice, line, share - dispute.withdrawn, records)
            dispute = replace(dispute, withdrawn=share, lines=(*dispute.lines, line))
            kept[dispute.id] = dispute
        base += dispute.withdrawn
    invoice = replace(invoice, withdrawn=base)
    return replace(account, invoices={**account.invoices, invoice.id: invoice}, disputes=kept)


def _paid(account: Account, event: InvoicePaid, policy: Policy, out: list[Record]) -> Account:
    assert event.invoice is not None
    seen = account.invoices.get(event.invoice.id)
    if seen is not None and seen.paid:
        return account
    invoice = replace(
        event.invoice,
        paid=True,
        failed_at=None,
        refunded=seen.refunded if seen else 0,
        disputed=seen.disputed if seen else 0,
        withdrawn=seen.withdrawn if seen else 0,
    )
    grant = 0
    if invoice.plan is not None and invoice.subscription_id is not None:
        due = policy.credits.get(invoice.plan, 0)
        grant = max(0, due - _granted_in_period(account, invoice))
    invoice = replace(invoice, credits=grant)
    out.append(
        Record(
            "payment",
            invoice.id,
            invoice.amount,
            invoice.currency,
            invoice.id,
            invoice.plan,
            grant=grant,
        )
    )
    return _settle(account, invoice, out)


def _failed(account: Account, event: InvoiceFailed) -> tuple[Account, bool]:
    """The invoice's failure noted (its first); False when it is paid already."""
    assert event.invoice is not None
    seen = account.invoices.get(event.invoice.id)
    if seen is not None and seen.paid:
        return account, False
    first = event.created if seen is None or seen.failed_at is None else seen.failed_at
    invoice = replace(seen or event.invoice, failed_at=min(first, event.created))
    return replace(account, invoices={**account.invoices, invoice.id: invoice}), True


def _refunded(account: Account, event: ChargeRefunded, out: list[Record]) -> Account:
    invoice = account.invoices.get(event.invoice_id or "") or Invoice(
        event.invoice_id or event.charge_id, currency=event.currency
    )
    more = event.refunded - invoice.refunded
    if more <= 0:
        return account
    out.append(
        Record(
            "refund",
            f"{event.charge_id}:refunded:{event.refunded}",
            -more,
            event.currency,
            event.invoice_id,
            invoice.plan,
        )
    )
    if event.invoice_id is None:
        return account  # a payment of no invoice of ours: recorded, no credits involved
    return _settle(account, replace(invoice, refunded=event.refunded), out)


def _invoice_of(account: Account, invoice_id: str | None, fallback: str, currency: str) -> Invoice:
    return account.invoices.get(invoice_id or "") or Invoice(
        invoice_id or fallback, currency=currency
    )


def _disputed(account: Account, event: DisputeOpened, out: list[Record]) -> Account:
    seen = account.disputes.get(event.dispute_id)
    if seen is not None and seen.opened:
        return account  # opened once (Stripe sends one such event per dispute)
    dispute = replace(
        seen or Dispute(event.dispute_id),
        invoice_id=event.invoice_id,
        amount=event.amount,
        currency=event.currency,
        opened=True,
    )
    invoice = _invoice_of(account, event.invoice_id, event.dispute_id, event.currency)
    out.append(
        Record(
            "dispute",
            event.dispute_id,
            -event.amount,
            event.currency,
            event.invoice_id,
            invoice.plan,
        )
    )
    account = replace(account, disputes={**account.disputes, dispute.id: dispute})
    if event.invoice_id is None or dispute.kept:
        return account  # no credits of ours, or closed in our favour before this arrived
    return _settle(account, replace(invoice, disputed=invoice.disputed + event.amount), out)


def _closed(account: Account, event: DisputeClosed, out: list[Record]) -> Account:
    """A dispute's close: in our favour, what its withdrawals took comes back (once)."""
    seen = account.disputes.get(event.dispute_id)
    if seen is not None and (seen.kept or event.created < seen.closed_at):
        return account  # a close in our favour is final; an older close is stale
    dispute = replace(
        seen
        or Dispute(
            event.dispute_id, event.invoice_id, amount=event.amount, currency=event.currency
        ),
        status=event.status,
        closed_at=event.created,
    )
    account = replace(account, disputes={**account.disputes, dispute.id: dispute})
    if not dispute.kept:
        return account  # lost (perhaps not for good: an appeal may still win it)
    invoice = _invoice_of(account, dispute.invoice_id, dispute.id, dispute.currency)
    out.append(
        Record(
            "dispute_won",
            f"{dispute.id}:{dispute.status}",
            dispute.amount,
            dispute.currency,
            dispute.invoice_id,
            invoice.plan,
            restore=dispute.lines,
        )
    )
    if dispute.invoice_id is None or not dispute.opened:
        return account  # nothing was taken back for it
    invoice = replace(
        invoice,
        disputed=max(0, invoice.disputed - dispute.amount),
        withdrawn=max(0, invoice.withdrawn - dispute.withdrawn),
    )
    return _settle(account, invoice, out)


def decide(account: Account, event: PaymentEvent, policy: Policy) -> Changes:
    """What ``event`` changes for ``account`` (not yet applied)."""
    records: list[Record] = []
    notices: list[Notice] = []
    after = account
    if isinstance(event, SubscriptionChanged) and event.subscription is not None:
        sub = event.subscription
        kept = _snapshot(account.subscriptions.get(sub.id), sub)
        after = replace(account, subscriptions={**account.subscriptions, sub.id: kept})
    elif isinstance(event, InvoicePaid) and event.invoice is not None:
        after = _paid(account, event, policy, records)
    elif isinstance(event, InvoiceFailed) and event.invoice is not None:
        after, unpaid = _failed(account, event)
        if unpaid:
            since = after.invoices[event.invoice.id].failed_at or event.created
            notices.append(
                Notice(
                    "payment_failed",
                    event.invoice.amount,
                    event.invoice.currency,
                    int(since + policy.grace_s),
                )
            )
    elif isinstance(event, ChargeRefunded):
        after = _refunded(account, event, records)
    elif isinstance(event, DisputeOpened):
        after = _disputed(account, event, records)
    elif isinstance(event, DisputeClosed):
        after = _closed(account, event, records)
    return _with_entitlement(account, after, policy, records, notices)


def refresh(account: Account, policy: Policy) -> Changes:
    """The plan as time has moved on (a grace period or a held plan ended), no event."""
    return _with_entitlement(account, account, policy, [], [])


def _with_entitlement(
    before: Account,
    after: Account,
    policy: Policy,
    records: list[Record],
    notices: list[Notice],
) -> Changes:
    plan, subscribed = entitlement(after, policy.now, policy.grace_s)
    after = replace(after, plan=plan, subscribed=subscribed)
    dropped = before.subscribed and not subscribed and plan == "free"
    if dropped and _for_non_payment(after):
        notices.append(Notice("downgraded"))
    return Changes(after, tuple(records), tuple(notices))


def _for_non_payment(account: Account) -> bool:
    """Whether the paid plan ended because its payments failed (not by the customer's
    choice, which the provider confirms itself)."""
    return any(
        s.status in ("past_due", "unpaid", "incomplete_expired")
        or (s.status == "canceled" and s.cancel_reason != "cancellation_requested")
        for s in account.subscriptions.values()
    )
