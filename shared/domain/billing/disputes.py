"""Disputes: each one tracked in the account's state (``account.Dispute``), whatever the order
of its events.

- **Opened**: once per dispute. Its amount counts against its invoice, and it takes back the
  share of the invoice's credits that amount adds, in withdrawal lines of its own
  (``withdrawals.settle``, named in ``Dispute.lines``).
- **Closed in our favour**: ``won``, or ``warning_closed`` (an inquiry that never became a
  chargeback: no funds left us; ``account.KEPT``). The payment stands, so the dispute stops
  counting against its invoice and the book gives back exactly what its lines took from the
  balance (not what was lost: those credits were spent) — once, whatever the order or
  repetition of the events. ``lost`` changes nothing more, and is not final: a decision
  against us may be appealed and won later. A close in our favour is final; a close older
  than the one applied is stale.
"""

from __future__ import annotations

from dataclasses import replace

from shared.domain.billing.account import Account, Dispute
from shared.domain.billing.changes import Record
from shared.domain.billing.events import DisputeClosed, DisputeOpened
from shared.domain.billing.withdrawals import invoice_of, settle


def opened(account: Account, event: DisputeOpened, out: list[Record]) -> Account:
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
    invoice = invoice_of(account, event.invoice_id, event.dispute_id, event.currency)
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
    return settle(account, replace(invoice, disputed=invoice.disputed + event.amount), out)


def closed(account: Account, event: DisputeClosed, out: list[Record]) -> Account:
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
    invoice = invoice_of(account, dispute.invoice_id, dispute.id, dispute.currency)
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
    return settle(account, invoice, out)
