"""Disputes, with events shaped and signed as Stripe sends them, on SQLite and PostgreSQL: an
opened dispute takes back its invoice's credits (never below zero); closed in our favour
(``won``, or ``warning_closed`` for an inquiry) it gives back exactly what it took — once,
whatever the order and repetition of the events; ``lost`` gives nothing back."""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

import pytest

from shared.adapters.local import stripe_shapes as shapes
from shared.costs import revenue
from tests.billing.conftest import World
from tests.billing.stripe_api import CENTS, Customer

PRO = 160
PRICE = CENTS["pro"]


@dataclass
class Payment:
    """One paid invoice of a pro subscription, and the disputes of its charge."""

    world: World
    user: str
    life: Customer
    paid: dict[str, Any]
    """Its ``invoice.paid`` event."""
    charge: str = field(default_factory=lambda: "ch_" + secrets.token_hex(8))
    dispute_id: str = field(default_factory=lambda: "du_" + secrets.token_hex(8))

    @property
    def intent(self) -> str:
        return "pi_" + str(self.paid["data"]["object"]["id"])

    def dispute(self, kind: str, status: str, *, at: int | None = None) -> dict[str, Any]:
        obj = shapes.dispute(
            self.dispute_id, self.charge, self.intent, PRICE, status=status, created=self.life.start
        )
        return shapes.dispute_event(kind, obj, at if at is not None else self.life.tick())

    def balance(self) -> int:
        profile = self.world.ledger.profile(self.user)
        assert profile is not None
        return profile.balance

    def lines(self) -> list[tuple[str, int, int, int]]:
        return [
            (r.kind, r.amount, r.credits, r.credits_lost)
            for r in self.world.book.records(self.user)
        ]

    def entries(self) -> list[str]:
        return [e.kind for e in self.world.ledger.entries(self.user)]


def subscribe(world: World, *, pay: bool = True) -> Payment:
    """An account on the pro plan; its first invoice paid (160 credits) unless ``pay`` is
    False (then ``payment.paid`` is still to be delivered). Stripe finds the invoice of the
    invoice's payment (``/v1/invoice_payments``) either way."""
    user = world.account()
    life = Customer(user)
    world.deliver(life.subscription("created", "pro"))
    payment = Payment(world, user, life, life.invoice("pro", reason="subscription_create"))
    world.stripe.payments[payment.intent] = payment.paid["data"]["object"]
    if pay:
        world.deliver(payment.paid)
        assert payment.balance() == PRO
    return payment


def test_a_won_dispute_gives_back_what_it_took_once(world: World) -> None:
    p = subscribe(world)
    world.deliver(p.dispute("charge.dispute.created", "needs_response"))
    assert p.balance() == 0
    won = p.dispute("charge.dispute.closed", "won")
    assert world.deliver(won).outcome == "applied"
    assert p.balance() == PRO
    assert world.deliver(won).outcome == "duplicate"  # Stripe redelivers
    again = p.dispute("charge.dispute.closed", "won")  # another event saying the same
    assert world.deliver(again).outcome == "applied"
    assert p.balance() == PRO
    assert p.entries() == ["paid", "revoke", "reinstate"]
    assert p.lines() == [
        ("payment", PRICE, PRO, 0),
        ("dispute", -PRICE, 0, 0),
        ("withdrawal", 0, -PRO, 0),
        ("dispute_won", PRICE, PRO, 0),
    ]


def test_only_what_the_dispute_took_comes_back(world: World) -> None:
    p = subscribe(world)
    assert world.ledger.reserve(p.user, "tale-spent", 100)  # 60 of the 160 are left
    world.deliver(p.dispute("charge.dispute.created", "needs_response"))
    assert p.balance() == 0
    world.deliver(p.dispute("charge.dispute.closed", "won"))
    assert p.balance() == 60  # what the user would have had without the dispute
    assert p.lines()[2:] == [("withdrawal", 0, -60, 100), ("dispute_won", PRICE, 60, 0)]


def test_a_lost_dispute_gives_nothing_back_until_an_appeal_wins_it(world: World) -> None:
    p = subscribe(world)
    assert world.ledger.reserve(p.user, "tale-spent", 40)
    world.deliver(p.dispute("charge.dispute.created", "needs_response"))
    lost = p.dispute("charge.dispute.closed", "lost")
    world.deliver(lost)
    assert world.deliver(lost).outcome == "duplicate"
    assert p.balance() == 0
    assert p.entries() == ["paid", "reserve", "revoke"]
    # An appeal (API 2026-10-28) may turn the decision: the later close wins it back...
    world.deliver(p.dispute("charge.dispute.closed", "won"))
    assert p.balance() == PRO - 40
    # ...and a close older than that one, arriving late, is stale.
    stale = p.dispute("charge.dispute.closed", "lost", at=lost["created"])
    assert world.deliver(stale).outcome == "applied"
    assert p.balance() == PRO - 40
    assert p.entries() == ["paid", "reserve", "revoke", "reinstate"]


def test_a_close_before_its_opening_takes_and_gives_nothing(world: World) -> None:
    p = subscribe(world)
    opened = p.dispute("charge.dispute.created", "needs_response")
    won = p.dispute("charge.dispute.closed", "won")
    world.deliver(won)
    assert p.balance() == PRO
    world.deliver(opened)
    assert p.balance() == PRO
    assert p.entries() == ["paid"]
    assert p.lines()[1:] == [("dispute_won", PRICE, 0, 0), ("dispute", -PRICE, 0, 0)]


@pytest.mark.parametrize("first", ["funds_reinstated", "closed"])
def test_funds_reinstated_and_the_close_restore_once_in_either_order(
    world: World, first: str
) -> None:
    p = subscribe(world)
    world.deliver(p.dispute("charge.dispute.created", "needs_response"))
    reinstated = p.dispute("charge.dispute.funds_reinstated", "won")
    closed = p.dispute("charge.dispute.closed", "won")
    order = [reinstated, closed] if first == "funds_reinstated" else [closed, reinstated]
    outcomes = {e["type"]: world.deliver(e).outcome for e in order}
    assert outcomes["charge.dispute.funds_reinstated"] == "ignored"  # the close decides
    assert outcomes["charge.dispute.closed"] == "applied"
    assert p.balance() == PRO
    assert p.entries().count("reinstate") == 1


def test_an_inquiry_closed_without_a_chargeback_gives_back(world: World) -> None:
    p = subscribe(world)
    world.deliver(p.dispute("charge.dispute.created", "warning_needs_response"))
    assert p.balance() == 0
    world.deliver(p.dispute("charge.dispute.closed", "warning_closed"))
    assert p.balance() == PRO
    closing = world.book.records(p.user)[-1]
    assert (closing.kind, closing.object_id) == ("dispute_won", f"{p.dispute_id}:warning_closed")


def test_a_dispute_opened_before_its_invoice_was_paid(world: World) -> None:
    p = subscribe(world, pay=False)
    world.deliver(p.dispute("charge.dispute.created", "needs_response"))
    world.deliver(p.paid)  # granted and taken back at once
    assert p.balance() == 0
    world.deliver(p.dispute("charge.dispute.closed", "won"))
    assert p.balance() == PRO


def test_a_refund_of_the_same_payment_stays_taken_back(world: World) -> None:
    p = subscribe(world)
    half = shapes.charge(p.charge, p.life.customer, p.intent, PRICE, refunded=PRICE // 2)
    world.deliver(shapes.event("charge.refunded", half, p.life.tick()))
    assert p.balance() == PRO // 2
    obj = shapes.dispute(p.dispute_id, p.charge, p.intent, PRICE // 2, status="needs_response")
    world.deliver(shapes.dispute_event("charge.dispute.created", obj, p.life.tick()))
    assert p.balance() == 0
    won = dict(obj, status="won")
    world.deliver(shapes.dispute_event("charge.dispute.closed", won, p.life.tick()))
    assert p.balance() == PRO // 2  # the dispute's half back, the refund's half not


def test_parallel_closes_restore_once(world: World) -> None:
    p = subscribe(world)
    world.deliver(p.dispute("charge.dispute.created", "needs_response"))
    won = p.dispute("charge.dispute.closed", "won")
    events = [won] * 10 + [p.dispute("charge.dispute.closed", "won") for _ in range(10)]
    errors: list[BaseException] = []
    start = threading.Barrier(len(events))

    def deliver(event: dict[str, Any]) -> None:
        try:
            start.wait()
            world.deliver(event)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=deliver, args=(e,)) for e in events]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert p.balance() == PRO
    assert p.entries() == ["paid", "revoke", "reinstate"]
    assert [r.kind for r in world.book.records(p.user)].count("dispute_won") == 1


def test_revenue_counts_a_won_dispute_back(world: World) -> None:
    p = subscribe(world)
    world.deliver(p.dispute("charge.dispute.created", "needs_response"))
    per_video, _ = revenue.from_payments(world.book.records(), 1) or (0.0, "")
    assert per_video == 0.0
    world.deliver(p.dispute("charge.dispute.closed", "won"))
    per_video, basis = revenue.from_payments(world.book.records(), 1) or (0.0, "")
    assert per_video == PRICE / 100
    assert basis == f"payments (net ${PRICE / 100:,.2f} over 1 videos)"


def test_the_stand_in_refuses_disputes_stripe_never_sends() -> None:
    with pytest.raises(ValueError, match="no dispute status"):
        shapes.dispute("du_1", "ch_1", "pi_1", PRICE, status="charge_refunded")  # retired
    open_one = shapes.dispute("du_1", "ch_1", "pi_1", PRICE, status="under_review")
    won = shapes.dispute("du_1", "ch_1", "pi_1", PRICE, status="won")
    for kind, obj in [
        ("charge.dispute.closed", open_one),
        ("charge.dispute.funds_reinstated", open_one),
        ("charge.dispute.created", won),
        ("charge.refunded", won),
    ]:
        with pytest.raises(ValueError):
            shapes.dispute_event(kind, obj, 0)
    inquiry = shapes.dispute("du_2", "ch_2", "pi_2", PRICE, status="warning_needs_response")
    assert inquiry["balance_transactions"] == []  # an inquiry moves no funds
    assert [t["amount"] for t in won["balance_transactions"]] == [-PRICE, PRICE]
