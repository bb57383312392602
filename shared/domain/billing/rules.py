"""The billing rules: what an event changes for an account (``decide``).

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
- **Refunds and disputes** take back a share of those credits (``withdrawals``); a dispute
  closed in our favour gives back what it took (``disputes``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from shared.domain.billing import disputes, withdrawals
from shared.domain.billing.account import PLAN_ORDER, Account, Invoice, Subscription
from shared.domain.billing.changes import Changes, Notice, Record
from shared.domain.billing.events import (
    ChargeRefunded,
    DisputeClosed,
    DisputeOpened,
    InvoiceFailed,
    InvoicePaid,
    PaymentEvent,
    SubscriptionChanged,
)
from shared.ports.ledger import Plan

ENTITLED = frozenset({"active", "trialing"})


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
    return withdrawals.settle(account, invoice, out)


def _failed(account: Account, event: InvoiceFailed) -> tuple[Account, bool]:
    """The invoice's failure noted (its first); False when it is paid already."""
    assert event.invoice is not None
    seen = account.invoices.get(event.invoice.id)
    if seen is not None and seen.paid:
        return account, False
    first = event.created if seen is None or seen.failed_at is None else seen.failed_at
    invoice = replace(seen or event.invoice, failed_at=min(first, event.created))
    return replace(account, invoices={**account.invoices, invoice.id: invoice}), True


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
        after = withdrawals.refunded(account, event, records)
    elif isinstance(event, DisputeOpened):
        after = disputes.opened(account, event, records)
    elif isinstance(event, DisputeClosed):
        after = disputes.closed(account, event, records)
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
