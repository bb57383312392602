"""The ``submit_tale`` use case with fakes (no HTTP): what it creates, reserves and refuses,
and that it raises only the domain's errors."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from schemas.events import TaleSubmitted
from schemas.story import StorySubmission
from shared.config import Settings
from shared.costs import budget
from shared.domain.errors import (
    IdempotencyKeyReused,
    InsufficientCredits,
    InvalidIdempotencyKey,
    InvalidStory,
    SpendingCapExceeded,
    TaleError,
    TooManyRunningTales,
)
from shared.domain.tale import TaleRecord, TaleState
from shared.usecases.submit_tale import SubmitTale, Submitted, submit_tale
from tests.conftest import make_submission
from tests.fake_ledger import MemoryLedger
from tests.fakes import FakeBus, InMemoryClaims, InMemoryTaleStore

NOW = 1_794_000_000.0  # 2026-11-07 (UTC)
A_MONTH_LATER = NOW + 31 * 24 * 3600


class World:
    def __init__(self, settings: Settings, store: InMemoryTaleStore | None = None) -> None:
        self.settings = settings
        self.store = store or InMemoryTaleStore()
        self.bus = FakeBus()
        self.claims = InMemoryClaims()
        self.ledger = MemoryLedger()

    def submit(
        self,
        owner: str,
        submission: StorySubmission | None = None,
        key: str | None = None,
        now: float = NOW,
    ) -> Submitted:
        return submit_tale(
            SubmitTale(submission or make_submission(2), owner, "a@example.com", key),
            store=self.store,
            bus=self.bus,
            claims=self.claims,
            ledger=self.ledger,
            settings=self.settings,
            clock=lambda: now,
        )

    def tales(self, owner: str) -> list[TaleRecord]:
        return self.store.list_tales(owner=owner, limit=100)

    def reserved(self, owner: str) -> list[int]:
        return [e.amount for e in self.ledger.entries(owner) if e.kind == "reserve"]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home")


@pytest.fixture
def world(settings: Settings) -> World:
    return World(settings)


def user() -> str:
    return str(uuid.uuid4())


def test_a_tale_is_admitted_created_and_announced(world: World) -> None:
    me = user()
    result = world.submit(me)
    assert result.created and result.tale.owner == me
    assert [t.tale_id for t in world.tales(me)] == [result.tale.tale_id]
    assert world.bus.of(TaleSubmitted) == [TaleSubmitted(tale_id=result.tale.tale_id)]
    profile = world.ledger.profile(me)  # the account, opened with this month's grant
    assert profile is not None and profile.email == "a@example.com"
    assert profile.balance == world.settings.monthly_credits("free") - 1  # 2 × 4 s: 1 credit
    assert world.reserved(me) == [-1]


def test_an_idempotency_key_returns_the_same_tale(world: World) -> None:
    me = user()
    first = world.submit(me, key="k-1")
    again = world.submit(me, key="k-1")
    assert (again.created, again.tale.tale_id) == (False, first.tale.tale_id)
    with pytest.raises(IdempotencyKeyReused):
        world.submit(me, make_submission(3), key="k-1")
    for bad in ["", "k" * 201]:
        with pytest.raises(InvalidIdempotencyKey):
            world.submit(me, key=bad)
    assert world.submit(user(), key="k-1").created  # keys are per user
    assert len(world.tales(me)) == 1 and world.reserved(me) == [-1]


def test_a_retry_announces_a_tale_its_first_request_created_but_never_announced(
    world: World,
) -> None:
    """The first request died between creating the tale and publishing ``tale.submitted``:
    the retry under its key announces it (announcing twice is harmless), once it has
    moved on it is not announced again."""
    me = user()
    first = world.submit(me, key="k-1")
    world.bus.published.clear()  # as if the publish had been lost with the process
    again = world.submit(me, key="k-1")
    assert not again.created
    assert world.bus.of(TaleSubmitted) == [TaleSubmitted(tale_id=first.tale.tale_id)]
    world.store.transition(
        first.tale.tale_id, {TaleState.SUBMITTED}, TaleState.PLANNING, stage="planning"
    )
    world.bus.published.clear()
    world.submit(me, key="k-1")
    assert world.bus.of(TaleSubmitted) == []
    assert world.reserved(me) == [-1]


def test_a_story_over_the_limit_is_refused_before_anything(world: World) -> None:
    me = user()
    with pytest.raises(InvalidStory, match="limit"):
        world.submit(me, make_submission(2, text="word " * 5000))
    assert world.ledger.profile(me) is None and world.tales(me) == []


def test_the_running_limit(settings: Settings) -> None:
    world = World(settings.model_copy(update={"api_max_running_tales": 1}))
    me = user()
    first = world.submit(me)
    with pytest.raises(TooManyRunningTales) as caught:
        world.submit(me)
    assert (caught.value.running, caught.value.limit) == (1, 1)
    assert len(world.tales(me)) == 1 and len(world.bus.published) == 1
    world.ledger.settle(first.tale.tale_id)  # settle_credits on tale.finished
    assert world.submit(me).created


def test_the_spending_cap_and_a_new_month(settings: Settings) -> None:
    one = budget.estimate(settings.model_copy(update={"scenario": "A"}), 2, 4, 2).usd
    world = World(settings.model_copy(update={"scenario": "A", "spend_cap_usd": one * 1.5}))
    me = user()
    world.submit(me)
    with pytest.raises(SpendingCapExceeded) as caught:
        world.submit(me)
    refused = caught.value
    assert abs(refused.estimate_usd - one) < 1e-6 and abs(refused.committed_usd - one) < 1e-6
    assert (refused.cap_usd, refused.month) == (one * 1.5, "2026-11")
    assert len(world.tales(me)) == 1 and world.reserved(me) == [-1]
    assert world.submit(me, now=A_MONTH_LATER).created  # December has a cap of its own


def test_credits_run_out(world: World) -> None:
    me, default = user(), StorySubmission(text="Mina walked to the sea.")  # 8 credits
    world.submit(me, default)
    world.submit(me, default)
    with pytest.raises(InsufficientCredits) as caught:
        world.submit(me, default)
    assert (caught.value.needed, caught.value.balance) == (8, 0)
    assert isinstance(caught.value, TaleError)  # a domain error, also from the old path:
    from shared.ports.ledger import InsufficientCredits as FromThePort

    assert FromThePort is InsufficientCredits


class FailingOnce(InMemoryTaleStore):
    """A store whose first ``create`` fails (the database was unreachable)."""

    failed = False

    def create(self, record: TaleRecord, submission: StorySubmission) -> bool:
        if not self.failed:
            self.failed = True
            raise ConnectionError("the store is unreachable")
        return super().create(record, submission)


def test_a_failed_creation_returns_the_reservation_unless_a_key_can_retry(
    settings: Settings,
) -> None:
    world = World(settings, FailingOnce())
    me = user()
    with pytest.raises(ConnectionError):
        world.submit(me)
    assert world.tales(me) == [] and world.ledger.profile(me).balance == 16  # type: ignore[union-attr]
    # With an Idempotency-Key, the retry under the key uses the reservation it made.
    world = World(settings, FailingOnce())
    with pytest.raises(ConnectionError):
        world.submit(me, key="k-1")
    assert world.reserved(me) == [-1]
    retried = world.submit(me, key="k-1")
    assert retried.created and world.reserved(me) == [-1]
    assert [e.kind for e in world.ledger.entries(me)] == ["grant", "reserve"]


def test_parallel_submissions_admit_up_to_the_limit(world: World) -> None:
    me, racers = user(), 50
    start = threading.Barrier(racers, timeout=30)
    outcomes: list[str] = []

    def racer() -> None:
        start.wait()
        try:
            world.submit(me)
            outcomes.append("created")
        except TaleError as exc:
            outcomes.append(type(exc).__name__)

    threads: list[Any] = [threading.Thread(target=racer) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert Counter(outcomes) == {"created": 3, "TooManyRunningTales": racers - 3}
    assert len(world.tales(me)) == 3 and len(world.reserved(me)) == 3
