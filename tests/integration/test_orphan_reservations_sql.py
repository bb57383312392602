"""``supabase/migrations/20261224000000_orphan_reservations.sql`` on a real PostgreSQL:
``billing.admit_tale``'s refusal of a closed reservation as the adapter reads it (and that it
writes nothing), and ``billing.open_reservations`` — every account's open reservations for
the service role only, its arguments checked (the behaviour on every adapter:
``tests/contract/test_open_reservations_contract.py``; privileges with the other credit
functions: ``tests/integration/test_supabase_sql.py``)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from psycopg import errors

from tests.pg import Database, pg_db, pg_server

__all__ = ["pg_db", "pg_server"]  # fixtures

ADMIT = "select public.admit_tale(%s, %s, 3, 0, '2026-11', 1000000, 5)"
OPEN = (
    "select tale_id, user_id::text, credits"
    " from public.open_reservations(now() + interval '1 hour')"
)


def service(db: Database, statement: str, params: Any = None) -> Any:
    return db.scalar(statement, params, role="service_role")


def account(db: Database) -> str:
    user = db.add_user()
    assert service(db, "select public.ensure_profile(%s, 'a@example.com', 'free')", [user])
    assert service(db, "select public.grant_monthly(%s, '2026-11', 10)", [user])
    return user


def audit(db: Database, user: str) -> list[str]:
    rows = db.query("select action from public.audit_log where actor = %s order by id", [user])
    return [action for (action,) in rows]


@pytest.mark.parametrize("outcome", ["refund", "settle"])
def test_a_closed_reservation_is_refused_with_its_code_hint_and_figures(
    pg_db: Database, outcome: str
) -> None:
    user = account(pg_db)
    assert service(pg_db, ADMIT, [user, "tale-1"]) is True
    assert service(pg_db, ADMIT, [user, "tale-1"]) is False  # open: reused
    assert service(pg_db, f"select public.{outcome}_credits('tale-1')") is True
    before = audit(pg_db, user)
    with pytest.raises(errors.Error) as caught:
        service(pg_db, ADMIT, [user, "tale-1"])
    diag = caught.value.diag
    assert (diag.sqlstate, diag.message_hint) == ("TA004", "submission_expired")
    assert json.loads(diag.message_detail or "") == {"tale": "tale-1", "outcome": outcome}
    assert diag.message_primary == f"the reservation of tale-1 is closed ({outcome})"
    assert audit(pg_db, user) == before  # nothing written
    kinds = pg_db.query(
        "select kind from public.credit_ledger where tale_id = 'tale-1' order by id"
    )
    assert [k for (k,) in kinds] == ["reserve", outcome]


def test_open_reservations_of_every_account_for_the_service_role(pg_db: Database) -> None:
    alice, bob = account(pg_db), account(pg_db)
    assert service(pg_db, ADMIT, [alice, "tale-a"])
    assert service(pg_db, ADMIT, [bob, "tale-b"])
    assert service(pg_db, ADMIT, [bob, "tale-c"])
    assert service(pg_db, "select public.refund_credits('tale-c')")
    rows = pg_db.query(OPEN, role="service_role")
    assert rows == [("tale-a", alice, 3), ("tale-b", bob, 3)]
    assert (
        pg_db.query(
            "select tale_id from public.open_reservations(now() - interval '1 hour')",
            role="service_role",
        )
        == []
    )
    for role, sub in (("anon", None), ("authenticated", alice)):
        with pytest.raises(errors.InsufficientPrivilege):
            pg_db.query(OPEN, role=role, sub=sub)


@pytest.mark.parametrize("arguments", ["null", "now(), null", "now(), '', 0", "now(), '', null"])
def test_open_reservations_checks_its_arguments(pg_db: Database, arguments: str) -> None:
    with pytest.raises(errors.InvalidParameterValue):
        pg_db.query(f"select * from public.open_reservations({arguments})", role="service_role")
