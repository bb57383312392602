"""``tale costs``' revenue per video: the month's real payments when they exist, else the
plan prices in the settings."""

from __future__ import annotations

from shared.config import Settings
from shared.costs import revenue
from shared.costs.prices import load_prices
from shared.ports.billing import PaymentRecord


def record(kind: str, amount: int, currency: str = "usd") -> PaymentRecord:
    return PaymentRecord("u", kind, f"{kind}{amount}", amount, currency, None, None, 0, 0, 0.0)


def test_real_payments_less_refunds_and_disputes_per_video() -> None:
    records = [
        record("payment", 1500),
        record("payment", 4900),
        record("refund", -1500),
        record("dispute", -4900),
        record("dispute_won", 4900),
        record("payment", 9900, "krw"),
    ]
    per_video, basis = revenue.from_payments(records, 10) or (0.0, "")
    assert per_video == 4.9
    assert basis.startswith("payments (net $49.00 over 10 videos, 1 in other currencies")
    assert revenue.from_payments([record("refund", -1500)], 10) is None
    assert revenue.from_payments(records, 0) is None


def test_plan_prices_from_the_settings_before_any_payment() -> None:
    settings = Settings()
    table = load_prices(settings.price_table)
    tales = {"free": 2, "pro": 20, "business": 100}
    per_video, basis = revenue.from_plan_prices(table, {"pro": 15.0, "business": 49.0}, tales)
    assert basis == "plan prices (settings)"
    assert abs(per_video - (0.8 * 15 / 20 + 0.2 * 49 / 100)) < 1e-9
