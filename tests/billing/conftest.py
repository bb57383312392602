"""A billing world: the ledger and the billing book (SQLite, or Supabase's SQL on a real
PostgreSQL through the PostgREST stand-in), Stripe's adapter over the HTTP stand-in, the
outbox, and a way to deliver signed events to the webhook's use case."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from shared.adapters.local.billing import SqliteBilling
from shared.adapters.local.ledger import SqliteLedger
from shared.adapters.local.outbox import OutboxNotifier
from shared.adapters.stripe.payments import StripePayments
from shared.billing.service import Handled, handle_event
from shared.config import Settings
from shared.ports.billing import BillingBook
from shared.ports.ledger import Ledger
from tests.billing.stripe_api import PRICES, SECRET, StripeStandIn, signed
from tests.pg import Database, pg_db, pg_server

__all__ = ["pg_db", "pg_server"]


@dataclass
class World:
    ledger: Ledger
    book: BillingBook
    stripe: StripeStandIn
    payments: StripePayments
    outbox: Path
    settings: Settings
    sign_up: Callable[[], str]

    def account(self, email: str = "payer@example.com") -> str:
        user = self.sign_up()
        self.ledger.ensure_profile(user, email)
        return user

    def deliver(self, event: dict[str, Any], *, at: float | None = None) -> Handled:
        payload, headers = signed(event, at=at)
        parsed = self.payments.event(payload, headers)
        return handle_event(
            parsed,
            book=self.book,
            payments=self.payments,
            ledger=self.ledger,
            notifier=OutboxNotifier(self.outbox),
            settings=self.settings,
        )

    def mails(self) -> list[str]:
        return sorted(p.read_text() for p in self.outbox.glob("*.eml"))


def _payments(stripe: StripeStandIn) -> StripePayments:
    return StripePayments("sk_test_tale", SECRET, PRICES, stripe.client(), retries=1)


@pytest.fixture(params=["sqlite", "postgres"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    stripe = StripeStandIn()
    settings = Settings(home=tmp_path / "home")
    if request.param == "sqlite":
        ledger = SqliteLedger(tmp_path / "ledger.db")
        yield World(
            ledger,
            SqliteBilling(ledger),
            stripe,
            _payments(stripe),
            tmp_path / "outbox",
            settings,
            lambda: str(uuid.uuid4()),
        )
        return
    from shared.adapters.supabase.billing import SupabaseBilling
    from shared.adapters.supabase.ledger import SupabaseLedger
    from tests.postgrest import PostgrestStandIn, supabase_client

    db: Database = request.getfixturevalue("pg_db")
    stand_in = PostgrestStandIn(db, concurrent=True)
    try:
        client = supabase_client(stand_in)
        yield World(
            SupabaseLedger(client),
            SupabaseBilling(client),
            stripe,
            _payments(stripe),
            tmp_path / "outbox",
            settings,
            db.add_user,
        )
    finally:
        stand_in.close()
