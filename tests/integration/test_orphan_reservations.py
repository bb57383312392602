"""Orphan reservations returned by the sweep (``shared.usecases.return_orphans``), with the
real ``submit_tale`` path: the request dies between the admission and the tale's creation,
and the reservation holds the credits and a running slot until the sweep returns it — after
``ORPHAN_GRACE_S``, never before, once whatever runs twice, and only when its tale does not
exist. On every ledger adapter: SQLite, Supabase over a real PostgreSQL (the PostgREST
stand-in, each thread on its own connection), and the in-memory fake."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest

from schemas.events import TaleFinished
from shared import service
from shared.api.problems import refusal
from shared.config import Settings
from shared.domain.credits import ledger_key, period_of
from shared.domain.errors import SubmissionExpired, TooManyRunningTales
from shared.domain.tale import TaleState
from shared.ports.ledger import Ledger
from shared.usecases.return_orphans import ORPHAN_GRACE_S, return_orphans
from shared.usecases.submit_tale import SubmitTale, Submitted, submit_tale
from tests.conftest import make_submission
from tests.contract.test_ledger_contract import Bench, balance, bench
from tests.fake_ledger import MemoryLedger
from tests.fakes import FakeBus, InMemoryClaims, InMemoryTaleStore
from tests.pg import pg_db, pg_server

__all__ = ["bench", "pg_db", "pg_server"]  # fixtures


class ProcessDied(BaseException):
    """The instance is killed: no ``except Exception`` of the request runs (``_release``)."""


class World:
    """One account on a ledger (``submit_tale`` opens it with the free plan's grant; a tale of
    2 shots of 4 s costs 1 credit), the in-memory tale store, claims and bus; at most one
    running tale."""

    def __init__(self, ledger: Ledger, owner: str, tmp: Path) -> None:
        self.ledger, self.owner = ledger, owner
        self.settings = Settings(home=tmp / "home", api_max_running_tales=1)
        self.store, self.bus, self.claims = InMemoryTaleStore(), FakeBus(), InMemoryClaims()

    def submit(self, key: str | None = None) -> Submitted:
        return submit_tale(
            SubmitTale(make_submission(2), self.owner, "a@example.com", key),
            store=self.store,
            bus=self.bus,
            claims=self.claims,
            ledger=self.ledger,
            settings=self.settings,
        )

    def submit_and_die(self, key: str) -> str:
        """A submission whose process dies just before the tale is created; its tale id."""

        @contextmanager
        def killed(site: str, tale_id: str) -> Iterator[None]:
            if site == "store.create":
                raise ProcessDied(tale_id)
            yield

        self.store.around = killed
        try:
            with pytest.raises(ProcessDied) as died:
                self.submit(key)
        finally:
            self.store.around = None
        return str(died.value)

    def sweep(self, after_s: float) -> list[str]:
        """The sweep ``after_s`` seconds from now: the ledger keys it returned."""
        now = time.time() + after_s
        found = return_orphans(store=self.store, bus=self.bus, ledger=self.ledger, now=now)
        return [r.tale_id for r in found]

    def open(self) -> list[str]:
        found = self.ledger.open_reservations(time.time() + 2 * ORPHAN_GRACE_S)
        return [r.tale_id for r in found if r.user_id == self.owner]

    def kinds(self, key: str) -> Counter[str]:
        return Counter(e.kind for e in self.ledger.entries(self.owner) if e.tale_id == key)


@pytest.fixture
def world(bench: Bench, tmp_path: Path) -> World:
    return World(bench.ledger, bench.account(), tmp_path)


def test_an_orphan_is_returned_after_the_grace_period_and_not_before(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world.submit()  # opens the account with this month's grant
    assert world.ledger.settle(world.open()[0])
    granted = balance(world.ledger, world.owner)
    orphan = world.submit_and_die("k-1")
    assert world.store.find(orphan) is None and world.open() == [orphan]
    assert balance(world.ledger, world.owner) == granted - 1
    with pytest.raises(TooManyRunningTales):  # the orphan holds the only running slot
        world.submit("k-2")

    assert world.sweep(ORPHAN_GRACE_S - 60) == []  # within the grace period: kept
    assert world.open() == [orphan] and world.kinds(orphan) == {"reserve": 1}

    caplog.set_level(logging.INFO, logger="tale")
    assert world.sweep(ORPHAN_GRACE_S + 1) == [orphan]
    assert world.kinds(orphan) == {"reserve": 1, "refund": 1}
    assert balance(world.ledger, world.owner) == granted
    assert world.open() == []
    records = [getattr(r, "tale_fields", {}) for r in caplog.records]
    assert {
        "event": "credits.refunded",
        "tale_id": orphan,
        "outcome": "refunded",
        "credits": 1,
    } in records
    created = world.submit("k-2")  # the slot and the credits are free again
    assert created.created and world.open() == [created.tale.tale_id]
    assert balance(world.ledger, world.owner) == granted - 1


def test_a_retry_within_the_grace_period_reuses_the_reservation(world: World) -> None:
    orphan = world.submit_and_die("k-1")
    retried = world.submit("k-1")  # the client retries under the same key
    assert retried.created and retried.tale.tale_id == orphan
    assert world.sweep(ORPHAN_GRACE_S + 1) == []  # the tale exists now: untouched
    assert world.kinds(orphan) == {"reserve": 1} and world.open() == [orphan]


def test_a_retry_after_the_refund_is_refused_and_creates_nothing(world: World) -> None:
    orphan = world.submit_and_die("k-1")
    assert world.sweep(ORPHAN_GRACE_S + 1) == [orphan]
    credits = balance(world.ledger, world.owner)
    with pytest.raises(SubmissionExpired) as caught:
        world.submit("k-1")
    assert world.store.find(orphan) is None  # no tale without a reservation
    assert world.kinds(orphan) == {"reserve": 1, "refund": 1}  # nor a second charge
    assert balance(world.ledger, world.owner) == credits
    problem = refusal(caught.value)
    assert (problem.status, problem.kind) == (409, "submission-expired")
    assert "new Idempotency-Key" in problem.detail
    assert world.submit("k-2").created  # a new key starts the tale


def test_reservations_whose_tale_exists_are_untouched(world: World) -> None:
    """A running tale (its first cut), and a revision that started; but a revision's
    reservation whose tale never started it is an orphan too."""
    world.settings = world.settings.model_copy(update={"api_max_running_tales": 5})
    running = world.submit().tale.tale_id
    revised = world.submit().tale.tale_id
    started, never = ledger_key(revised, 1), ledger_key(revised, 2)
    for key in (started, never):
        assert world.ledger.admit(
            world.owner,
            key,
            credits=1,
            estimate_usd=0.0,
            period=period_of(time.time()),
            cap_usd=100.0,
            max_running=5,
        )
    _set_revision(world.store, revised, 1)  # revision 1 started, 2 never did
    assert world.sweep(ORPHAN_GRACE_S + 1) == [never]
    assert world.open() == sorted([running, revised, started])
    assert world.sweep(ORPHAN_GRACE_S + 1) == []


def _set_revision(store: InMemoryTaleStore, tale_id: str, revision: int) -> None:
    tale = store._tales[tale_id]
    tale.record = replace(tale.record, revision=revision)


def test_sweeps_twice_and_at_once_return_each_orphan_once(world: World) -> None:
    world.settings = world.settings.model_copy(update={"api_max_running_tales": 3})
    world.submit()  # opens the account
    orphans = sorted(world.submit_and_die(f"k-{i}") for i in range(2))
    racers = 8
    start = threading.Barrier(racers, timeout=30)
    returned: list[str] = []
    errors: list[BaseException] = []

    def sweep() -> None:
        start.wait()
        try:
            returned.extend(world.sweep(ORPHAN_GRACE_S + 1))
        except BaseException as exc:  # reported by the assertion
            errors.append(exc)

    threads = [threading.Thread(target=sweep) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [] and sorted(returned) == orphans
    assert world.sweep(ORPHAN_GRACE_S + 1) == []  # and a redelivery finds nothing
    for orphan in orphans:
        assert world.kinds(orphan) == {"reserve": 1, "refund": 1}


def test_a_tale_created_while_its_reservation_is_returned_is_failed(tmp_path: Path) -> None:
    """A retry under the same key whose admission read the reservation still open just
    before the sweep's refund, and whose tale is created just after it: the tale holds
    nothing to pay for it, so the sweep fails it (the owner is told, the refund stays the
    only one)."""
    ledger = RetryDuringRefund()
    world = World(ledger, str(uuid.uuid4()), tmp_path)
    orphan = world.submit_and_die("k-1")
    ledger.retry = lambda: service.submit(  # the retry's creation, after its admission
        make_submission(2),
        owner=world.owner,
        store=world.store,
        bus=world.bus,
        max_chars=world.settings.max_story_chars,
        tale_id=orphan,
    )
    assert world.sweep(ORPHAN_GRACE_S + 1) == [orphan]
    tale = world.store.find(orphan)
    assert tale is not None and tale.state is TaleState.FAILED
    assert "submit it again" in (tale.error_reason or "")
    finished = world.bus.of(TaleFinished)
    assert [(e.tale_id, e.outcome) for e in finished] == [(orphan, "failed")]  # type: ignore[attr-defined]
    assert world.kinds(orphan) == {"reserve": 1, "refund": 1}


class RetryDuringRefund(MemoryLedger):
    """Runs ``retry`` right after the first refund has committed."""

    retry: Callable[[], object] | None = None

    def refund(self, tale_id: str) -> bool:
        done = super().refund(tale_id)
        retry, self.retry = self.retry, None
        if retry is not None:
            retry()
        return done
