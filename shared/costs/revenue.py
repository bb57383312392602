"""What a video brings in, for the A-vs-B signal "API cost over 60 % of revenue".

Real revenue when it exists: the month's payments less its refunds and disputes (and plus
disputes won), from the accounting beside the credit ledger (``BillingBook.records``), divided
by the videos completed that month — every video, free ones included, since each costs the
same to make. Amounts in US dollars only (other currencies are left out and said so). Before
any payment exists: the plan prices in the settings (``TALE_PLAN_PRICES_USD``), each over its
tales a month, weighted by the price table's mix of videos by plan.
"""

from __future__ import annotations

from collections.abc import Sequence

from shared.costs.prices import PriceTable
from shared.ports.billing import PaymentRecord


def from_payments(records: Sequence[PaymentRecord], videos: int) -> tuple[float, str] | None:
    """Net US-dollar revenue per video of the month's records; None without payments."""
    usd = [r for r in records if r.currency.lower() == "usd"]
    if not any(r.kind == "payment" for r in usd) or videos <= 0:
        return None
    net = sum(r.amount for r in usd) / 100
    skipped = len(records) - len(usd)
    note = f", {skipped} in other currencies left out" if skipped else ""
    return net / videos, f"payments (net ${net:,.2f} over {videos} videos{note})"


def from_plan_prices(
    table: PriceTable, plan_prices_usd: dict[str, float], tales_per_month: dict[str, int]
) -> tuple[float, str]:
    total = 0.0
    for plan in table.revenue.plans:
        tales = tales_per_month.get(plan.plan, 0)
        if plan.share_of_videos == 0 or tales <= 0:
            continue
        total += plan.share_of_videos * plan_prices_usd.get(plan.plan, 0.0) / tales
    return total, "plan prices (settings)"
