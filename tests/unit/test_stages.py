"""Stage handlers with hand-written fakes: idempotence, claims, fan-in, failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas.events import (
    CharactersRequested,
    ShotRendered,
    ShotRequested,
    StitchRequested,
    TaleFinished,
    TaleSubmitted,
)
from schemas.story import StoryOptions
from shared.config import Settings
from shared.domain import markers
from shared.domain.errors import NotStarted, PermanentError, TransientError
from shared.domain.tale import ShotStatus, TaleState
from shared.ports.generators import Planner
from shared.ports.usage import NoUsage
from shared.pubsub_message import Envelope
from shared.stages.characters import render_characters
from shared.stages.collect import collect_shots
from shared.stages.dead_letter import handle_dead_letter
from shared.stages.notify import notify_user
from shared.stages.plan import plan_story
from shared.stages.shots import render_shot
from tests.conftest import make_plan, make_record, make_submission
from tests.fakes import (
    FakeBus,
    FakeImages,
    FakeNotifier,
    FakeVideos,
    InMemoryTaleStore,
    MemoryBlobs,
)

TALE = "tale-000001"
FAST = Settings(shot_poll_budget_s=0.05, shot_poll_interval_s=0.01)
MSG = Envelope(topic="shot.requested", message_id="message-1", data=b"")
OTHER = Envelope(topic="shot.requested", message_id="message-2", data=b"")


class CountingPlanner(Planner):
    def __init__(self) -> None:
        self.calls = 0

    def plan(self, submission, *, tale_id=""):  # type: ignore[no-untyped-def]
        self.calls += 1
        return make_plan(submission.shot_count)


def submitted(store: InMemoryTaleStore, **kw: object) -> None:
    store.create(make_record(), make_submission(**kw))  # type: ignore[arg-type]


def rendering(store: InMemoryTaleStore, shots: int = 3) -> None:
    submitted(store, shots=shots)
    store.save_plan(TALE, make_plan(shots))
    store.transition(TALE, [TaleState.SUBMITTED], TaleState.PLANNING, stage="planning")
    store.transition(TALE, [TaleState.PLANNING], TaleState.RENDERING, stage="characters")
    store.init_shots(TALE, shots)


def test_plan_runs_the_planner_once_under_redelivery() -> None:
    store, bus, planner = InMemoryTaleStore(), FakeBus(), CountingPlanner()
    submitted(store)
    for _ in range(2):
        plan_story(TaleSubmitted(tale_id=TALE), store, planner, bus, MSG)
    tale = store.find(TALE)
    assert tale is not None and tale.state is TaleState.RENDERING and tale.title
    assert planner.calls == 1
    assert {type(e) for e in bus.published} == {CharactersRequested}


def test_plan_stops_at_the_approval_gate() -> None:
    store, bus = InMemoryTaleStore(), FakeBus()
    submitted(store, options=StoryOptions(approval_required=True))
    plan_story(TaleSubmitted(tale_id=TALE), store, CountingPlanner(), bus, MSG)
    tale = store.find(TALE)
    assert tale is not None and tale.state is TaleState.AWAITING_APPROVAL
    assert bus.published == []


def test_characters_are_drawn_once_and_every_shot_is_requested() -> None:
    store, bus, images, blobs = InMemoryTaleStore(), FakeBus(), FakeImages(), MemoryBlobs()
    rendering(store, shots=4)
    for _ in range(2):
        render_characters(CharactersRequested(tale_id=TALE), store, images, blobs, bus, MSG)
    assert images.drawn == ["Mina"]
    assert blobs.exists(store.characters(TALE)["Mina"])
    requested = [e.key for e in bus.of(ShotRequested)]
    assert sorted(set(requested)) == [f"{TALE}:shot:{i}:1" for i in range(4)]


def test_a_redelivered_shot_never_starts_a_second_generation() -> None:
    store, bus, blobs = InMemoryTaleStore(), FakeBus(), MemoryBlobs()
    videos = FakeVideos(blobs, paid=True)
    rendering(store)
    event = ShotRequested(tale_id=TALE, shot_index=1)
    render_shot(event, store, videos, bus, FAST, MSG, NoUsage())
    render_shot(event, store, videos, bus, FAST, MSG, NoUsage())
    assert videos.started == [(1, 1)]
    assert store.shots(TALE)[1].status is ShotStatus.RENDERED
    assert [e.key for e in bus.of(ShotRendered)] == [f"{TALE}:shot:1:1"] * 2


def test_a_slow_operation_is_handed_over_and_resumed_without_restarting() -> None:
    store, bus, blobs = InMemoryTaleStore(), FakeBus(), MemoryBlobs()
    videos = FakeVideos(blobs, polls_needed=1000)
    rendering(store)
    render_shot(ShotRequested(tale_id=TALE, shot_index=0), store, videos, bus, FAST, MSG, NoUsage())
    (follow_up,) = bus.of(ShotRequested)
    assert isinstance(follow_up, ShotRequested) and follow_up.poll == 1
    videos.polls_needed = 0
    render_shot(follow_up, store, videos, bus, FAST, MSG, NoUsage())
    assert videos.started == [(0, 1)]
    assert store.shots(TALE)[0].status is ShotStatus.RENDERED


def test_a_duplicate_of_a_claimed_shot_is_left_to_the_claimant() -> None:
    store, bus, blobs = InMemoryTaleStore(), FakeBus(), MemoryBlobs()
    videos = FakeVideos(blobs)
    rendering(store)
    store.claim_shot(TALE, 2, 1, claimant=OTHER.message_id)
    render_shot(ShotRequested(tale_id=TALE, shot_index=2), store, videos, bus, FAST, MSG, NoUsage())
    assert videos.started == [] and bus.published == []


@pytest.mark.parametrize("paid", [True, False])
def test_the_same_message_back_after_a_crash_before_start(paid: bool) -> None:
    """A free generator starts again; a paid one that cannot prove what ran waits (hands
    over) and never starts a second generation."""
    store, bus, blobs = InMemoryTaleStore(), FakeBus(), MemoryBlobs()
    videos = FakeVideos(blobs, paid=paid)
    rendering(store)
    store.claim_shot(TALE, 2, 1, claimant=MSG.message_id)  # then the worker died
    event = ShotRequested(tale_id=TALE, shot_index=2)
    render_shot(event, store, videos, bus, FAST, MSG, NoUsage())
    if paid:
        assert videos.started == []
        (follow_up,) = bus.of(ShotRequested)
        assert isinstance(follow_up, ShotRequested) and follow_up.poll == 1
        assert store.shots(TALE)[2].status is ShotStatus.CLAIMED
        last = event.model_copy(update={"poll": 30})
        with pytest.raises(PermanentError, match="did not finish in time"):
            render_shot(last, store, videos, bus, FAST, OTHER, NoUsage())
        assert videos.started == []
    else:
        assert videos.started == [(2, 1)]
        assert store.shots(TALE)[2].status is ShotStatus.RENDERED


@pytest.mark.parametrize("lost", ["before the start", "the start's answer"])
def test_an_unrecorded_start_is_recovered_and_paid_once(lost: str) -> None:
    store, bus, blobs = InMemoryTaleStore(), FakeBus(), MemoryBlobs()
    videos = FakeVideos(
        blobs, recoverable=True, lose_answers=1 if lost != "before the start" else 0
    )
    rendering(store)
    event = ShotRequested(tale_id=TALE, shot_index=1)
    if lost == "before the start":
        store.claim_shot(TALE, 1, 1, claimant=MSG.message_id)  # the worker died here
    else:
        with pytest.raises(TransientError):
            render_shot(event, store, videos, bus, FAST, MSG, NoUsage())
    render_shot(event, store, videos, bus, FAST, MSG, NoUsage())  # the redelivery
    render_shot(event, store, videos, bus, FAST, OTHER, NoUsage())  # and a duplicate
    assert videos.started == [(1, 1)]
    shot = store.shots(TALE)[1]
    assert (shot.status, shot.starts) == (ShotStatus.RENDERED, 1)


def test_refused_content_is_a_permanent_error() -> None:
    store, bus, blobs = InMemoryTaleStore(), FakeBus(), MemoryBlobs()
    rendering(store)
    with pytest.raises(PermanentError, match="refused"):
        render_shot(
            ShotRequested(tale_id=TALE, shot_index=0),
            store,
            FakeVideos(blobs, refuse=[0]),
            bus,
            FAST,
            MSG,
            NoUsage(),
        )
    assert store.shots(TALE)[0].status is ShotStatus.FAILED


def test_a_failed_operation_moves_to_a_new_attempt() -> None:
    store, bus, blobs = InMemoryTaleStore(), FakeBus(), MemoryBlobs()
    videos = FakeVideos(blobs, fail_first=[0])
    rendering(store)
    render_shot(ShotRequested(tale_id=TALE, shot_index=0), store, videos, bus, FAST, MSG, NoUsage())
    (retry,) = bus.of(ShotRequested)
    assert isinstance(retry, ShotRequested) and retry.attempt == 2
    render_shot(retry, store, videos, bus, FAST, MSG, NoUsage())
    render_shot(
        ShotRequested(tale_id=TALE, shot_index=0), store, videos, bus, FAST, MSG, NoUsage()
    )  # stale
    assert videos.started == [(0, 1), (0, 2)]
    assert store.shots(TALE)[0].status is ShotStatus.RENDERED


def test_fan_in_requests_stitching_once_whatever_is_redelivered() -> None:
    store, bus = InMemoryTaleStore(), FakeBus()
    rendering(store)
    events = []
    for i in range(3):
        store.claim_shot(TALE, i, 1)
        store.finish_shot(TALE, i, 1, f"c{i}")
        events.append(ShotRendered(tale_id=TALE, shot_index=i, attempt=1, clip_path=f"c{i}"))
    for event in events + events[::-1]:
        collect_shots(event, store, bus)
    assert len(bus.of(StitchRequested)) == 2  # the winning event, and its own redelivery
    tale = store.find(TALE)
    assert tale is not None and tale.state is TaleState.STITCHING
    assert tale.fan_in_key == events[0].key  # the first to see every shot rendered


def test_notify_once_per_outcome_in_the_tale_language(tmp_path: Path) -> None:
    from shared.adapters.local.ledger import SqliteLedger

    store, notifier, blobs = InMemoryTaleStore(), FakeNotifier(), MemoryBlobs()
    ledger = SqliteLedger(tmp_path / "ledger.db")
    ledger.ensure_profile("user-1", "mina@example.com")  # the owner of make_record's tale
    submitted(store)
    store.update(TALE, title="달빛 토끼")
    rec = store.find(TALE)
    assert rec is not None
    rec.language = "ko"
    store._tales[TALE].record.language = "ko"
    event = TaleFinished(tale_id=TALE, outcome="cancelled")
    for _ in range(2):
        notify_user(event, store, notifier, blobs, Settings(), MSG, ledger=ledger)
    notify_user(event, store, notifier, blobs, Settings(), OTHER, ledger=ledger)
    assert len(notifier.sent) == 1
    assert "달빛 토끼" in notifier.sent[0].subject and "취소" in notifier.sent[0].subject
    assert notifier.sent[0].to == "mina@example.com"


def test_dead_letter_fails_the_tale_with_stage_and_last_error() -> None:
    store, bus = InMemoryTaleStore(), FakeBus()
    rendering(store)
    store.log(TALE, "rendering", "attempt failed: ValueError: bad clip", "warning")
    letter = Envelope(
        topic="tale.dead-letter",
        message_id="m1",
        data=b"{}",
        attributes={
            "tale_id": TALE,
            "type": "shot.requested",
            "CloudPubSubDeadLetterSourceSubscription": "projects/p/subscriptions/render_shot",
            "CloudPubSubDeadLetterSourceDeliveryCount": "5",
        },
    )
    handle_dead_letter(letter, store, bus)
    handle_dead_letter(letter, store, bus)
    tale = store.find(TALE)
    assert tale is not None and tale.state is TaleState.FAILED
    assert tale.error_stage == "rendering"
    assert tale.error_reason == "gave up after 5 attempts: ValueError: bad clip"
    assert [e.key for e in bus.of(TaleFinished)] == [f"{TALE}:finished:failed"]


def test_blob_outbox_writes_one_email_per_outcome() -> None:
    from email import message_from_bytes, policy

    from shared.adapters.local.outbox import BlobOutboxNotifier
    from shared.ports.notifier import Notification

    blobs = MemoryBlobs()
    note = Notification(
        tale_id=TALE,
        outcome="completed",
        to="a@b.c",
        subject="Ready",
        text="plain",
        html="<p>html</p>",
        language="en",
    )
    notifier = BlobOutboxNotifier(blobs)
    first = notifier.send(note)
    assert notifier.send(note) == first and list(blobs.objects) == [f"outbox/{TALE}-completed.eml"]
    msg = message_from_bytes(blobs.objects[f"outbox/{TALE}-completed.eml"], policy=policy.default)
    assert msg["Subject"] == "Ready" and msg.is_multipart()


def test_a_start_the_provider_refused_releases_the_claim_for_a_retry() -> None:
    store, bus, blobs = InMemoryTaleStore(), FakeBus(), MemoryBlobs()
    videos = FakeVideos(blobs, paid=True, throttle_starts=1)
    rendering(store)
    event = ShotRequested(tale_id=TALE, shot_index=1)
    with pytest.raises(NotStarted):
        render_shot(event, store, videos, bus, FAST, MSG, NoUsage())
    assert store.shots(TALE)[1].status is ShotStatus.PENDING
    render_shot(event, store, videos, bus, FAST, MSG, NoUsage())  # the redelivery
    assert videos.started == [(1, 1)]
    assert store.shots(TALE)[1].status is ShotStatus.RENDERED


def test_a_duplicate_publish_never_calls_the_paid_planner_or_images_again() -> None:
    store, bus, planner, images, blobs = (
        InMemoryTaleStore(),
        FakeBus(),
        CountingPlanner(),
        FakeImages(),
        MemoryBlobs(),
    )
    submitted(store)
    store.claim(TALE, markers.handling(f"{TALE}:tale.submitted"), OTHER.message_id)  # held
    plan_story(TaleSubmitted(tale_id=TALE), store, planner, bus, MSG)
    assert planner.calls == 0 and bus.published == []
    plan_story(TaleSubmitted(tale_id=TALE), store, planner, bus, OTHER)  # the holder
    assert planner.calls == 1
    render_characters(CharactersRequested(tale_id=TALE), store, images, blobs, bus, OTHER)
    render_characters(CharactersRequested(tale_id=TALE), store, images, blobs, bus, MSG)
    assert images.drawn == ["Mina"]


def test_a_retried_cancel_announces_what_its_first_call_did_not() -> None:
    from shared import service
    from shared.domain.errors import IllegalTransition

    store, bus = InMemoryTaleStore(), FakeBus()
    submitted(store)
    store.transition(TALE, [TaleState.SUBMITTED], TaleState.CANCELLED, stage="cancelled")
    service.cancel(TALE, store=store, bus=bus)  # the first call died before publishing
    assert [e.key for e in bus.of(TaleFinished)] == [f"{TALE}:finished:cancelled"]
    store.mark(TALE, markers.notified(f"{TALE}:finished:cancelled"))
    with pytest.raises(IllegalTransition):
        service.cancel(TALE, store=store, bus=bus)
