"""What refunds and disputes take back of an invoice's credits.

The share of an invoice's credits matching the share of its amount refunded or disputed is
withdrawn; the book takes at most the balance (never below zero) and records the rest as a
loss (credits already spent). Each dispute's withdrawals are lines of their own, named in its
state (``Dispute.lines``), so that a close in our favour knows what to give back
(``disputes``).
"""

from __future__ import annotations

from dataclasses import replace

from shared.domain.billing.account import Account, Invoice
from shared.domain.billing.changes import Record
from shared.domain.billing.events import ChargeRefunded


def _share(invoice: Invoice, taken_back: int) -> int:
    """The invoice's credits matching ``taken_back`` of its amount (refunded or disputed)."""
    if invoice.credits == 0 or invoice.amount <= 0:
        return 0
    return invoice.credits * min(invoice.amount, taken_back) // invoice.amount


def _withdraw(invoice: Invoice, line: str, more: int, out: list[Record]) -> None:
    out.append(
        Record("withdrawal", line, 0, invoice.currency, invoice.id, invoice.plan, withdraw=more)
    )


def settle(account: Account, invoice: Invoice, records: list[Record]) -> Account:
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


def invoice_of(account: Account, invoice_id: str | None, fallback: str, currency: str) -> Invoice:
    return account.invoices.get(invoice_id or "") or Invoice(
        invoice_id or fallback, currency=currency
    )


def refunded(account: Account, event: ChargeRefunded, out: list[Record]) -> Account:
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
    return settle(account, replace(invoice, refunded=event.refunded), out)
