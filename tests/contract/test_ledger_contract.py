"""One contract for every Ledger adapter.

``sqlite`` is the embedded default; ``supabase`` is ``SupabaseLedger`` over a real
``supabase.Client`` whose HTTP goes to a PostgREST stand-in (``tests/postgrest.py``) that runs
the requests on a real PostgreSQL with the migrations of ``supabase/migrations/`` applied
(``tests/pg.py``; skipped locally, failed under ``CI=true``, when there is no PostgreSQL),
each calling thread on its own connection so that parallel requests race in the database;
``memory`` is the fake the service tests use (``tests/fake_ledger.py``).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from postgrest.exceptions import APIError

from shared.adapters.local.ledger import SqliteLedger  # the embedded adapter: must exist
from shared.adapters.supabase import ledger as supabase_ledger
from shared.adapters.supabase.ledger import SupabaseLedger
from shared.domain.errors import TransientError
from shared.ports.ledger import InsufficientCredits, Ledger, Plan
from tests.fake_ledger import MemoryLedger
from tests.pg import Database, pg_db, pg_server
from tests.postgrest import ANON_KEY, SERVICE_KEY, PostgrestStandIn, supabase_client

__all__ = ["pg_db", "pg_server"]  # fixtures, for the supabase adapter


@dataclass
class Bench:
    """A ledger, and how an account comes to exist before the ledger hears of it (signing
    up with the identity provider: for Supabase a row in ``auth.users``)."""

    ledger: Ledger
    sign_up: Callable[[], str]

    def account(self, credits: int = 0, plan: Plan = "free") -> str:
        user = self.sign_up()
        assert self.ledger.ensure_profile(user, f"{user[:8]}@example.com", plan)
        if credits:
            assert self.ledger.grant_monthly(user, "2026-11", credits)
        return user


def sqlite_bench(request: pytest.FixtureRequest, tmp: Path) -> Iterator[Bench]:
    yield Bench(SqliteLedger(tmp / "ledger.db"), lambda: str(uuid.uuid4()))


def supabase_bench(request: pytest.FixtureRequest, tmp: Path) -> Iterator[Bench]:
    db: Database = request.getfixturevalue("pg_db")
    stand_in = PostgrestStandIn(db, concurrent=True)
    try:
        yield Bench(SupabaseLedger(supabase_client(stand_in)), db.add_user)
    finally:
        stand_in.close()


def memory_bench(request: pytest.FixtureRequest, tmp: Path) -> Iterator[Bench]:
    yield Bench(MemoryLedger(), lambda: str(uuid.uuid4()))


ADAPTERS: dict[str, Callable[[pytest.FixtureRequest, Path], Iterator[Bench]]] = {
    "memory": memory_bench,
    "sqlite": sqlite_bench,
    "supabase": supabase_bench,
}


@pytest.fixture(params=sorted(ADAPTERS))
def bench(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Bench]:
    yield from ADAPTERS[request.param](request, tmp_path)


def balance(ledger: Ledger, user: str) -> int:
    profile = ledger.profile(user)
    assert profile is not None
    return profile.balance


# -- the contract ---------------------------------------------------------------------------


def test_ensure_profile_is_idempotent(bench: Bench) -> None:
    ledger, user = bench.ledger, bench.sign_up()
    assert ledger.profile(user) is None
    assert ledger.ensure_profile(user, "mina@example.com") is True
    assert ledger.ensure_profile(user, "other@example.com", "pro") is False
    profile = ledger.profile(user)
    assert profile is not None
    assert (profile.user_id, profile.email, profile.plan, profile.balance) == (
        user,
        "mina@example.com",
        "free",
        0,
    )
    uuid.UUID(profile.user_id)  # account ids are UUID strings


def test_an_empty_email_is_filled_when_an_address_becomes_known(bench: Bench) -> None:
    """A profile made from a token without the ``email`` claim (or a webhook without it)
    takes the first address that arrives; the owner's notifications go there."""
    ledger, user = bench.ledger, bench.sign_up()

    def email() -> str:
        profile = ledger.profile(user)
        assert profile is not None
        return profile.email

    assert ledger.ensure_profile(user, "") is True
    assert ledger.ensure_profile(user, "") is False and email() == ""
    assert ledger.ensure_profile(user, "mina@example.com", "pro") is False
    assert email() == "mina@example.com"
    assert ledger.ensure_profile(user, "other@example.com") is False  # never replaced here
    profile = ledger.profile(user)
    assert profile is not None and (profile.email, profile.plan) == ("mina@example.com", "free")


def test_set_plan(bench: Bench) -> None:
    user = bench.account(plan="pro")
    profile = bench.ledger.profile(user)
    assert profile is not None and profile.plan == "pro"
    bench.ledger.set_plan(user, "business")
    profile = bench.ledger.profile(user)
    assert profile is not None and profile.plan == "business"


def test_grant_once_per_period(bench: Bench) -> None:
    ledger, user = bench.ledger, bench.account()
    assert ledger.grant_monthly(user, "2026-11", 40) is True
    assert ledger.grant_monthly(user, "2026-11", 40) is False
    assert ledger.grant_monthly(user, "2026-11", 90) is False
    assert ledger.grant_monthly(user, "2026-12", 40) is True
    assert ledger.grant_monthly(user, "2027-01", 0) is True  # a plan without credits
    assert ledger.grant_monthly(user, "2027-01", 40) is False
    assert balance(ledger, user) == 80


def test_reserve_is_idempotent_on_the_tale(bench: Bench) -> None:
    ledger, user = bench.ledger, bench.account(credits=10)
    assert ledger.reserve(user, "tale-000001", 4) is True
    assert ledger.reserve(user, "tale-000001", 4) is False
    assert ledger.reserve(user, "tale-000001", 9) is False
    assert balance(ledger, user) == 6
    assert [e.kind for e in ledger.entries(user)] == ["grant", "reserve"]


def test_insufficient_credits(bench: Bench) -> None:
    ledger, user = bench.ledger, bench.account(credits=10)
    assert ledger.reserve(user, "tale-000001", 7) is True
    with pytest.raises(InsufficientCredits) as caught:
        ledger.reserve(user, "tale-000002", 4)
    assert (caught.value.needed, caught.value.balance) == (4, 3)
    assert len(ledger.entries(user)) == 2  # nothing written
    assert ledger.reserve(user, "tale-000002", 3) is True  # the exact balance is enough
    assert balance(ledger, user) == 0
    with pytest.raises(InsufficientCredits):
        ledger.reserve(user, "tale-000003", 1)


def test_no_account_no_credits(bench: Bench) -> None:
    with pytest.raises(InsufficientCredits) as caught:
        bench.ledger.reserve(bench.sign_up(), "tale-000001", 1)
    assert (caught.value.needed, caught.value.balance) == (1, 0)


def test_both_adapters_refuse_the_same_mistakes(bench: Bench) -> None:
    ledger, stranger = bench.ledger, bench.sign_up()
    with pytest.raises(LookupError):
        ledger.set_plan(stranger, "pro")
    with pytest.raises(LookupError):
        ledger.grant_monthly(stranger, "2026-11", 8)
    owner, other = bench.account(credits=8), bench.account(credits=8)
    with pytest.raises(ValueError):
        ledger.reserve(owner, "tale-000009", 0)
    with pytest.raises(ValueError):
        ledger.grant_monthly(owner, "November", 8)
    assert ledger.reserve(owner, "tale-000009", 2) is True
    with pytest.raises(ValueError):
        ledger.reserve(other, "tale-000009", 2)
    assert balance(ledger, other) == 8


def test_settle_at_most_once(bench: Bench) -> None:
    ledger, user = bench.ledger, bench.account(credits=10)
    assert ledger.settle("tale-000001") is False  # nothing reserved
    ledger.reserve(user, "tale-000001", 4)
    assert ledger.settle("tale-000001") is True
    assert ledger.settle("tale-000001") is False
    assert ledger.refund("tale-000001") is False  # never after a settle
    assert balance(ledger, user) == 6


def test_refund_at_most_once(bench: Bench) -> None:
    ledger, user = bench.ledger, bench.account(credits=10)
    assert ledger.refund("tale-000001") is False  # nothing reserved
    ledger.reserve(user, "tale-000001", 4)
    assert ledger.refund("tale-000001") is True
    assert ledger.refund("tale-000001") is False
    assert ledger.settle("tale-000001") is False  # never after a refund
    assert balance(ledger, user) == 10


def test_entries_are_signed_ordered_and_sum_to_the_balance(bench: Bench) -> None:
    ledger = bench.ledger
    user, other = bench.account(credits=10), bench.account(credits=5)
    ledger.reserve(user, "tale-000001", 3)
    ledger.reserve(user, "tale-000002", 2)
    ledger.reserve(other, "tale-000003", 5)
    ledger.settle("tale-000001")
    ledger.refund("tale-000002")
    ledger.grant_monthly(user, "2026-12", 7)
    entries = ledger.entries(user)
    assert [(e.kind, e.amount, e.tale_id, e.period) for e in entries] == [
        ("grant", 10, None, "2026-11"),
        ("reserve", -3, "tale-000001", None),
        ("reserve", -2, "tale-000002", None),
        ("settle", 0, "tale-000001", None),
        ("refund", 2, "tale-000002", None),
        ("grant", 7, None, "2026-12"),
    ]
    assert all(e.user_id == user for e in entries)
    assert [e.at for e in entries] == sorted(e.at for e in entries)
    assert sum(e.amount for e in entries) == balance(ledger, user) == 14
    assert sum(e.amount for e in ledger.entries(other)) == balance(ledger, other) == 0
    assert ledger.entries(bench.sign_up()) == []


def test_parallel_reservations_spend_each_credit_once(bench: Bench) -> None:
    ledger, user = bench.ledger, bench.account(credits=6)
    results: list[bool | str] = []

    def reserve(i: int) -> None:
        try:
            results.append(ledger.reserve(user, f"tale-{i:06}", 3))
        except InsufficientCredits:
            results.append("insufficient")

    threads = [threading.Thread(target=reserve, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(map(str, results)) == ["True"] * 2 + ["insufficient"] * 10
    assert balance(ledger, user) == 0 == sum(e.amount for e in ledger.entries(user))


# Any sequence of operations agrees with a model of the rules, and the books always balance.
USERS, TALES, PERIODS = 2, 4, ["2026-11", "2026-12"]
operations = st.lists(
    st.one_of(
        st.tuples(
            st.just("grant"),
            st.integers(0, USERS - 1),
            st.sampled_from(PERIODS),
            st.integers(0, 12),
        ),
        st.tuples(
            st.just("reserve"),
            st.integers(0, USERS - 1),
            st.integers(0, TALES - 1),
            st.integers(1, 8),
        ),
        st.tuples(
            st.sampled_from(["settle", "refund"]),
            st.integers(0, USERS - 1),
            st.integers(0, TALES - 1),
            st.just(0),
        ),
    ),
    max_size=16,
)


@settings(
    max_examples=20,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],  # fresh accounts per example
)
@given(operations)
def test_any_sequence_follows_the_rules(
    bench: Bench, ops: list[tuple[str, int, str | int, int]]
) -> None:
    ledger = bench.ledger
    users = [bench.account() for _ in range(USERS)]
    run = uuid.uuid4().hex[:8]
    balances = [0] * USERS
    granted: set[tuple[int, str | int]] = set()
    reserved: dict[str, int] = {}  # tale → amount
    closed: set[str] = set()
    for op, u, arg, amount in ops:
        tale = f"tale-{run}-{u}-{arg}"  # tales belong to one account
        if op == "grant":
            assert ledger.grant_monthly(users[u], str(arg), amount) is ((u, arg) not in granted)
            if (u, arg) not in granted:
                granted.add((u, arg))
                balances[u] += amount
        elif op == "reserve":
            if tale in reserved:
                assert ledger.reserve(users[u], tale, amount) is False
            elif balances[u] < amount:
                with pytest.raises(InsufficientCredits) as caught:
                    ledger.reserve(users[u], tale, amount)
                assert (caught.value.needed, caught.value.balance) == (amount, balances[u])
            else:
                assert ledger.reserve(users[u], tale, amount) is True
                reserved[tale] = amount
                balances[u] -= amount
        else:
            close = ledger.settle if op == "settle" else ledger.refund
            expected = tale in reserved and tale not in closed
            assert close(tale) is expected
            if expected:
                closed.add(tale)
                balances[u] += reserved[tale] if op == "refund" else 0
    for u, user in enumerate(users):
        assert balance(ledger, user) == balances[u] >= 0
        assert sum(e.amount for e in ledger.entries(user)) == balances[u]


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
def supabase(stand_in: PostgrestStandIn, naps: list[float]) -> SupabaseLedger:
    return SupabaseLedger(supabase_client(stand_in), attempts=3, backoff_s=0.5, sleep=naps.append)


@pytest.mark.parametrize(
    "fault",
    [
        httpx.ConnectError("connection refused"),
        httpx.ReadTimeout("timed out"),
        httpx.RemoteProtocolError("server disconnected"),
        502,
        503,
        504,
    ],
    ids=repr,
)
def test_transient_failures_are_retried(
    supabase: SupabaseLedger,
    stand_in: PostgrestStandIn,
    pg_db: Database,
    naps: list[float],
    fault: Exception | int,
) -> None:
    user = pg_db.add_user()
    stand_in.fail_next(fault, fault)
    assert supabase.ensure_profile(user, "a@example.com") is True
    assert naps == [0.5, 1.0]
    assert len(stand_in.requests) == 3


def test_postgrest_unavailable_codes_are_retried(
    supabase: SupabaseLedger, stand_in: PostgrestStandIn, pg_db: Database, naps: list[float]
) -> None:
    user = pg_db.add_user()
    body = {"code": "PGRST003", "message": "Timed out acquiring connection from connection pool."}
    stand_in.fail_next(httpx.Response(504, json=body))
    assert supabase.ensure_profile(user, "a@example.com") is True
    assert naps == [0.5]


def test_retries_are_bounded(
    supabase: SupabaseLedger, stand_in: PostgrestStandIn, naps: list[float]
) -> None:
    stand_in.fail_next(*[httpx.ConnectError("down")] * 5)
    with pytest.raises(TransientError) as caught:
        supabase.settle("tale-000001")
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert len(stand_in.requests) == 3
    assert naps == [0.5, 1.0]


@pytest.mark.parametrize("status", [400, 401, 500])
def test_other_failures_are_not_retried(
    supabase: SupabaseLedger, stand_in: PostgrestStandIn, naps: list[float], status: int
) -> None:
    stand_in.fail_next(status)
    with pytest.raises(APIError) as caught:
        supabase.settle("tale-000001")
    assert caught.value.code == str(status)
    assert len(stand_in.requests) == 1 and naps == []


def test_invalid_input_and_missing_accounts(supabase: SupabaseLedger, pg_db: Database) -> None:
    with pytest.raises(ValueError, match="UUID"):
        supabase.profile("user-1")
    with pytest.raises(LookupError):  # not a Supabase Auth user
        supabase.ensure_profile(str(uuid.uuid4()), "a@example.com")
    with pytest.raises(LookupError):
        supabase.set_plan(str(uuid.uuid4()), "pro")
    user = pg_db.add_user()
    supabase.ensure_profile(user, "a@example.com")
    with pytest.raises(ValueError, match="YYYY-MM"):
        supabase.grant_monthly(user, "November", 10)
    with pytest.raises(ValueError, match="positive"):
        supabase.reserve(user, "tale-000001", 0)
    with pytest.raises(ValueError):
        supabase.set_plan(user, "gold")  # type: ignore[arg-type]


def test_only_the_service_role_moves_credits(stand_in: PostgrestStandIn, pg_db: Database) -> None:
    user = pg_db.add_user()
    anon = SupabaseLedger(supabase_client(stand_in, ANON_KEY))
    with pytest.raises(APIError) as caught:
        anon.ensure_profile(user, "a@example.com")
    assert caught.value.code == "42501"
    with pytest.raises(APIError) as caught:
        anon.profile(user)
    assert caught.value.code == "42501"
    # The billing schema is not exposed at all.
    client = supabase_client(stand_in, SERVICE_KEY)
    with pytest.raises(APIError) as caught:
        client.schema("billing").rpc("balance", {"p_user": user}).execute()
    assert caught.value.code == "PGRST106"


def test_entries_are_read_in_pages(
    supabase: SupabaseLedger, pg_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(supabase_ledger, "PAGE_SIZE", 2)
    user = pg_db.add_user()
    supabase.ensure_profile(user, "a@example.com")
    for month in range(1, 6):
        supabase.grant_monthly(user, f"2026-{month:02}", month)
    assert [e.amount for e in supabase.entries(user)] == [1, 2, 3, 4, 5]


def test_from_settings_creates_the_client_on_first_use() -> None:
    ledger = SupabaseLedger.from_settings("http://supabase.test", SERVICE_KEY, timeout_s=3)
    assert ledger._client is None
    client = ledger.client
    assert ledger.client is client
    assert str(client.rest_url) == "http://supabase.test/rest/v1"
    session = client.postgrest.session  # built without postgrest-py's deprecated arguments
    assert session.timeout == httpx.Timeout(3)
    assert client.postgrest.retry_enabled is False
