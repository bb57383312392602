"""``supabase/migrations/20261226000000_disputes_won.sql`` on a real PostgreSQL: the
``reinstate`` entry's rules, ``billing.apply_payment_event``'s restore (what the named
withdrawal lines of *this* account took, once) and who may call it — the service role only,
with row-level security on the accounting unchanged (the same rules through the webhook, on
both adapters: ``tests/billing/test_disputes.py``)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from psycopg import errors

from tests.pg import Database, pg_db, pg_server

__all__ = ["pg_db", "pg_server"]  # fixtures

APPLY = (
    "select public.apply_payment_event(%s, 'test', %s, %s, '{}'::jsonb, 'free', false,"
    " %s::jsonb, '[]'::jsonb)"
)


def account(db: Database, credits: int) -> str:
    user = db.add_user()
    service = {"role": "service_role"}
    assert db.scalar("select public.ensure_profile(%s, 'a@example.com', 'free')", [user], **service)
    assert db.scalar("select public.grant_monthly(%s, '2026-12', %s)", [user, credits], **service)
    return user


def line(object_id: str, kind: str = "withdrawal", **extra: Any) -> dict[str, Any]:
    return {
        "kind": kind,
        "object_id": object_id,
        "amount": 0,
        "currency": "usd",
        "invoice_id": "in_1",
        "plan": "pro",
        "grant": 0,
        "withdraw": 0,
        "restore": [],
        **extra,
    }


def apply(db: Database, user: str, version: int, *records: dict[str, Any]) -> str:
    event = f"evt_{user[:8]}_{version}"
    params = [event, user, version, json.dumps(list(records))]
    return str(db.scalar(APPLY, params, role="service_role"))


def balance(db: Database, user: str) -> int:
    return int(db.scalar("select billing.balance(%s)", [user]))


def credits_of(db: Database, object_id: str) -> tuple[int, int]:
    row = db.query(
        "select credits, credits_lost from public.payments where object_id = %s", [object_id]
    )[0]
    return int(row[0]), int(row[1])


def test_a_won_dispute_gives_back_what_its_lines_took_once(pg_db: Database) -> None:
    user = account(pg_db, 10)
    assert apply(pg_db, user, 0, line("du_1:withdrawn:16", withdraw=16)) == "applied"
    assert credits_of(pg_db, "du_1:withdrawn:16") == (-10, 6)  # 6 were spent: lost
    assert balance(pg_db, user) == 0
    won = line("du_1:won", kind="dispute_won", amount=1500, restore=["du_1:withdrawn:16"])
    assert apply(pg_db, user, 1, won) == "applied"
    assert balance(pg_db, user) == 10
    assert credits_of(pg_db, "du_1:won") == (10, 0)
    assert apply(pg_db, user, 2, won) == "applied"  # the same line again: nothing more
    assert balance(pg_db, user) == 10
    kinds = pg_db.query(
        "select kind, amount, invoice_id from public.credit_ledger where user_id = %s order by id",
        [user],
    )
    assert kinds == [("grant", 10, None), ("revoke", -10, "in_1"), ("reinstate", 10, "in_1")]


def test_restore_counts_only_the_accounts_own_withdrawal_lines(pg_db: Database) -> None:
    alice, mallory = account(pg_db, 10), account(pg_db, 0)
    apply(pg_db, alice, 0, line("du_a:withdrawn:10", withdraw=10), line("in_1", kind="payment"))
    assert balance(pg_db, alice) == 0
    theirs = ["du_a:withdrawn:10", "in_1"]  # another account's withdrawal, and no withdrawal
    apply(pg_db, mallory, 0, line("du_m:won", kind="dispute_won", restore=theirs))
    assert balance(pg_db, mallory) == 0
    assert credits_of(pg_db, "du_m:won") == (0, 0)
    own = line("du_a:won", kind="dispute_won", restore=["du_a:withdrawn:10", "in_1"])
    apply(pg_db, alice, 1, own)
    assert balance(pg_db, alice) == 10


@pytest.mark.parametrize(
    "values",
    [
        "(%s, 'reinstate', 0, null, null, 'in_1')",  # gives nothing
        "(%s, 'reinstate', -5, null, null, 'in_1')",  # takes
        "(%s, 'reinstate', 5, null, null, null)",  # for no invoice
        "(%s, 'reinstate', 5, 'tale-1', null, 'in_1')",  # for a tale
        "(%s, 'reinstate', 5, null, '2026-12', 'in_1')",  # for a period
    ],
)
def test_a_reinstate_entry_gives_credits_for_an_invoice(pg_db: Database, values: str) -> None:
    user = account(pg_db, 0)
    with pytest.raises(errors.CheckViolation):
        pg_db.query(
            "insert into public.credit_ledger (user_id, kind, amount, tale_id, period, invoice_id)"
            f" values {values}",
            [user],
        )


def test_apply_payment_event_stays_the_service_roles(pg_db: Database) -> None:
    rows = pg_db.query(
        """
        select n.nspname, p.prosecdef, p.proconfig,
               has_function_privilege('service_role', p.oid, 'execute'),
               has_function_privilege('anon', p.oid, 'execute'),
               has_function_privilege('authenticated', p.oid, 'execute')
        from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where p.proname = 'apply_payment_event'
        """
    )
    found = {schema: rest for schema, *rest in rows}
    assert found == {
        "billing": [True, ['search_path=""'], True, False, False],
        "public": [False, ['search_path=""'], True, False, False],
    }
    user = account(pg_db, 0)
    for role in ("anon", "authenticated"):
        with pytest.raises(errors.InsufficientPrivilege):
            pg_db.query(APPLY, ["evt_x", user, 0, "[]"], role=role, sub=user)


def test_an_owner_reads_only_their_own_accounting(pg_db: Database) -> None:
    alice, bob = account(pg_db, 10), account(pg_db, 10)
    for user in (alice, bob):
        apply(pg_db, user, 0, line(f"du_{user[:8]}:withdrawn:10", withdraw=10))
        restore = [f"du_{user[:8]}:withdrawn:10"]
        apply(pg_db, user, 1, line(f"du_{user[:8]}:won", kind="dispute_won", restore=restore))
    for user in (alice, bob):
        seen = pg_db.query(
            "select distinct user_id::text from public.payments", role="authenticated", sub=user
        )
        assert seen == [(user,)]
        kinds = pg_db.query(
            "select kind from public.credit_ledger order by id", role="authenticated", sub=user
        )
        assert kinds == [("grant",), ("revoke",), ("reinstate",)]
