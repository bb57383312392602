"""The Supabase schema (``supabase/migrations/``) on a real PostgreSQL dressed as Supabase:
row-level security per role, the credit functions' rules, the append-only ledger, and
reservations racing for the last credits."""

from __future__ import annotations

import json
import threading
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest
from psycopg import errors

from tests.peers import missing_peer
from tests.pg import Database

TABLES = ["profiles", "credit_ledger", "tales", "audit_log"]
OWNER_COLUMN = {
    "profiles": "id",
    "credit_ledger": "user_id",
    "tales": "owner",
    "audit_log": "actor",
}
BILLING_TABLES = ["billing_accounts", "billing_events", "payments"]
"""Written by the payment events' billing functions only (20261222000000_payments.sql)."""
BILLING_CALLS = {
    "balance": "balance(%(user)s)",
    "ensure_profile": "ensure_profile(%(user)s, 'x@example.com', 'free')",
    "grant_monthly": "grant_monthly(%(user)s, '2026-11', 10)",
    "reserve_credits": "reserve_credits(%(user)s, 'tale-x', 1)",
    "admit_tale": "admit_tale(%(user)s, 'tale-x', 1, 0, '2026-11', 0, 5)",
    "settle_credits": "settle_credits('tale-a')",
    "refund_credits": "refund_credits('tale-a')",
    "reserve_more_credits": "reserve_more_credits(%(user)s, 'tale-a', 2, 5, 0, '2026-11', 0)",
    "open_reservations": "open_reservations(now())",
}


@dataclass
class World:
    """Two accounts, each with a profile, a grant, a reserved tale and audit entries."""

    db: Database
    alice: str
    bob: str

    def count(self, table: str, **kw: Any) -> int:
        return int(self.db.scalar(f"select count(*) from public.{table}", **kw))


def service(db: Database, statement: str, params: Any = None) -> Any:
    return db.scalar(statement, params, role="service_role")


def make_account(db: Database, tale_id: str, credits: int = 10) -> str:
    user = db.add_user()
    assert service(db, "select public.ensure_profile(%s, %s, 'free')", [user, f"{user}@x"])
    assert service(db, "select public.grant_monthly(%s, '2026-11', %s)", [user, credits])
    assert service(db, "select public.reserve_credits(%s, %s, 3)", [user, tale_id]) == "reserved"
    db.query(
        "insert into public.tales (id, owner, title) values (%s, %s, 'a tale')",
        [tale_id, user],
        role="service_role",
    )
    return user


@pytest.fixture
def world(pg_db: Database) -> World:
    return World(pg_db, make_account(pg_db, "tale-a"), make_account(pg_db, "tale-b"))


def ledger_sum(db: Database, user: str) -> int:
    return int(
        db.scalar(
            "select coalesce(sum(amount), 0) from public.credit_ledger where user_id = %s", [user]
        )
    )


# -- row-level security ---------------------------------------------------------------------


@pytest.mark.parametrize("table", TABLES + BILLING_TABLES)
def test_anon_sees_nothing(world: World, table: str) -> None:
    with pytest.raises(errors.InsufficientPrivilege):
        world.db.query(f"select * from public.{table}", role="anon")


@pytest.mark.parametrize("table", TABLES)
@pytest.mark.parametrize("who", ["anon", "owner", "other user"])
def test_clients_write_nothing(world: World, table: str, who: str) -> None:
    """Neither anon nor any signed-in user may insert, update or delete rows, their own
    included (writes are the backend's); the rows stay as they were."""
    role, sub = {
        "anon": ("anon", None),
        "owner": ("authenticated", world.alice),
        "other user": ("authenticated", world.bob),
    }[who]
    column = OWNER_COLUMN[table]
    before = world.db.query(f"select * from public.{table} order by 1")
    inserts = {
        "profiles": "insert into public.profiles (id, email) values (%s, 'x')",
        "credit_ledger": "insert into public.credit_ledger (user_id, kind, amount, period)"
        " values (%s, 'grant', 1000, '2026-12')",
        "tales": "insert into public.tales (id, owner) values ('mine', %s)",
        "audit_log": "insert into public.audit_log (actor, action) values (%s, 'forged')",
    }
    statements = [
        (inserts[table], [world.alice]),
        (f"update public.{table} set {column} = {column}", []),
        (f"update public.{table} set {column} = %s where {column} = %s", [sub, world.alice]),
        (f"delete from public.{table}", []),
        (f"delete from public.{table} where {column} = %s", [world.alice]),
    ]
    for statement, params in statements:
        with pytest.raises(errors.InsufficientPrivilege):
            world.db.query(statement, params, role=role, sub=sub)
    assert world.db.query(f"select * from public.{table} order by 1") == before


@pytest.mark.parametrize("table", TABLES)
def test_owner_sees_only_own_rows(world: World, table: str) -> None:
    column = OWNER_COLUMN[table]
    for me, other in [(world.alice, world.bob), (world.bob, world.alice)]:
        rows = world.db.query(f"select {column} from public.{table}", role="authenticated", sub=me)
        assert rows, f"{table}: the owner should see their rows"
        assert {row[0] for row in rows} == {uuid.UUID(me)}
        assert world.count(table, role="authenticated", sub=me) == world.db.scalar(
            f"select count(*) from public.{table} where {column} = %s", [me]
        )
        seen = world.db.query(
            f"select 1 from public.{table} where {column} = %s",
            [other],
            role="authenticated",
            sub=me,
        )
        assert seen == []


@pytest.mark.parametrize("table", TABLES)
def test_a_stranger_sees_nothing(world: World, table: str) -> None:
    stranger = world.db.add_user()
    assert world.count(table, role="authenticated", sub=stranger) == 0
    # No claims at all (a role switch without a JWT) is no one.
    assert world.count(table, role="authenticated") == 0


def test_service_role_sees_and_writes_all(world: World) -> None:
    db = world.db
    for table in TABLES:
        assert world.count(table, role="service_role") == world.count(table) > 0
    with db.as_role("service_role") as cur:
        cur.execute("update public.tales set status = 'planning', progress = 10")
        assert cur.rowcount == 2
        cur.execute("update public.profiles set plan = 'pro' where id = %s", [world.bob])
        assert cur.rowcount == 1
        cur.execute("insert into public.audit_log (actor, action) values (%s, 'note')", [world.bob])
        cur.execute("insert into public.tales (id, owner) values ('tale-c', %s)", [world.bob])
        cur.execute("delete from public.tales where id = 'tale-c'")
        assert cur.rowcount == 1
    assert db.scalar("select plan from public.profiles where id = %s", [world.bob]) == "pro"


def test_service_role_moves_credits_only_through_the_functions(world: World) -> None:
    for statement in [
        "insert into public.credit_ledger (user_id, kind, amount, period)"
        " values (%s, 'grant', 1000, '2030-01')",
        "update public.credit_ledger set amount = 1000 where user_id = %s",
        "delete from public.credit_ledger where user_id = %s",
    ]:
        with pytest.raises(errors.InsufficientPrivilege):
            world.db.query(statement, [world.alice], role="service_role")
    with pytest.raises(errors.InsufficientPrivilege):
        world.db.query("truncate public.credit_ledger", role="service_role")


@pytest.mark.parametrize("fn", sorted(BILLING_CALLS))
@pytest.mark.parametrize("schema", ["billing", "public"])
@pytest.mark.parametrize("role", ["anon", "authenticated"])
def test_clients_cannot_execute_credit_functions(
    world: World, fn: str, schema: str, role: str
) -> None:
    statement = f"select {schema}.{BILLING_CALLS[fn]}"
    with pytest.raises(errors.InsufficientPrivilege):
        world.db.query(statement, {"user": world.alice}, role=role, sub=world.alice)
    # The statement itself is fine: the superuser may run it.
    assert (
        world.db.scalar(f"select {schema}.{BILLING_CALLS[fn]}", {"user": world.alice}) is not None
    )


def test_function_definitions(pg_db: Database) -> None:
    rows = pg_db.query(
        """
        select n.nspname, p.proname, p.prosecdef, p.proconfig,
               has_function_privilege('service_role', p.oid, 'execute'),
               has_function_privilege('anon', p.oid, 'execute'),
               has_function_privilege('authenticated', p.oid, 'execute')
        from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname in ('billing', 'public')
        """
    )
    found = {(schema, name): rest for schema, name, *rest in rows}
    for fn in BILLING_CALLS:
        definer, config, service_ok, anon_ok, auth_ok = found[("billing", fn)]
        assert definer and config == ['search_path=""'], fn
        assert (service_ok, anon_ok, auth_ok) == (True, False, False), fn
        definer, config, service_ok, anon_ok, auth_ok = found[("public", fn)]
        assert not definer and config == ['search_path=""'], fn
        assert (service_ok, anon_ok, auth_ok) == (True, False, False), fn
    assert not pg_db.scalar("select has_schema_privilege('authenticated', 'billing', 'usage')")


def test_rls_is_enabled_everywhere(pg_db: Database) -> None:
    rows = pg_db.query(
        "select relname, relrowsecurity, relforcerowsecurity from pg_class"
        " where relnamespace = 'public'::regnamespace and relkind = 'r'"
    )
    assert {name for name, _, _ in rows} == set(TABLES + BILLING_TABLES)
    assert {name for name, enabled, _ in rows if enabled} == set(TABLES + BILLING_TABLES)
    assert {name for name, _, forced in rows if forced} == {"tales"}


def test_tales_are_published_to_realtime(pg_db: Database) -> None:
    rows = pg_db.query(
        "select schemaname, tablename from pg_publication_tables"
        " where pubname = 'supabase_realtime'"
    )
    assert rows == [("public", "tales")]


def test_tale_columns_are_checked(world: World) -> None:
    for statement in [
        "update public.tales set status = 'exploded'",
        "update public.tales set progress = 101",
        "update public.tales set progress = -1",
    ]:
        with pytest.raises(errors.CheckViolation):
            world.db.query(statement, role="service_role")


def test_updates_touch_updated_at_and_plan_changes_are_audited(world: World) -> None:
    db = world.db
    before = db.scalar("select updated_at from public.profiles where id = %s", [world.alice])
    db.query(
        "update public.profiles set plan = 'business' where id = %s",
        [world.alice],
        role="service_role",
    )
    after = db.scalar("select updated_at from public.profiles where id = %s", [world.alice])
    assert after > before
    detail = db.scalar(
        "select detail from public.audit_log where actor = %s and action = 'profile.plan_changed'",
        [world.alice],
    )
    assert detail == {"from": "free", "to": "business"}
    with pytest.raises(errors.CheckViolation):
        db.query("update public.profiles set plan = 'gold'", role="service_role")


# -- credits --------------------------------------------------------------------------------


@pytest.fixture
def account(pg_db: Database) -> str:
    user = pg_db.add_user()
    assert service(pg_db, "select public.ensure_profile(%s, 'a@example.com', 'pro')", [user])
    return user


def balance(db: Database, user: str) -> int:
    return int(service(db, "select public.balance(%s)", [user]))


def test_ensure_profile_is_idempotent(pg_db: Database, account: str) -> None:
    assert service(pg_db, "select public.ensure_profile(%s, 'other@x', 'free')", [account]) is False
    assert pg_db.query("select email, plan from public.profiles where id = %s", [account]) == [
        ("a@example.com", "pro")
    ]
    with pytest.raises(errors.ForeignKeyViolation):  # only Supabase Auth users have profiles
        service(pg_db, "select public.ensure_profile(%s, 'x', 'free')", [str(uuid.uuid4())])
    with pytest.raises(errors.CheckViolation):
        service(pg_db, "select public.ensure_profile(%s, 'x', 'gold')", [pg_db.add_user()])


def test_grant_once_per_period(pg_db: Database, account: str) -> None:
    grant = "select public.grant_monthly(%s, %s, %s)"
    assert service(pg_db, grant, [account, "2026-11", 40]) is True
    assert service(pg_db, grant, [account, "2026-11", 40]) is False
    assert service(pg_db, grant, [account, "2026-11", 99]) is False
    assert service(pg_db, grant, [account, "2026-12", 40]) is True
    assert service(pg_db, grant, [account, "2027-01", 0]) is True  # a plan without credits
    assert balance(pg_db, account) == 80
    for period in ["2026-13", "2026-1", "November", ""]:
        with pytest.raises(errors.InvalidParameterValue):
            service(pg_db, grant, [account, period, 1])
    with pytest.raises(errors.InvalidParameterValue):
        service(pg_db, grant, [account, "2028-01", -5])
    with pytest.raises(errors.NoDataFound):
        service(pg_db, grant, [str(uuid.uuid4()), "2026-11", 1])


def test_reserve_is_idempotent_and_never_overdraws(pg_db: Database, account: str) -> None:
    reserve = "select public.reserve_credits(%s, %s, %s)"
    service(pg_db, "select public.grant_monthly(%s, '2026-11', 10)", [account])
    assert service(pg_db, reserve, [account, "tale-1", 6]) == "reserved"
    assert service(pg_db, reserve, [account, "tale-1", 6]) == "already_reserved"
    assert service(pg_db, reserve, [account, "tale-1", 1]) == "already_reserved"
    assert balance(pg_db, account) == 4
    rows_before = pg_db.scalar("select count(*) from public.credit_ledger")
    assert service(pg_db, reserve, [account, "tale-2", 5]) == "insufficient"
    assert pg_db.scalar("select count(*) from public.credit_ledger") == rows_before
    assert service(pg_db, reserve, [account, "tale-2", 4]) == "reserved"
    assert balance(pg_db, account) == 0
    assert service(pg_db, reserve, [account, "tale-3", 1]) == "insufficient"
    # No profile, no credits.
    assert service(pg_db, reserve, [str(uuid.uuid4()), "tale-4", 1]) == "insufficient"
    for bad in [0, -3]:
        with pytest.raises(errors.InvalidParameterValue):
            service(pg_db, reserve, [account, "tale-5", bad])
    with pytest.raises(errors.InvalidParameterValue):
        service(pg_db, reserve, [account, "", 1])


def test_a_tale_reserved_by_one_account_is_not_anothers(pg_db: Database, account: str) -> None:
    other = pg_db.add_user()
    service(pg_db, "select public.ensure_profile(%s, 'b@x', 'free')", [other])
    for user in (account, other):
        service(pg_db, "select public.grant_monthly(%s, '2026-11', 10)", [user])
    assert service(pg_db, "select public.reserve_credits(%s, 't', 2)", [account]) == "reserved"
    with pytest.raises(errors.UniqueViolation):
        service(pg_db, "select public.reserve_credits(%s, 't', 2)", [other])
    assert balance(pg_db, other) == 10


def test_reserve_refuses_snapshot_isolation(pg_db: Database, account: str) -> None:
    service(pg_db, "select public.grant_monthly(%s, '2026-11', 10)", [account])
    with pg_db.connect() as conn, conn.transaction():
        conn.execute("set transaction isolation level repeatable read")
        conn.execute("set local role service_role")
        with pytest.raises(errors.InvalidTransactionState):
            conn.execute("select public.reserve_credits(%s, 't', 1)", [account])


@pytest.mark.parametrize("first,second", [("settle", "refund"), ("refund", "settle")])
def test_one_outcome_per_tale(pg_db: Database, account: str, first: str, second: str) -> None:
    service(pg_db, "select public.grant_monthly(%s, '2026-11', 10)", [account])
    assert service(pg_db, f"select public.{first}_credits('tale-1')") is False  # not reserved
    service(pg_db, "select public.reserve_credits(%s, 'tale-1', 4)", [account])
    assert service(pg_db, f"select public.{first}_credits('tale-1')") is True
    assert service(pg_db, f"select public.{first}_credits('tale-1')") is False
    assert service(pg_db, f"select public.{second}_credits('tale-1')") is False
    assert balance(pg_db, account) == (6 if first == "settle" else 10)
    kinds = pg_db.query(
        "select kind, amount from public.credit_ledger where tale_id = 'tale-1' order by id"
    )
    assert kinds == [("reserve", -4), (first, 0 if first == "settle" else 4)]
    # The constraint backs the functions up.
    with pytest.raises(errors.UniqueViolation):
        pg_db.query(
            "insert into public.credit_ledger (user_id, kind, amount, tale_id)"
            " values (%s, %s, %s, 'tale-1')",
            [account, second, 0 if second == "settle" else 4],
        )


def test_money_movements_are_audited(pg_db: Database, account: str) -> None:
    service(pg_db, "select public.grant_monthly(%s, '2026-11', 10)", [account])
    service(pg_db, "select public.reserve_credits(%s, 'tale-1', 4)", [account])
    service(pg_db, "select public.reserve_credits(%s, 'tale-1', 4)", [account])  # no-op
    service(pg_db, "select public.reserve_credits(%s, 'tale-2', 40)", [account])  # refused
    service(pg_db, "select public.refund_credits('tale-1')")
    service(pg_db, "select public.settle_credits('tale-1')")  # refused
    rows = pg_db.query(
        "select action, subject, detail from public.audit_log where actor = %s order by id",
        [account],
    )
    assert rows == [
        ("profile.created", account, {"plan": "pro"}),
        ("credits.granted", "2026-11", {"amount": 10, "balance": 10}),
        ("credits.reserved", "tale-1", {"amount": -4, "balance": 6}),
        ("credits.refunded", "tale-1", {"amount": 4, "reserved": 4, "balance": 10}),
    ]
    # The owner reads their own audit trail.
    assert (
        len(pg_db.query("select 1 from public.audit_log", role="authenticated", sub=account)) == 4
    )


@pytest.mark.parametrize("who", ["owner", "superuser"])
def test_ledger_and_audit_log_are_append_only(world: World, who: str) -> None:
    def run(statement: str) -> None:
        if who == "superuser":
            world.db.query(statement)
            return
        with world.db.connect() as conn, conn.transaction():
            conn.execute("set local role tale_migrator")  # the tables' owner
            conn.execute(statement)

    for table in ["credit_ledger", "audit_log"]:
        for statement in [
            f"update public.{table} set created_at = now()",
            f"delete from public.{table}",
            f"truncate public.{table}",
        ]:
            with pytest.raises(errors.RestrictViolation, match="append-only"):
                run(statement)
    assert ledger_sum(world.db, world.alice) == 7


def test_erasing_an_account_erases_its_rows(world: World) -> None:
    """Deleting the Supabase Auth user cascades (the one delete the ledger allows)."""
    db = world.db
    db.query("delete from auth.users where id = %s", [world.alice])
    for table in TABLES[:3]:
        column = OWNER_COLUMN[table]
        assert (
            db.scalar(f"select count(*) from public.{table} where {column} = %s", [world.alice])
            == 0
        )
        assert (
            db.scalar(f"select count(*) from public.{table} where {column} = %s", [world.bob]) > 0
        )


# -- concurrency ----------------------------------------------------------------------------

RACERS = 100
COST = 5


def free_connections(db: Database) -> int:
    limit = int(db.scalar("show max_connections")) - int(
        db.scalar("show superuser_reserved_connections")
    )
    return limit - int(
        db.scalar("select count(*) from pg_stat_activity where backend_type = 'client backend'")
    )


def test_parallel_reservations_never_overdraw(pg_db: Database, account: str) -> None:
    """100 tales reserved at once, on 100 connections, against credits for exactly 2."""
    if free_connections(pg_db) < RACERS + 5:
        reason = f"the server cannot take {RACERS} more connections"
        missing_peer(reason)
    service(pg_db, "select public.grant_monthly(%s, '2026-11', %s)", [account, 2 * COST])
    start = threading.Barrier(RACERS, timeout=30)
    results: list[str] = []
    failures: list[BaseException] = []
    done = threading.Event()
    balances: list[int] = []

    def racer(i: int) -> None:
        try:
            with pg_db.connect() as conn:
                conn.execute("set role service_role")
                conn.execute(
                    "select set_config('request.jwt.claims', %s, false)",
                    [json.dumps({"role": "service_role"})],
                )
                start.wait()
                row = conn.execute(
                    "select public.reserve_credits(%s, %s, %s)", [account, f"race-{i:03}", COST]
                ).fetchone()
                assert row is not None
                results.append(row[0])
        except BaseException as exc:  # reported below
            failures.append(exc)

    def watcher() -> None:
        with pg_db.connect() as conn:
            while not done.is_set():
                row = conn.execute("select billing.balance(%s)", [account]).fetchone()
                assert row is not None
                balances.append(row[0])

    threads = [threading.Thread(target=racer, args=(i,)) for i in range(RACERS)]
    watch = threading.Thread(target=watcher)
    watch.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    done.set()
    watch.join(10)

    assert failures == []
    assert Counter(results) == {"reserved": 2, "insufficient": RACERS - 2}
    assert balances and min(balances) >= 0
    assert balance(pg_db, account) == 0 == ledger_sum(pg_db, account)
    reserved = pg_db.query(
        "select count(*), sum(amount) from public.credit_ledger where kind = 'reserve'"
    )
    assert reserved == [(2, -2 * COST)]


def test_role_helper_sets_what_postgrest_sets(pg_db: Database) -> None:
    user = pg_db.add_user()
    with pg_db.as_role("authenticated", user) as cur:
        cur.execute("select current_user, auth.uid(), auth.role(), auth.jwt() ->> 'sub'")
        assert cur.fetchone() == ("authenticated", uuid.UUID(user), "authenticated", user)
    assert pg_db.scalar("select current_user") != "authenticated"
