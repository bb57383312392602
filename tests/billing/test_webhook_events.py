"""Signatures verified by the ``stripe`` library, exactly-once under parallel redelivery, and
refunds and disputes that never take a balance below zero — on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time

import pytest

from shared.ports.payments import BadSignature
from tests.billing.conftest import World
from tests.billing.stripe_api import Customer, signed

PRO = 160


def test_a_wrong_signature_and_an_old_timestamp_are_refused(world: World) -> None:
    user = world.account()
    event = Customer(user).invoice("pro")
    payload, headers = signed(event, secret="whsec_" + "wrong" * 6)
    with pytest.raises(BadSignature):
        world.payments.event(payload, headers)
    payload, headers = signed(event, at=time.time() - 301)
    with pytest.raises(BadSignature):
        world.payments.event(payload, headers)
    payload, headers = signed(event)
    with pytest.raises(BadSignature):
        world.payments.event(payload.replace(b"in_", b"in_x", 1), headers)
    assert world.ledger.profile(user).balance == 0  # type: ignore[union-attr]


def test_a_replayed_event_id_changes_nothing(world: World) -> None:
    user = world.account()
    life = Customer(user)
    world.deliver(life.subscription("created", "pro"))
    paid = life.invoice("pro")
    assert world.deliver(paid).outcome == "applied"
    for _ in range(3):
        assert world.deliver(paid).outcome == "duplicate"
    assert world.ledger.profile(user).balance == PRO  # type: ignore[union-attr]


def test_twenty_parallel_redeliveries_of_invoice_paid_grant_once(world: World) -> None:
    user = world.account()
    life = Customer(user)
    world.deliver(life.subscription("created", "pro"))
    paid = life.invoice("pro")
    outcomes: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(20)

    def redeliver() -> None:
        try:
            start.wait()
            outcomes.append(world.deliver(paid).outcome)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=redeliver) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(outcomes) == ["applied"] + ["duplicate"] * 19
    profile = world.ledger.profile(user)
    assert profile is not None and profile.balance == PRO
    assert [e.kind for e in world.ledger.entries(user)] == ["paid"]
    assert [r.kind for r in world.book.records(user)] == ["payment"]


def _paid_invoice(world: World, user: str) -> tuple[Customer, str, str]:
    life = Customer(user)
    world.deliver(life.subscription("created", "pro"))
    event = life.invoice("pro", reason="subscription_create")
    world.deliver(event)
    invoice = event["data"]["object"]
    intent = "pi_" + invoice["id"]
    world.stripe.payments[intent] = invoice
    return life, invoice["id"], intent


def spend(world: World, user: str, credits: int) -> None:
    assert world.ledger.reserve(user, f"tale-{credits}-{user[:8]}", credits)


def test_a_refund_takes_back_what_is_left_and_records_the_rest_as_lost(world: World) -> None:
    from shared.adapters.local import stripe_shapes as shapes

    user = world.account()
    life, _, intent = _paid_invoice(world, user)
    spend(world, user, 100)  # 60 of the invoice's 160 credits are left
    charge = shapes.charge("ch_1", life.customer, intent, 1500, refunded=1500)
    world.deliver(shapes.event("charge.refunded", charge, life.tick()))
    profile = world.ledger.profile(user)
    assert profile is not None and profile.balance == 0
    refund, withdrawal = world.book.records(user)[1:]
    assert (refund.kind, refund.amount) == ("refund", -1500)
    assert (withdrawal.kind, withdrawal.credits, withdrawal.credits_lost) == (
        "withdrawal",
        -60,
        100,
    )


def test_a_partial_refund_takes_back_its_share(world: World) -> None:
    from shared.adapters.local import stripe_shapes as shapes

    user = world.account()
    life, _, intent = _paid_invoice(world, user)
    half = shapes.charge("ch_2", life.customer, intent, 1500, refunded=750)
    world.deliver(shapes.event("charge.refunded", half, life.tick()))
    assert world.ledger.profile(user).balance == PRO // 2  # type: ignore[union-attr]
    whole = shapes.charge("ch_2", life.customer, intent, 1500, refunded=1500)
    world.deliver(shapes.event("charge.refunded", whole, life.tick()))
    world.deliver(shapes.event("charge.refunded", half, life.tick()))  # late and stale
    assert world.ledger.profile(user).balance == 0  # type: ignore[union-attr]
    assert [r.amount for r in world.book.records(user) if r.kind == "refund"] == [-750, -750]


def test_a_dispute_never_takes_the_balance_below_zero(world: World) -> None:
    from shared.adapters.local import stripe_shapes as shapes

    user = world.account()
    life, _, intent = _paid_invoice(world, user)
    spend(world, user, PRO)  # everything spent
    dispute = shapes.dispute("dp_1", "ch_3", intent, 1500, created=life.tick())
    world.deliver(shapes.event("charge.dispute.created", dispute, life.tick()))
    profile = world.ledger.profile(user)
    assert profile is not None and profile.balance == 0
    kinds = [(r.kind, r.amount, r.credits, r.credits_lost) for r in world.book.records(user)]
    assert kinds[1:] == [("dispute", -1500, 0, 0), ("withdrawal", 0, 0, PRO)]
    lost = shapes.dispute("dp_1", "ch_3", intent, 1500, status="lost")
    world.deliver(shapes.event("charge.dispute.closed", lost, life.tick()))
    assert world.ledger.profile(user).balance == 0  # type: ignore[union-attr]


def test_a_refund_before_its_invoice_is_paid_ends_the_same(world: World) -> None:
    from shared.adapters.local import stripe_shapes as shapes

    user = world.account()
    life = Customer(user)
    event = life.invoice("pro")
    invoice = event["data"]["object"]
    world.stripe.payments["pi_early"] = invoice
    charge = shapes.charge("ch_4", life.customer, "pi_early", 1500, refunded=1500)
    world.deliver(life.subscription("created", "pro"))
    world.deliver(shapes.event("charge.refunded", charge, life.tick()))
    world.deliver(event)
    assert world.ledger.profile(user).balance == 0  # type: ignore[union-attr]
