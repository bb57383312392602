"""The ledger contract, continued: an edited storyboard reserves what its tale lacks
(``Ledger.reserve_more``), and a settlement keeps what the finished storyboard costs
(``settle(tale, cost)``) — on every adapter (SQLite, Supabase on PostgreSQL, the fake).

Every reserved credit of a tale moves exactly once: its one settlement or refund covers the
reservation and everything edits added to it."""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter
from pathlib import Path

import pytest

from shared.adapters.local.ledger import SqliteLedger
from shared.adapters.local.sqlite import Database
from shared.domain.errors import InsufficientCredits, SpendingCapExceeded
from shared.ports.ledger import Ledger
from tests.contract.test_admission_contract import admit
from tests.contract.test_ledger_contract import Bench, balance, bench
from tests.pg import pg_db, pg_server

__all__ = ["bench", "pg_db", "pg_server"]  # fixtures

PERIOD = "2026-11"


def more(
    ledger: Ledger,
    user: str,
    tale: str,
    *,
    credits: int,
    usd: float = 1.0,
    version: int = 2,
    cap: float = 100.0,
    period: str = PERIOD,
) -> bool:
    return ledger.reserve_more(
        user,
        tale,
        version=version,
        credits=credits,
        estimate_usd=usd,
        period=period,
        cap_usd=cap,
    )


def held(ledger: Ledger, user: str, tale: str) -> int:
    return -sum(
        e.amount for e in ledger.entries(user) if e.tale_id == tale and e.kind.startswith("reserve")
    )


def test_an_edit_reserves_only_what_its_tale_lacks(bench: Bench) -> None:
    ledger, user = bench.ledger, bench.account(credits=10)
    assert admit(ledger, user, "tale-a", credits=4, usd=1.0)
    assert more(ledger, user, "tale-a", credits=6, usd=1.0) is True
    assert balance(ledger, user) == 4 and held(ledger, user, "tale-a") == 6
    assert more(ledger, user, "tale-a", credits=6, usd=1.0) is False  # a retry: nothing more
    assert more(ledger, user, "tale-a", credits=5, usd=0.5, version=3) is False  # needs less
    assert more(ledger, user, "tale-a", credits=6, usd=1.0, version=4) is False  # back: held
    assert more(ledger, user, "tale-a", credits=7, usd=1.0, version=5) is True
    assert balance(ledger, user) == 3
    kinds = [(e.kind, e.amount) for e in ledger.entries(user) if e.tale_id == "tale-a"]
    assert kinds == [("reserve", -4), ("reserve_more", -2), ("reserve_more", -1)]
    assert sum(e.amount for e in ledger.entries(user)) == balance(ledger, user)


def test_a_refund_returns_everything_the_tale_holds_once(bench: Bench) -> None:
    ledger, user = bench.ledger, bench.account(credits=10)
    assert admit(ledger, user, "tale-a", credits=4)
    assert more(ledger, user, "tale-a", credits=9)
    assert balance(ledger, user) == 1
    assert ledger.refund("tale-a") is True
    assert ledger.refund("tale-a") is False
    assert ledger.settle("tale-a", 3) is False
    assert balance(ledger, user) == 10
    assert [e.amount for e in ledger.entries(user) if e.kind == "refund"] == [9]
    assert more(ledger, user, "tale-a", credits=10, version=3) is False  # closed: over


@pytest.mark.parametrize(
    ("cost", "kept"),
    [(None, 7), (7, 7), (3, 3), (99, 7), (0, 0)],
    ids=["all", "exact", "less", "never-more-than-held", "nothing"],
)
def test_a_settlement_keeps_what_the_storyboard_cost(
    bench: Bench, cost: int | None, kept: int
) -> None:
    ledger, user = bench.ledger, bench.account(credits=10)
    assert admit(ledger, user, "tale-a", credits=4)
    assert more(ledger, user, "tale-a", credits=7)
    assert ledger.settle("tale-a", cost) is True
    assert ledger.settle("tale-a", cost) is False
    assert ledger.refund("tale-a") is False
    assert balance(ledger, user) == 10 - kept
    [settled] = [e for e in ledger.entries(user) if e.kind == "settle"]
    assert settled.amount == 7 - kept
    assert sum(e.amount for e in ledger.entries(user)) == balance(ledger, user)


def test_a_settlement_of_an_unedited_tale_at_its_cost_returns_nothing(bench: Bench) -> None:
    ledger, user = bench.ledger, bench.account(credits=10)
    assert ledger.reserve(user, "tale-a", 4)
    assert ledger.settle("tale-a", 4) is True
    assert [e.amount for e in ledger.entries(user) if e.kind == "settle"] == [0]
    with pytest.raises(ValueError):
        ledger.settle("tale-b", -1)


def test_the_difference_must_be_covered_by_the_balance(bench: Bench) -> None:
    ledger, user = bench.ledger, bench.account(credits=6)
    assert admit(ledger, user, "tale-a", credits=4)
    with pytest.raises(InsufficientCredits) as caught:
        more(ledger, user, "tale-a", credits=7)
    assert (caught.value.needed, caught.value.balance) == (3, 2)  # the difference
    assert balance(ledger, user) == 2 and held(ledger, user, "tale-a") == 4  # nothing written
    assert more(ledger, user, "tale-a", credits=6)  # the exact balance is enough
    assert balance(ledger, user) == 0


def test_the_cap_applies_to_the_increase(bench: Bench) -> None:
    ledger, user = bench.ledger, bench.account(credits=20)
    assert admit(ledger, user, "tale-a", credits=2, usd=1.0, cap=3, running=9)
    assert admit(ledger, user, "tale-b", credits=2, usd=1.5, cap=3, running=9)
    with pytest.raises(SpendingCapExceeded) as caught:
        more(ledger, user, "tale-a", credits=2, usd=1.500001, cap=3)  # +0.500001
    refused = caught.value
    assert (refused.estimate_usd, refused.committed_usd, refused.cap_usd) == (0.500001, 2.5, 3)
    assert refused.month == PERIOD
    assert more(ledger, user, "tale-a", credits=2, usd=1.5, cap=3) is True  # exactly the cap
    with pytest.raises(SpendingCapExceeded):  # the additions count for later admissions
        admit(ledger, user, "tale-c", credits=1, usd=0.01, cap=3, running=9)
    assert more(ledger, user, "tale-a", credits=3, usd=1.0, cap=3, version=3) is True
    # An estimate that does not grow needs no room under the cap; credits still come first
    # from the balance.
    assert held(ledger, user, "tale-a") == 3


def test_the_cap_is_checked_before_the_balance(bench: Bench) -> None:
    ledger, user = bench.ledger, bench.account(credits=4)
    assert admit(ledger, user, "tale-a", credits=4, usd=1.0, cap=1)
    with pytest.raises(SpendingCapExceeded):
        more(ledger, user, "tale-a", credits=9, usd=2.0, cap=1)
    with pytest.raises(InsufficientCredits):
        more(ledger, user, "tale-a", credits=9, usd=1.0, cap=1)


def test_a_tale_never_reserved_is_not_charged(bench: Bench) -> None:
    ledger, user = bench.ledger, bench.account(credits=5)
    assert more(ledger, user, "operator-tale", credits=3) is False
    assert balance(ledger, user) == 5 and ledger.entries(user)[1:] == []


def test_impossible_requests_are_refused(bench: Bench) -> None:
    ledger, owner, other = bench.ledger, bench.account(credits=9), bench.account(credits=9)
    assert admit(ledger, owner, "tale-a", credits=2)
    for mistake in [{"credits": 0}, {"version": 0}, {"usd": -1.0}, {"cap": -1.0}, {"period": "x"}]:
        with pytest.raises(ValueError):
            more(ledger, owner, "tale-a", **{"credits": 3, **mistake})  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        more(ledger, other, "tale-a", credits=3)  # another account's tale
    assert balance(ledger, other) == 9 and balance(ledger, owner) == 7


def test_parallel_edits_of_one_tale_reserve_the_largest_need_once(bench: Bench) -> None:
    """Two tabs (or a retry racing its original) asking at once: the tale ends up holding
    what the larger edit needs, reserved once, whatever the order."""
    ledger, user = bench.ledger, bench.account(credits=30)
    assert admit(ledger, user, "tale-a", credits=4)
    start = threading.Barrier(12, timeout=30)
    outcomes: list[str] = []

    def edit(i: int) -> None:
        start.wait()
        try:
            outcomes.append(str(more(ledger, user, "tale-a", credits=6 + i % 3)))
        except BaseException as exc:  # reported by the assertion
            outcomes.append(repr(exc))

    threads = [threading.Thread(target=edit, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert set(Counter(outcomes)) <= {"True", "False"} and "True" in outcomes
    assert held(ledger, user, "tale-a") == 8
    assert balance(ledger, user) == 22


# -- the SQLite adapter itself ------------------------------------------------------------------

OLD_LEDGER = """
CREATE TABLE profiles (
    user_id TEXT PRIMARY KEY, email TEXT NOT NULL, plan TEXT NOT NULL
        CHECK (plan IN ('free', 'pro', 'business')),
    created_at REAL NOT NULL
);
CREATE TABLE credit_ledger (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL REFERENCES profiles(user_id),
    kind TEXT NOT NULL CHECK (kind IN ('grant', 'reserve', 'settle', 'refund')),
    amount INTEGER NOT NULL, tale_id TEXT, period TEXT, at REAL NOT NULL,
    estimate_micro_usd INTEGER, spend_period TEXT
);
CREATE UNIQUE INDEX one_grant_per_period
    ON credit_ledger(user_id, period) WHERE kind = 'grant';
CREATE UNIQUE INDEX one_per_tale
    ON credit_ledger(tale_id, kind) WHERE kind IN ('reserve', 'settle', 'refund');
CREATE TRIGGER ledger_no_update BEFORE UPDATE ON credit_ledger
    BEGIN SELECT RAISE(ABORT, 'the credit ledger is append-only'); END;
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON credit_ledger
    BEGIN SELECT RAISE(ABORT, 'the credit ledger is append-only'); END;
INSERT INTO profiles VALUES ('u', 'u@example.com', 'free', 0);
INSERT INTO credit_ledger (user_id, kind, amount, period, at)
    VALUES ('u', 'grant', 10, '2026-11', 0);
INSERT INTO credit_ledger (user_id, kind, amount, tale_id, at, estimate_micro_usd, spend_period)
    VALUES ('u', 'reserve', -2, 'tale-old', 1, 500000, '2026-11');
"""


def test_a_ledger_made_before_edits_is_rebuilt_with_every_row(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    old = Database(path, OLD_LEDGER)
    old.close()
    opened: list[SqliteLedger] = []
    threads = [threading.Thread(target=lambda: opened.append(SqliteLedger(path))) for _ in range(4)]
    for thread in threads:  # opened by several at once: rebuilt once
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(opened) == 4
    ledger = SqliteLedger(path)
    assert [(e.kind, e.amount, e.tale_id) for e in ledger.entries("u")] == [
        ("grant", 10, None),
        ("reserve", -2, "tale-old"),
    ]
    assert more(ledger, "u", "tale-old", credits=3, usd=0.5) is True  # the estimate is kept
    assert more(ledger, "u", "tale-old", credits=3, usd=0.75, version=3) is True
    assert ledger.settle("tale-old", 3) is True
    assert balance(ledger, "u") == 7
    assert ledger.entries("u")[-1].kind == "settle"
    # still append-only, still one reservation per tale
    with pytest.raises(sqlite3.IntegrityError, match="append-only"), ledger.db.transaction() as db:
        db.execute("DELETE FROM credit_ledger")
    with pytest.raises(ValueError):
        ledger.reserve("v", "tale-old", 1)
    new_id = ledger.db.read("SELECT MAX(id) AS m FROM credit_ledger")[0]["m"]
    assert new_id == 5  # ids continue after the old rows
