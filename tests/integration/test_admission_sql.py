"""``billing.admit_tale`` (``supabase/migrations/20261216000000_admission.sql``) on a real
PostgreSQL: its refusals as the adapter reads them, its READ COMMITTED guard, its audit entry,
and the columns it writes (the races: ``tests/contract/test_admission_contract.py``)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from psycopg import errors

from tests.pg import Database, pg_db, pg_server

__all__ = ["pg_db", "pg_server"]  # fixtures

ADMIT = "select public.admit_tale(%s, %s, %s, %s, '2026-11', %s, %s)"


def service(db: Database, statement: str, params: Any = None) -> Any:
    return db.scalar(statement, params, role="service_role")


@pytest.fixture
def account(pg_db: Database) -> str:
    user = pg_db.add_user()
    assert service(pg_db, "select public.ensure_profile(%s, 'a@example.com', 'free')", [user])
    assert service(pg_db, "select public.grant_monthly(%s, '2026-11', 10)", [user])
    return user


def refusal(db: Database, params: list[Any]) -> tuple[str, str, dict[str, Any], str]:
    with pytest.raises(errors.Error) as caught:
        service(db, ADMIT, params)
    diag = caught.value.diag
    assert diag.sqlstate and diag.message_hint and diag.message_detail and diag.message_primary
    return diag.sqlstate, diag.message_hint, json.loads(diag.message_detail), diag.message_primary


def test_refusals_carry_their_code_hint_and_figures(pg_db: Database, account: str) -> None:
    assert service(pg_db, ADMIT, [account, "tale-1", 4, 1_500_000, 2_000_000, 1]) is True
    assert service(pg_db, ADMIT, [account, "tale-1", 4, 1_500_000, 2_000_000, 1]) is False
    assert refusal(pg_db, [account, "tale-2", 1, 1, 9_000_000, 1]) == (
        "TA001",
        "too_many_running_tales",
        {"running": 1, "limit": 1},
        "you have 1 tales in progress; the limit is 1",
    )
    code, hint, figures, _ = refusal(pg_db, [account, "tale-2", 1, 600_000, 2_000_000, 5])
    assert (code, hint) == ("TA002", "spending_cap_exceeded")
    assert figures == {
        "estimate_micro_usd": 600_000,
        "committed_micro_usd": 1_500_000,
        "cap_micro_usd": 2_000_000,
        "period": "2026-11",
    }
    code, hint, figures, message = refusal(pg_db, [account, "tale-2", 7, 0, 2_000_000, 5])
    assert (code, hint, figures) == ("TA003", "insufficient_credits", {"needed": 7, "balance": 6})
    assert message == "this tale needs 7 credits; the balance is 6"


def test_admission_refuses_snapshot_isolation(pg_db: Database, account: str) -> None:
    with pg_db.connect() as conn, conn.transaction():
        conn.execute("set transaction isolation level repeatable read")
        conn.execute("set local role service_role")
        with pytest.raises(errors.InvalidTransactionState):
            conn.execute(ADMIT, [account, "t", 1, 0, 0, 1])


def test_an_admission_is_a_reservation_with_its_estimate(pg_db: Database, account: str) -> None:
    assert service(pg_db, ADMIT, [account, "tale-1", 4, 1_250_000, 5_000_000, 3])
    rows = pg_db.query(
        "select kind, amount, tale_id, period, estimate_micro_usd, spend_period"
        " from public.credit_ledger where user_id = %s order by id",
        [account],
    )
    assert rows[-1] == ("reserve", -4, "tale-1", None, 1_250_000, "2026-11")
    audit = pg_db.query(
        "select action, subject, detail from public.audit_log where actor = %s order by id",
        [account],
    )
    assert audit[-1] == (
        "credits.reserved",
        "tale-1",
        {"amount": -4, "balance": 6, "estimate_micro_usd": 1_250_000, "period": "2026-11"},
    )
    # Only a reservation carries an estimate (nobody but the functions writes the ledger).
    with pytest.raises(errors.CheckViolation):
        pg_db.query(
            "insert into public.credit_ledger (user_id, kind, amount, period, estimate_micro_usd,"
            " spend_period) values (%s, 'grant', 1, '2026-12', 5, '2026-12')",
            [account],
        )


def test_invalid_requests_are_refused(pg_db: Database, account: str) -> None:
    for params in [
        [account, "", 1, 0, 0, 1],
        [account, "t", 0, 0, 0, 1],
        [account, "t", 1, -1, 0, 1],
        [account, "t", 1, 0, -1, 1],
        [account, "t", 1, 0, 0, 0],
    ]:
        with pytest.raises(errors.InvalidParameterValue):
            service(pg_db, ADMIT, params)
    with pytest.raises(errors.InvalidParameterValue):
        service(pg_db, "select public.admit_tale(%s, 't', 1, 0, 'Nov', 0, 1)", [account])
