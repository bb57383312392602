"""Checkout and the portal through the ``stripe`` client over its intercepted HTTP layer
(idempotency keys on every creation), and the embedded default's upgrade end to end on
``tale serve``'s app with the local provider (a test double)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shared import bootstrap
from shared.billing.service import AlreadySubscribed, open_portal, start_checkout
from shared.config import Settings
from shared.domain.errors import TransientError
from tests.billing.conftest import World
from tests.billing.stripe_api import Customer


def test_checkout_creates_the_customer_once_and_is_idempotent(world: World) -> None:
    user = world.account("buyer@example.com")

    def checkout(plan: str = "pro") -> Any:
        return start_checkout(
            user,
            "buyer@example.com",
            plan,
            "ko",
            book=world.book,
            payments=world.payments,
            ledger=world.ledger,
            settings=world.settings,
        )

    first, again = checkout(), checkout()
    assert first == again
    assert first.url.startswith("https://checkout.stripe.com/c/pay/cs_test_")
    posts = [r for r in world.stripe.requests if r.method == "POST"]
    customers = [r for r in posts if r.path == "/v1/customers"]
    sessions = [r for r in posts if r.path == "/v1/checkout/sessions"]
    assert len(customers) == 1 and len(sessions) == 2
    assert all(r.headers.get("idempotency-key", "").startswith("tale-") for r in posts)
    assert sessions[0].headers["idempotency-key"] == sessions[1].headers["idempotency-key"]
    form = sessions[0].form
    assert form["mode"] == "subscription"
    assert form["line_items[0][price]"] == "price_1ProMonthly"
    assert form["client_reference_id"] == user
    assert form["subscription_data[metadata][user_id]"] == user
    assert form["locale"] == "ko"
    assert form["customer"] == world.book.customer(user)
    assert customers[0].form["metadata[user_id]"] == user
    business = checkout("business")
    assert business.session_id != first.session_id
    assert len([r for r in world.stripe.requests if r.path == "/v1/customers"]) == 1


def test_the_portal_for_a_customer_and_no_second_subscription(world: World) -> None:
    user = world.account()
    life = Customer(user)
    for event in (life.checkout(), life.subscription("created", "pro"), life.invoice("pro")):
        world.deliver(event)
    url = open_portal(user, book=world.book, payments=world.payments, settings=world.settings)
    assert url.startswith("https://billing.stripe.com/p/session/")
    (portal,) = [r for r in world.stripe.requests if r.path == "/v1/billing_portal/sessions"]
    assert portal.form == {"customer": life.customer, "return_url": "http://localhost:3000/billing"}
    assert portal.headers["idempotency-key"].startswith("tale-")
    with pytest.raises(AlreadySubscribed):
        start_checkout(
            user,
            "",
            "business",
            None,
            book=world.book,
            payments=world.payments,
            ledger=world.ledger,
            settings=world.settings,
        )


def test_stripe_failures_are_retried_with_the_same_key_then_transient(world: World) -> None:
    user = world.account()
    world.stripe.fail = [503, 503, 503, 503]
    with pytest.raises(TransientError):
        start_checkout(
            user,
            "",
            "pro",
            None,
            book=world.book,
            payments=world.payments,
            ledger=world.ledger,
            settings=world.settings,
        )
    keys = {r.headers.get("idempotency-key") for r in world.stripe.requests}
    assert len(world.stripe.requests) == 2 and len(keys) == 1  # one retry, the same key


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Any]:
    settings = Settings(home=tmp_path / "home", public_url="http://127.0.0.1:8080")
    bootstrap.configure(settings)
    from shared.cli.serve import build_app

    yield build_app().test_client()
    bootstrap.configure(Settings(home=tmp_path / "unused"))


def test_an_upgrade_end_to_end_with_the_local_provider(served: Any) -> None:
    signer = bootstrap.container().signer
    assert signer is not None
    user = str(uuid.uuid4())
    auth = {"Authorization": f"Bearer {signer.mint(user, 'me@example.com')}"}
    assert served.get("/v1/me", headers=auth).json["plan"] == "free"
    answer = served.post("/v1/billing/checkout", json={"plan": "pro"}, headers=auth)
    assert answer.status_code == 200, answer.json
    assert answer.json["provider"] == "local"
    page = answer.json["url"].removeprefix("http://127.0.0.1:8080")
    assert "Pay" in served.get(page).get_data(as_text=True)
    paid = served.post(page, data={"action": "pay"})
    assert paid.status_code == 303
    assert paid.headers["Location"] == "http://localhost:3000/billing?checkout=success"
    me = served.get("/v1/me", headers=auth).json
    assert (me["plan"], me["subscribed"], me["balance"]) == ("pro", True, 16 + 160)
    portal = served.post("/v1/billing/portal", headers=auth).json["url"]
    path = portal.removeprefix("http://127.0.0.1:8080")
    assert served.post(path, data={"action": "plan:business"}).status_code == 303
    me = served.get("/v1/me", headers=auth).json
    assert me["plan"] == "business" and 16 + 800 - 20 <= me["balance"] <= 16 + 800
    again = served.post("/v1/billing/checkout", json={"plan": "pro"}, headers=auth)
    assert again.status_code == 409
