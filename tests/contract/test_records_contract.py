"""One contract for every TaleRecords adapter.

``sqlite`` is the embedded default; ``supabase`` is ``SupabaseTaleRecords`` over a real
``supabase.Client`` whose HTTP goes to the PostgREST stand-in (``tests/postgrest.py``) on a
real PostgreSQL with the migrations applied (``tests/pg.py``; skipped locally, failed under
``CI=true``, when there is no PostgreSQL). ``public.tales`` belongs to a profile, so the
owners are signed up and given one first.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pytest

from shared.adapters.local.records import SqliteTaleRecords
from shared.adapters.supabase.ledger import SupabaseLedger
from shared.adapters.supabase.records import SupabaseTaleRecords
from shared.domain.errors import TransientError
from shared.ports.records import PublicTale, TaleRecords
from tests.pg import Database, pg_db, pg_server
from tests.postgrest import PostgrestStandIn, supabase_client

__all__ = ["pg_db", "pg_server"]  # fixtures, for the supabase adapter

MS = 1e-3


@dataclass
class Bench:
    """Tale records, and how an owner comes to exist (for Supabase: a user in
    ``auth.users`` with a profile)."""

    records: TaleRecords
    owner: Callable[[], str]


def sqlite_bench(request: pytest.FixtureRequest, tmp: Path) -> Iterator[Bench]:
    yield Bench(SqliteTaleRecords(tmp / "records.db"), lambda: str(uuid.uuid4()))


def supabase_bench(request: pytest.FixtureRequest, tmp: Path) -> Iterator[Bench]:
    db: Database = request.getfixturevalue("pg_db")
    stand_in = PostgrestStandIn(db)
    ledger = SupabaseLedger(supabase_client(stand_in))

    def owner() -> str:
        user = db.add_user()
        assert ledger.ensure_profile(user, f"{user[:8]}@example.com")
        return user

    try:
        yield Bench(SupabaseTaleRecords(supabase_client(stand_in)), owner)
    finally:
        stand_in.close()


ADAPTERS: dict[str, Callable[[pytest.FixtureRequest, Path], Iterator[Bench]]] = {
    "sqlite": sqlite_bench,
    "supabase": supabase_bench,
}


@pytest.fixture(params=sorted(ADAPTERS))
def bench(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Bench]:
    yield from ADAPTERS[request.param](request, tmp_path)


def make_tale(owner: str, tale_id: str = "tale-000001", **changes: object) -> PublicTale:
    now = time.time()
    tale = PublicTale(
        tale_id=tale_id,
        owner=owner,
        title="Mina and the fox",
        status="rendering",
        stage="render",
        progress=40,
        poster_path="tales/tale-000001/poster.png",
        video_path=None,
        error_reason=None,
        created_at=now - 60.123456,
        updated_at=now,
        shot_count=8,
        shots_rendered=3,
        shots_voiced=2,
    )
    return replace(tale, **changes)  # type: ignore[arg-type]


def assert_same(got: PublicTale | None, want: PublicTale, *, updated_at: bool = True) -> None:
    """Equal, the timestamps to within a millisecond (``updated_at`` only when asked)."""
    assert got is not None
    assert got.created_at == pytest.approx(want.created_at, abs=MS)
    if updated_at:
        assert got.updated_at == pytest.approx(want.updated_at, abs=MS)
    assert replace(got, created_at=want.created_at, updated_at=want.updated_at) == want


# -- the contract ---------------------------------------------------------------------------


def test_upsert_then_get_round_trips_every_field(bench: Bench) -> None:
    owner = bench.owner()
    tale = make_tale(owner)
    bench.records.upsert(tale)
    assert_same(bench.records.get(tale.tale_id), tale)
    failed = make_tale(
        owner,
        "tale-000002",
        status="failed",
        stage="stitch",
        progress=100,
        poster_path=None,
        error_reason="the video provider refused the prompt",
        error_stage="rendering",
        created_at=1_700_000_000.000001,
        updated_at=1_700_000_123.5,
    )
    bench.records.upsert(failed)
    assert_same(bench.records.get(failed.tale_id), failed)
    assert_same(bench.records.get(tale.tale_id), tale)  # untouched


def test_a_second_upsert_replaces_the_record(bench: Bench) -> None:
    owner = bench.owner()
    first = make_tale(owner)
    bench.records.upsert(first)
    second = replace(
        first,
        status="completed",
        stage="done",
        progress=100,
        poster_path="tales/tale-000001/poster-2.png",
        video_path="tales/tale-000001/tale.mp4",
        updated_at=first.updated_at + 0.5,
    )
    bench.records.upsert(second)
    got = bench.records.get(first.tale_id)
    # On Supabase the table's trigger stamps updated_at with the database's clock when a row
    # is replaced; either way it does not go back.
    assert_same(got, second, updated_at=False)
    assert got is not None and got.updated_at >= first.updated_at - MS
    bench.records.upsert(second)  # idempotent
    assert_same(bench.records.get(first.tale_id), second, updated_at=False)


def test_get_of_an_unknown_tale_is_none(bench: Bench) -> None:
    assert bench.records.get("tale-unknown") is None
    bench.records.upsert(make_tale(bench.owner()))
    assert bench.records.get("tale-unknown") is None


# -- the Supabase adapter itself ------------------------------------------------------------


@pytest.fixture
def stand_in(pg_db: Database) -> Iterator[PostgrestStandIn]:
    stand_in = PostgrestStandIn(pg_db)
    yield stand_in
    stand_in.close()


@pytest.fixture
def naps() -> list[float]:
    return []


@pytest.fixture
def supabase(stand_in: PostgrestStandIn, naps: list[float]) -> SupabaseTaleRecords:
    client = supabase_client(stand_in)
    return SupabaseTaleRecords(client, attempts=3, backoff_s=0.5, sleep=naps.append)


def owner_of(stand_in: PostgrestStandIn, pg_db: Database) -> str:
    user = pg_db.add_user()
    SupabaseLedger(supabase_client(stand_in)).ensure_profile(user, "a@example.com")
    return user


def test_rls_lets_only_the_owner_read_the_row(
    supabase: SupabaseTaleRecords, stand_in: PostgrestStandIn, pg_db: Database
) -> None:
    owner, other = owner_of(stand_in, pg_db), owner_of(stand_in, pg_db)
    tale = make_tale(owner)
    supabase.upsert(tale)
    with pg_db.as_role("authenticated", owner) as cur:
        cur.execute("select id, owner::text, progress from public.tales")
        assert cur.fetchall() == [(tale.tale_id, owner, tale.progress)]
    with pg_db.as_role("authenticated", other) as cur:
        cur.execute("select id from public.tales")
        assert cur.fetchall() == []
    with pg_db.as_role("anon") as cur:
        cur.execute("select has_table_privilege('public.tales', 'select')")
        assert cur.fetchone() == (False,)


def test_upsert_is_sent_as_a_postgrest_upsert(
    supabase: SupabaseTaleRecords, stand_in: PostgrestStandIn, pg_db: Database
) -> None:
    supabase.upsert(make_tale(owner_of(stand_in, pg_db)))
    assert stand_in.requests[-1] == ("POST", "/rest/v1/tales")
    timestamps = pg_db.query("select created_at < updated_at from public.tales")
    assert timestamps == [(True,)]  # timestamptz values, not text


def test_transient_failures_are_retried(
    supabase: SupabaseTaleRecords,
    stand_in: PostgrestStandIn,
    pg_db: Database,
    naps: list[float],
) -> None:
    tale = make_tale(owner_of(stand_in, pg_db))
    stand_in.fail_next(httpx.ConnectError("refused"), 503)
    supabase.upsert(tale)
    stand_in.fail_next(httpx.ReadTimeout("timed out"))
    assert_same(supabase.get(tale.tale_id), tale)
    assert naps == [0.5, 1.0, 0.5]
    stand_in.fail_next(*[502] * 3)
    with pytest.raises(TransientError):
        supabase.get(tale.tale_id)


def test_refusals_are_translated(
    supabase: SupabaseTaleRecords, stand_in: PostgrestStandIn, pg_db: Database
) -> None:
    with pytest.raises(ValueError, match="UUID"):
        supabase.upsert(make_tale("user-1"))
    with pytest.raises(LookupError):  # signed up, but without a profile
        supabase.upsert(make_tale(pg_db.add_user()))
    owner = owner_of(stand_in, pg_db)
    with pytest.raises(ValueError):
        supabase.upsert(make_tale(owner, status="lost"))
    with pytest.raises(ValueError):
        supabase.upsert(make_tale(owner, progress=101))
    assert supabase.get("tale-000001") is None


def test_from_settings_creates_the_client_on_first_use() -> None:
    records = SupabaseTaleRecords.from_settings("http://supabase.test", "key", timeout_s=3)
    assert records._client is None
    assert records.client is records.client
    assert str(records.client.rest_url) == "http://supabase.test/rest/v1"


def test_sqlite_records_of_an_older_home_gain_the_new_columns(tmp_path: Path) -> None:
    """A home made before the progress fields existed opens with them (at their defaults)."""
    import sqlite3

    old = sqlite3.connect(tmp_path / "records.db")
    old.execute(
        "CREATE TABLE tales (tale_id TEXT PRIMARY KEY, owner TEXT NOT NULL, title TEXT NOT "
        "NULL, status TEXT NOT NULL, stage TEXT NOT NULL, progress INTEGER NOT NULL, "
        "poster_path TEXT, video_path TEXT, error_reason TEXT, created_at REAL NOT NULL, "
        "updated_at REAL NOT NULL)"
    )
    old.execute(
        "INSERT INTO tales VALUES ('tale-old', 'u', 't', 'rendering', 'shots', 40, NULL, NULL, "
        "NULL, 1.0, 2.0)"
    )
    old.commit()
    old.close()
    records = SqliteTaleRecords(tmp_path / "records.db")
    got = records.get("tale-old")
    assert got is not None and (got.shot_count, got.shots_rendered, got.error_stage) == (0, 0, None)
    records.upsert(replace(got, shot_count=8, shots_rendered=2))
    assert records.get("tale-old") == replace(got, shot_count=8, shots_rendered=2)
