"""The ledger contract, continued: open reservations (``Ledger.open_reservations``) and what
``Ledger.admit`` does with a tale whose reservation is closed — on every adapter (SQLite,
Supabase over a real PostgreSQL, the in-memory fake)."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from shared.domain.errors import SubmissionExpired
from shared.ports.ledger import Ledger, OpenReservation
from tests.contract.test_admission_contract import admit
from tests.contract.test_ledger_contract import Bench, balance, bench
from tests.pg import pg_db, pg_server

__all__ = ["bench", "pg_db", "pg_server"]  # fixtures

LATER = 3600.0
"""Far enough ahead that every reservation made in a test is older."""


def mine(ledger: Ledger, *users: str) -> list[OpenReservation]:
    """The open reservations of these accounts (a Supabase database may hold others')."""
    return [r for r in ledger.open_reservations(time.time() + LATER) if r.user_id in users]


def test_open_reservations_are_those_neither_settled_nor_refunded(bench: Bench) -> None:
    ledger = bench.ledger
    alice, bob = bench.account(credits=20), bench.account(credits=20)
    assert admit(ledger, alice, "tale-c", credits=2)
    assert admit(ledger, alice, "tale-a", credits=3)
    assert ledger.reserve(bob, "tale-b", 4)  # a reservation without limits is one too
    assert admit(ledger, bob, "tale-d.r1", credits=1)  # a revision's key
    assert admit(ledger, alice, "tale-e")
    assert ledger.settle("tale-e")
    assert admit(ledger, bob, "tale-f")
    assert ledger.refund("tale-f")
    found = mine(ledger, alice, bob)
    assert [(r.tale_id, r.user_id, r.credits) for r in found] == [
        ("tale-a", alice, 3),
        ("tale-b", bob, 4),
        ("tale-c", alice, 2),
        ("tale-d.r1", bob, 1),
    ]
    assert all(abs(r.opened_at - time.time()) < 60 for r in found)  # the ledger's clock
    assert balance(ledger, alice) == 14  # reading changes nothing


def test_only_reservations_made_before_the_moment(bench: Bench) -> None:
    ledger, user = bench.ledger, bench.account(credits=10)
    assert admit(ledger, user, "tale-old")
    time.sleep(0.05)
    moment = time.time()
    time.sleep(0.05)
    assert admit(ledger, user, "tale-new")
    before = [r.tale_id for r in ledger.open_reservations(moment) if r.user_id == user]
    assert before == ["tale-old"]
    assert [r.tale_id for r in mine(ledger, user)] == ["tale-new", "tale-old"]
    assert not [r for r in ledger.open_reservations(moment - LATER) if r.user_id == user]


def test_open_reservations_come_in_pages(bench: Bench) -> None:
    ledger, user = bench.ledger, bench.account(credits=10)
    keys = [f"tale-p{i}" for i in range(5)]
    for key in reversed(keys):
        assert admit(ledger, user, key, running=10)
    pages, after = [], ""
    while page := ledger.open_reservations(time.time() + LATER, after=after, limit=2):
        pages.append([r.tale_id for r in page if r.user_id == user])
        after = page[-1].tale_id
    assert [k for page in pages for k in page] == keys
    assert all(len(page) <= 2 for page in pages)
    with pytest.raises(ValueError):
        ledger.open_reservations(time.time(), limit=0)


def test_a_closed_reservation_is_never_admitted_again(bench: Bench) -> None:
    """A retry under the ``Idempotency-Key`` of a request that died before creating its
    tale: while the reservation is open it is reused (no second charge); once it was refunded
    (the sweep) or settled, admitting the tale again is refused and writes nothing."""
    ledger, user = bench.ledger, bench.account(credits=10)
    assert admit(ledger, user, "tale-a", credits=3)
    assert admit(ledger, user, "tale-a", credits=3) is False  # open: reused
    assert ledger.refund("tale-a")
    entries = len(ledger.entries(user))
    with pytest.raises(SubmissionExpired) as caught:
        admit(ledger, user, "tale-a", credits=3)
    assert caught.value.tale_id == "tale-a" and "new Idempotency-Key" in str(caught.value)
    assert admit(ledger, user, "tale-b", credits=2) and ledger.settle("tale-b")
    with pytest.raises(SubmissionExpired):
        admit(ledger, user, "tale-b", credits=2)
    assert len(ledger.entries(user)) == entries + 2  # tale-b's reservation and settlement
    assert balance(ledger, user) == 8
    assert ledger.refund("tale-a") is False  # and the refund stays the only one
    with pytest.raises(ValueError):  # another account's tale is still refused as such
        admit(ledger, bench.account(credits=5), "tale-a")


def test_a_retry_racing_the_refund_is_reused_or_refused_never_charged_twice(
    bench: Bench,
) -> None:
    """Retries of one tale's admission and sweeps refunding it, all at once: exactly one
    refund; a retry either saw the reservation open (False) or closed (SubmissionExpired);
    the reservation is made once and returned once."""
    ledger, user = bench.ledger, bench.account(credits=10)
    assert admit(ledger, user, "tale-a", credits=4)
    racers = 16
    start = threading.Barrier(racers, timeout=30)
    outcomes: list[str] = []

    def racer(i: int) -> None:
        start.wait()
        try:
            if i % 2:
                outcomes.append(f"refund {ledger.refund('tale-a')}")
            else:
                outcomes.append(f"admit {admit(ledger, user, 'tale-a', credits=4)}")
        except SubmissionExpired:
            outcomes.append("admit expired")
        except BaseException as exc:  # reported by the assertion
            outcomes.append(repr(exc))

    threads = [threading.Thread(target=racer, args=(i,)) for i in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    counts = Counter(outcomes)
    assert counts["refund True"] == 1 and counts["refund False"] == racers // 2 - 1
    assert counts["admit False"] + counts["admit expired"] == racers // 2, counts
    kinds = Counter(e.kind for e in ledger.entries(user) if e.tale_id == "tale-a")
    assert kinds == {"reserve": 1, "refund": 1}
    assert balance(ledger, user) == 10
    assert not mine(ledger, user)
