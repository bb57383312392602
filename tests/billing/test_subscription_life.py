"""The whole life of a subscription with events shaped as Stripe sends them, through the
``stripe`` library's verification and the webhook's use case, on SQLite and on PostgreSQL."""

from __future__ import annotations

import itertools
import random
from typing import Any

from tests.billing.conftest import World
from tests.billing.stripe_api import Customer

PRO, BUSINESS = 160, 800  # 20 and 100 default tales a month


def state(world: World, user: str) -> tuple[str, bool, int]:
    profile = world.ledger.profile(user)
    assert profile is not None
    return profile.plan, profile.subscribed, profile.balance


def test_checkout_paid_upgrade_failed_grace_recovered(world: World) -> None:
    user = world.account()
    life = Customer(user)
    assert world.deliver(life.checkout()).outcome == "applied"
    world.deliver(life.subscription("created", "pro"))
    paid = life.invoice("pro", reason="subscription_create")
    assert world.deliver(paid).outcome == "applied"
    assert state(world, user) == ("pro", True, PRO)
    assert world.book.customer(user) == life.customer

    # an upgrade in the middle of the month: the difference, once
    world.deliver(life.subscription("updated", "business"))
    upgrade = life.upgrade_invoice("pro", "business")
    world.deliver(upgrade)
    assert world.deliver(upgrade).outcome == "duplicate"
    assert state(world, user) == ("business", True, BUSINESS)

    # the renewal fails: an email with the billing link, the plan kept during the grace
    life.renew()
    failed = life.invoice("business", paid=False)
    world.deliver(failed)
    world.deliver(life.subscription("updated", "business", status="past_due"))
    assert state(world, user) == ("business", True, BUSINESS)
    (mail,) = world.mails()
    assert "Your Tale payment did not go through" in mail
    assert "http://localhost:3000/billing" in mail

    # Stripe's retry succeeds: the same invoice is paid, the new month's credits come
    recovered = dict(failed, id="evt_recovered", type="invoice.paid")
    recovered["data"] = {
        "object": dict(
            failed["data"]["object"],
            status="paid",
            amount_paid=failed["data"]["object"]["amount_due"],
        )
    }
    world.deliver(recovered)
    world.deliver(life.subscription("updated", "business"))
    assert state(world, user) == ("business", True, 2 * BUSINESS)
    records = world.book.records(user)
    assert [r.kind for r in records] == ["payment", "payment", "payment"]
    assert [r.credits for r in records] == [PRO, BUSINESS - PRO, BUSINESS]


def test_final_failure_drops_to_the_free_plan_and_says_so(world: World) -> None:
    user = world.account()
    life = Customer(user)
    for event in (life.checkout(), life.subscription("created", "pro"), life.invoice("pro")):
        world.deliver(event)
    life.renew()
    world.deliver(life.invoice("pro", paid=False))
    world.deliver(life.subscription("updated", "pro", status="past_due"))
    assert state(world, user) == ("pro", True, PRO)
    world.deliver(life.subscription("updated", "pro", status="unpaid"))
    assert state(world, user) == ("free", False, PRO)  # what was paid for stays
    mails = world.mails()
    assert len(mails) == 2
    assert any("Your Tale plan is now the free plan" in m for m in mails)


def test_cancellation_keeps_the_plan_to_the_end_of_the_period(world: World) -> None:
    user = world.account()
    life = Customer(user)
    for event in (life.subscription("created", "pro"), life.invoice("pro")):
        world.deliver(event)
    world.deliver(
        life.subscription(
            "updated", "pro", cancel_at_period_end=True, cancel_reason="cancellation_requested"
        )
    )
    assert state(world, user) == ("pro", True, PRO)
    world.deliver(
        life.subscription(
            "deleted", "pro", status="canceled", cancel_reason="cancellation_requested"
        )
    )
    assert state(world, user)[:2] == ("pro", True)  # paid until the period's end
    assert world.mails() == []


def test_a_downgrade_takes_effect_at_the_end_of_the_period(world: World) -> None:
    user = world.account()
    life = Customer(user)
    for event in (life.subscription("created", "business"), life.invoice("business")):
        world.deliver(event)
    world.deliver(life.subscription("updated", "pro"))
    assert state(world, user) == ("business", True, BUSINESS)
    life.renew()
    world.deliver(life.subscription("updated", "pro"))
    world.deliver(life.invoice("pro"))
    assert state(world, user) == ("pro", True, BUSINESS + PRO)


def life_events(user: str) -> list[dict[str, Any]]:
    life = Customer(user)
    events = [
        life.checkout(),
        life.subscription("created", "pro", status="incomplete"),
        life.subscription("updated", "pro"),
        life.invoice("pro", reason="subscription_create"),
        life.subscription("updated", "business"),
        life.upgrade_invoice("pro", "business"),
    ]
    life.renew()
    events += [
        life.invoice("business", paid=False),
        life.subscription("updated", "business", status="past_due"),
        life.subscription("updated", "business", status="unpaid"),
    ]
    return events


def test_events_in_any_order_reach_the_same_end_state(world: World) -> None:
    reference = world.account()
    events = life_events(reference)
    for event in events:
        world.deliver(event)
    expected = state(world, reference)
    assert expected == ("free", False, BUSINESS)
    shuffles = [list(reversed(range(len(events))))]
    rng = random.Random(7)
    for _ in range(3):
        order = list(range(len(events)))
        rng.shuffle(order)
        shuffles.append(order)
    for order in shuffles:
        user = world.account()
        mine = [replace_user(e, reference, user) for e in events]
        for index in order:
            world.deliver(mine[index])
        for event in mine:  # and every event redelivered once more
            assert world.deliver(event).outcome in ("duplicate", "ignored")
        assert state(world, user) == expected, order
        got, want = world.book.records(user), world.book.records(reference)
        assert sorted((r.kind, r.amount) for r in got) == sorted((r.kind, r.amount) for r in want)
        # which invoice of a month carries its credits follows arrival; the month's do not
        assert sum(r.credits for r in got) == sum(r.credits for r in want)


def replace_user(event: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    """The same event for another account (new ids, as Stripe would give them)."""
    import json

    text = json.dumps(event).replace(old, new)
    for prefix in ("evt_", "cus_", "sub_", "in_"):
        text = text.replace(f'"{prefix}', f'"{prefix}x{new[:8]}')
    return dict(json.loads(text))


def test_permutations_of_upgrade_and_payments(world: World) -> None:
    """Every order of the first month's five events."""
    base = world.account()
    template = life_events(base)[1:6]
    ends = set()
    for order in itertools.islice(itertools.permutations(range(5)), 0, 120, 17):
        user = world.account()
        mine = [replace_user(e, base, user) for e in template]
        for index in order:
            world.deliver(mine[index])
        ends.add(state(world, user))
    assert ends == {("business", True, BUSINESS)}
