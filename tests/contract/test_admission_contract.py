"""The ledger contract, continued: admitting a new tale (``Ledger.admit``) on every adapter —
the running-tale limit, the monthly spending cap and the balance, checked and reserved in one
transaction, so that parallel admissions cannot race past a limit."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

import pytest

from shared.adapters.local.ledger import SqliteLedger
from shared.adapters.local.sqlite import Database
from shared.domain.errors import InsufficientCredits, SpendingCapExceeded, TooManyRunningTales
from shared.ports.ledger import Ledger
from tests.contract.test_ledger_contract import Bench, balance, bench
from tests.pg import pg_db, pg_server

__all__ = ["bench", "pg_db", "pg_server"]  # fixtures

PERIOD, NEXT = "2026-11", "2026-12"
RACERS = 50


def admit(
    ledger: Ledger,
    user: str,
    tale: str,
    *,
    credits: int = 1,
    usd: float = 1.0,
    period: str = PERIOD,
    cap: float = 100.0,
    running: int = 3,
) -> bool:
    return ledger.admit(
        user,
        tale,
        credits=credits,
        estimate_usd=usd,
        period=period,
        cap_usd=cap,
        max_running=running,
    )


def test_admission_reserves_once_per_tale(bench: Bench) -> None:
    ledger, user = bench.ledger, bench.account(credits=10)
    assert admit(ledger, user, "tale-a", credits=4) is True
    assert admit(ledger, user, "tale-a", credits=4) is False
    # Admitted before: no limit is checked again, even one that would refuse it now.
    assert admit(ledger, user, "tale-a", credits=9, usd=50, cap=1, running=1) is False
    assert balance(ledger, user) == 6
    entries = ledger.entries(user)
    assert [(e.kind, e.amount, e.tale_id, e.period) for e in entries][1:] == [
        ("reserve", -4, "tale-a", None)
    ]
    assert ledger.reserve(user, "tale-a", 4) is False  # the same reservation
    assert ledger.settle("tale-a") is True


def test_running_tales_are_reservations_neither_settled_nor_refunded(bench: Bench) -> None:
    ledger, user = bench.ledger, bench.account(credits=10)
    assert admit(ledger, user, "tale-a", running=2)
    assert ledger.reserve(user, "tale-b", 1)  # a reservation without limits counts too
    with pytest.raises(TooManyRunningTales) as caught:
        admit(ledger, user, "tale-c", running=2)
    assert (caught.value.running, caught.value.limit) == (2, 2)
    assert "2 tales in progress" in str(caught.value) and "limit is 2" in str(caught.value)
    assert balance(ledger, user) == 8  # nothing reserved
    assert ledger.settle("tale-a")
    assert admit(ledger, user, "tale-c", running=2)
    assert ledger.refund("tale-b")
    assert admit(ledger, user, "tale-d", running=2)
    other = bench.account(credits=10)  # each account has its own
    assert admit(ledger, other, "tale-e", running=1)


def test_the_cap_counts_this_periods_admissions_whatever_became_of_them(bench: Bench) -> None:
    ledger, user = bench.ledger, bench.account(credits=10)
    assert admit(ledger, user, "tale-a", running=99, usd=1.25, cap=3)
    assert ledger.refund("tale-a")  # failed or cancelled: its estimate still counts
    assert admit(ledger, user, "tale-b", running=99, usd=1.25, cap=3)
    with pytest.raises(SpendingCapExceeded) as caught:
        admit(ledger, user, "tale-c", running=99, usd=0.500001, cap=3)
    refused = caught.value
    assert (refused.estimate_usd, refused.committed_usd, refused.cap_usd) == (0.500001, 2.5, 3)
    assert refused.month == PERIOD and "November 2026" in str(refused)
    assert admit(ledger, user, "tale-c", running=99, usd=0.5, cap=3)  # exactly the cap is within it
    assert admit(ledger, user, "tale-d", running=99, usd=2.5, cap=3, period=NEXT)  # a new month
    assert admit(ledger, user, "tale-e", running=99, usd=0, cap=3)  # a tale that costs nothing
    assert ledger.reserve(user, "tale-f", 1)  # a reservation without an estimate: nothing
    assert admit(ledger, user, "tale-g", running=99, usd=0.5, cap=3, period=NEXT)


def test_the_balance_is_checked_last(bench: Bench) -> None:
    ledger, user = bench.ledger, bench.account(credits=3)
    with pytest.raises(InsufficientCredits) as caught:
        admit(ledger, user, "tale-a", credits=4)
    assert (caught.value.needed, caught.value.balance) == (4, 3)
    assert admit(ledger, user, "tale-a", credits=3)  # the exact balance is enough
    with pytest.raises(SpendingCapExceeded):  # the cap before the balance
        admit(ledger, user, "tale-b", credits=1, usd=2, cap=2.5)
    with pytest.raises(TooManyRunningTales):  # the running limit before both
        admit(ledger, user, "tale-b", credits=1, usd=2, cap=2.5, running=1)
    with pytest.raises(InsufficientCredits) as caught:
        admit(ledger, bench.sign_up(), "tale-c")  # no account, no credits
    assert (caught.value.needed, caught.value.balance) == (1, 0)
    assert balance(ledger, user) == 0 == sum(e.amount for e in ledger.entries(user))


def test_admission_refuses_impossible_requests(bench: Bench) -> None:
    ledger, owner, other = bench.ledger, bench.account(credits=5), bench.account(credits=5)
    for mistake in [
        {"credits": 0},
        {"period": "November"},
        {"usd": -1.0},
        {"cap": -1.0},
        {"running": 0},
    ]:
        with pytest.raises(ValueError):
            admit(ledger, owner, "tale-a", **mistake)  # type: ignore[arg-type]
    assert admit(ledger, owner, "tale-a")
    with pytest.raises(ValueError):
        admit(ledger, other, "tale-a")  # another account's tale
    assert balance(ledger, other) == 5


def race(bench: Bench, user: str, **limits: float) -> Counter[str]:
    """``RACERS`` admissions of different tales at once (a barrier lines them up)."""
    start = threading.Barrier(RACERS, timeout=30)
    outcomes: list[str] = []

    def racer(i: int) -> None:
        start.wait()
        try:
            outcomes.append(str(admit(bench.ledger, user, f"race-{i:03}", **limits)))  # type: ignore[arg-type]
        except (TooManyRunningTales, SpendingCapExceeded, InsufficientCredits) as exc:
            outcomes.append(type(exc).__name__)
        except BaseException as exc:  # reported by the assertion
            outcomes.append(repr(exc))

    threads = [threading.Thread(target=racer, args=(i,)) for i in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return Counter(outcomes)


def test_parallel_admissions_respect_the_running_limit(bench: Bench) -> None:
    user = bench.account(credits=100)
    assert race(bench, user, running=3) == {"True": 3, "TooManyRunningTales": RACERS - 3}
    assert balance(bench.ledger, user) == 97


def test_parallel_admissions_respect_the_spending_cap(bench: Bench) -> None:
    user = bench.account(credits=100)
    outcomes = race(bench, user, usd=1.0, cap=2.5, running=1000)
    assert outcomes == {"True": 2, "SpendingCapExceeded": RACERS - 2}
    assert balance(bench.ledger, user) == 98


def test_parallel_admissions_never_overdraw(bench: Bench) -> None:
    user = bench.account(credits=4)
    outcomes = race(bench, user, credits=2, running=1000)
    assert outcomes == {"True": 2, "InsufficientCredits": RACERS - 2}
    assert balance(bench.ledger, user) == 0


# -- the SQLite adapter itself ------------------------------------------------------------------

EARLIER_SCHEMA = """
CREATE TABLE profiles (
    user_id TEXT PRIMARY KEY, email TEXT NOT NULL, plan TEXT NOT NULL
        CHECK (plan IN ('free', 'pro', 'business')),
    created_at REAL NOT NULL
);
CREATE TABLE credit_ledger (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL REFERENCES profiles(user_id),
    kind TEXT NOT NULL CHECK (kind IN ('grant', 'reserve', 'settle', 'refund')),
    amount INTEGER NOT NULL, tale_id TEXT, period TEXT, at REAL NOT NULL
);
CREATE UNIQUE INDEX one_grant_per_period
    ON credit_ledger(user_id, period) WHERE kind = 'grant';
CREATE UNIQUE INDEX one_per_tale
    ON credit_ledger(tale_id, kind) WHERE kind IN ('reserve', 'settle', 'refund');
CREATE TRIGGER ledger_no_update BEFORE UPDATE ON credit_ledger
    BEGIN SELECT RAISE(ABORT, 'the credit ledger is append-only'); END;
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON credit_ledger
    BEGIN SELECT RAISE(ABORT, 'the credit ledger is append-only'); END;
"""
"""The ledger's schema before admissions (and before edits and paid plans): what an earlier
home holds, written out here because ``SCHEMA`` follows the code."""


def test_an_earlier_sqlite_database_is_migrated(tmp_path: Path) -> None:
    """A ledger made before admissions: its columns are added when it is opened, and its
    reservations count as running tales and as nothing against a cap."""
    path = tmp_path / "ledger.db"
    old = Database(path, EARLIER_SCHEMA)
    with old.transaction() as db:
        db.execute("INSERT INTO profiles VALUES ('u', 'u@example.com', 'free', 0)")
        db.execute(
            "INSERT INTO credit_ledger (user_id, kind, amount, period, at) "
            "VALUES ('u', 'grant', 10, '2026-11', 0)"
        )
        db.execute(
            "INSERT INTO credit_ledger (user_id, kind, amount, tale_id, at) "
            "VALUES ('u', 'reserve', -2, 'tale-old', 0)"
        )
    old.close()
    opened: list[SqliteLedger] = []
    threads = [threading.Thread(target=lambda: opened.append(SqliteLedger(path))) for _ in range(4)]
    for thread in threads:  # opened by several at once: each adds what is missing, once
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(opened) == 4
    ledger = opened[0]
    with pytest.raises(TooManyRunningTales):
        admit(ledger, "u", "tale-new", running=1)
    assert admit(ledger, "u", "tale-new", usd=5, cap=5, running=2)
    assert balance(ledger, "u") == 7
    assert SqliteLedger(path).entries("u")[-1].tale_id == "tale-new"
    profile = ledger.profile("u")  # the profile gets the paid-plan column, unsubscribed
    assert profile is not None and (profile.balance, profile.subscribed) == (7, False)
