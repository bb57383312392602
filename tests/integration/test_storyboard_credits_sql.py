"""``billing.reserve_more_credits`` and ``billing.settle_credits(tale, cost)``
(``supabase/migrations/20261218000000_storyboard_edits.sql``) on a real PostgreSQL: their
refusals as the adapter reads them, the READ COMMITTED guard, the audit entries, the columns
and constraints (the behaviour on every adapter: ``tests/contract/test_reserve_more_contract``)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from psycopg import errors

from tests.pg import Database, pg_db, pg_server

__all__ = ["pg_db", "pg_server"]  # fixtures

ADMIT = "select public.admit_tale(%s, %s, %s, %s, '2026-11', %s, 5)"
MORE = "select public.reserve_more_credits(%s, %s, %s, %s, %s, '2026-11', %s)"


def service(db: Database, statement: str, params: Any = None) -> Any:
    return db.scalar(statement, params, role="service_role")


@pytest.fixture
def account(pg_db: Database) -> str:
    user = pg_db.add_user()
    assert service(pg_db, "select public.ensure_profile(%s, 'a@example.com', 'free')", [user])
    assert service(pg_db, "select public.grant_monthly(%s, '2026-11', 10)", [user])
    assert service(pg_db, ADMIT, [user, "tale-1", 4, 1_000_000, 3_000_000])
    return user


def refusal(db: Database, params: list[Any]) -> tuple[str, str, dict[str, Any], str]:
    with pytest.raises(errors.Error) as caught:
        service(db, MORE, params)
    diag = caught.value.diag
    assert diag.sqlstate and diag.message_hint and diag.message_detail and diag.message_primary
    return diag.sqlstate, diag.message_hint, json.loads(diag.message_detail), diag.message_primary


def rows(db: Database, user: str) -> list[tuple[Any, ...]]:
    return db.query(
        "select kind, amount, tale_id, estimate_micro_usd, spend_period, plan_version"
        " from public.credit_ledger where user_id = %s order by id",
        [user],
    )


def test_refusals_carry_their_code_hint_and_figures(pg_db: Database, account: str) -> None:
    code, hint, figures, _ = refusal(pg_db, [account, "tale-1", 2, 5, 3_000_001, 3_000_000])
    assert (code, hint) == ("TA002", "spending_cap_exceeded")
    assert figures == {
        "estimate_micro_usd": 2_000_001,  # the increase
        "committed_micro_usd": 1_000_000,
        "cap_micro_usd": 3_000_000,
        "period": "2026-11",
    }
    code, hint, figures, message = refusal(pg_db, [account, "tale-1", 2, 11, 0, 3_000_000])
    assert (code, hint, figures) == ("TA003", "insufficient_credits", {"needed": 7, "balance": 6})
    assert message == "this tale needs 7 credits; the balance is 6"
    assert rows(pg_db, account)[-1][0] == "reserve"  # nothing written


def test_an_addition_keeps_its_version_estimate_and_audit(pg_db: Database, account: str) -> None:
    assert service(pg_db, MORE, [account, "tale-1", 2, 6, 1_500_000, 3_000_000]) is True
    assert service(pg_db, MORE, [account, "tale-1", 2, 6, 1_500_000, 3_000_000]) is False
    assert rows(pg_db, account)[-1] == ("reserve_more", -2, "tale-1", 500_000, "2026-11", 2)
    assert service(pg_db, "select public.settle_credits('tale-1', 5)") is True
    assert rows(pg_db, account)[-1] == ("settle", 1, "tale-1", None, None, None)
    assert service(pg_db, "select public.balance(%s)", [account]) == 5
    audit = pg_db.query(
        "select action, detail from public.audit_log where actor = %s and subject = 'tale-1'"
        " order by id",
        [account],
    )
    assert audit[1:] == [
        (
            "credits.reserved_more",
            {
                "amount": -2,
                "balance": 4,
                "reserved": 6,
                "plan_version": 2,
                "estimate_micro_usd": 500_000,
                "period": "2026-11",
            },
        ),
        ("credits.settled", {"amount": 1, "reserved": 6, "balance": 5, "cost": 5}),
    ]


def test_a_settlement_without_a_cost_keeps_everything(pg_db: Database, account: str) -> None:
    assert service(pg_db, MORE, [account, "tale-1", 2, 6, 0, 3_000_000]) is True
    assert service(pg_db, "select public.settle_credits('tale-1')") is True
    assert rows(pg_db, account)[-1][:2] == ("settle", 0)
    assert service(pg_db, "select public.balance(%s)", [account]) == 4


def test_the_guard_and_invalid_requests(pg_db: Database, account: str) -> None:
    with pg_db.connect() as conn, conn.transaction():
        conn.execute("set transaction isolation level repeatable read")
        conn.execute("set local role service_role")
        with pytest.raises(errors.InvalidTransactionState):
            conn.execute(MORE, [account, "tale-1", 2, 6, 0, 0])
    for params in [
        [account, "", 2, 6, 0, 0],
        [account, "tale-1", 0, 6, 0, 0],
        [account, "tale-1", 2, 0, 0, 0],
        [account, "tale-1", 2, 6, -1, 0],
        [account, "tale-1", 2, 6, 0, -1],
    ]:
        with pytest.raises(errors.InvalidParameterValue):
            service(pg_db, MORE, params)
    with pytest.raises(errors.InvalidParameterValue):
        service(pg_db, "select public.settle_credits('tale-1', -1)")
    stranger = pg_db.add_user()
    service(pg_db, "select public.ensure_profile(%s, 'b@example.com', 'free')", [stranger])
    with pytest.raises(errors.UniqueViolation):
        service(pg_db, MORE, [stranger, "tale-1", 2, 6, 0, 0])
    assert service(pg_db, MORE, [account, "tale-none", 2, 6, 0, 0]) is False


def test_constraints_back_the_functions_up(pg_db: Database, account: str) -> None:
    for statement in [
        # an addition needs its version, estimate and month
        "insert into public.credit_ledger (user_id, kind, amount, tale_id, estimate_micro_usd,"
        " spend_period) values (%s, 'reserve_more', -1, 'tale-1', 0, '2026-11')",
        "insert into public.credit_ledger (user_id, kind, amount, tale_id, plan_version)"
        " values (%s, 'reserve_more', -1, 'tale-1', 2)",
        # an addition never returns credits; only an addition carries a version
        "insert into public.credit_ledger (user_id, kind, amount, tale_id, estimate_micro_usd,"
        " spend_period, plan_version) values (%s, 'reserve_more', 1, 'tale-1', 0, '2026-11', 2)",
        "insert into public.credit_ledger (user_id, kind, amount, tale_id, plan_version)"
        " values (%s, 'refund', 1, 'tale-1', 2)",
        # a settlement never takes credits
        "insert into public.credit_ledger (user_id, kind, amount, tale_id)"
        " values (%s, 'settle', -1, 'tale-1')",
    ]:
        with pytest.raises(errors.CheckViolation):
            pg_db.query(statement, [account])
