"""Every invariant checker catches the failure it is about: each test breaks one on purpose."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from schemas.events import ShotRequested
from shared.adapters.local.outbox import OutboxNotifier
from shared.adapters.local.store import SqliteTaleStore
from shared.chaos.faults import FaultPlan
from shared.chaos.world import ChaosWorld
from shared.config import Settings
from shared.domain.tale import ShotRecord, ShotStatus, TaleRecord
from shared.media.stitch import stitch
from shared.ports.bus import EventBus
from shared.ports.generators import VideoGenerator
from shared.ports.notifier import Notification
from shared.ports.store import TaleStore
from shared.stages import shots
from tests.chaos import helpers
from tests.chaos.helpers import run_world, small_world, violations


@pytest.fixture
def world(tmp_path: Path) -> ChaosWorld:
    """Two completed tales of two shots, every invariant holding."""
    done = run_world(small_world(tmp_path / "home", tales=2))
    assert violations(done) == {}
    return done


def completed(world: ChaosWorld) -> TaleRecord:
    tale = world.store.find(world.tales[0].tale_id)
    assert tale is not None and tale.state.value == "completed"
    return tale


def clips(world: ChaosWorld, tale_id: str) -> list[Path]:
    return [world.blob_path(s.clip_path or "") for s in world.store.shots(tale_id)]


def test_a_tale_left_in_rendering(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A broken render_shot that takes every delivery for a duplicate: nothing renders.
    monkeypatch.setattr(shots, "_claim", lambda *args, **kwargs: None)
    world = run_world(small_world(tmp_path / "home"))
    broken = violations(world)
    assert list(broken) == ["terminal"]
    assert "left rendering" in broken["terminal"][0]


def test_a_second_paid_generation_on_redelivery(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def naive_claim(
        event: ShotRequested,
        store: TaleStore,
        videos: VideoGenerator,
        bus: EventBus,
        settings: Settings,
        me: str,
    ) -> tuple[ShotRecord, bool] | None:
        """Not idempotent: ignores the operation a first delivery recorded."""
        shot, _ = store.claim_shot(event.tale_id, event.shot_index, event.attempt, claimant=me)
        if shot.status is ShotStatus.RENDERED:
            return None
        return dataclasses.replace(shot, operation_id=None), True

    monkeypatch.setattr(shots, "_claim", naive_claim)
    plan = FaultPlan(crash_at=(("render_shot", "store.mark_shot_started", "after"),))
    world = run_world(small_world(tmp_path / "home", plan))
    broken = violations(world)
    assert "paid-once" in broken
    assert "started 2 paid generations" in broken["paid-once"][0]


def test_stitching_requested_twice(world: ChaosWorld) -> None:
    # The fan-in runs again as if its compare-and-set were missing.
    tale = completed(world)
    with _sqlite(world).db.transaction() as db:
        db.execute(
            "UPDATE tales SET state='rendering', fan_in_key=NULL WHERE tale_id=?", (tale.tale_id,)
        )
    world.store.fan_in(tale.tale_id, 0, 1, f"{tale.tale_id}:shot:0:1")
    broken = violations(world)
    assert "requested stitching 2 times" in broken["stitch-once"][0]


def test_settled_and_refunded(world: ChaosWorld) -> None:
    tale, spec = completed(world), world.tales[0]
    with world.ledger.db.transaction() as db:
        db.execute(
            "INSERT INTO credit_ledger (user_id, kind, amount, tale_id, at) "
            "VALUES (?, 'refund', ?, ?, 0)",
            (spec.owner, spec.cost, tale.tale_id),
        )
    broken = violations(world)
    assert list(broken) == ["credits"]
    assert f"{tale.tale_id}: completed with 1 settlements and 1 refunds" in broken["credits"]
    assert any("expected" in v for v in broken["credits"])  # the balance is off by the refund


def test_credits_held_for_a_tale_never_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The API dies after reserving; a sweep that never returns orphans leaves them held.
    monkeypatch.setattr(helpers, "return_orphans_later", lambda world: 0)
    plan = FaultPlan(crash_at=(("api", "ledger.reserve", "after"),))
    world = run_world(small_world(tmp_path / "home", plan))
    lost = world.tales[0]
    broken = violations(world)
    assert list(broken) == ["credits"]
    assert broken["credits"][0] == (
        f"{lost.tale_id}: never created, but its ledger has {{'reserve': 1}} ({lost.cost} held)"
    )
    assert any("expected" in v for v in broken["credits"])  # the balance is short too


def test_a_balance_below_zero(world: ChaosWorld) -> None:
    owner = world.tales[0].owner
    with world.ledger.db.transaction() as db:
        db.execute(
            "INSERT INTO credit_ledger (user_id, kind, amount, tale_id, at) "
            "VALUES (?, 'reserve', -1000, 'tale-not-ours', 0)",
            (owner,),
        )
    assert any("below zero" in v for v in violations(world)["credits"])


def test_a_corrupted_final_video(world: ChaosWorld) -> None:
    tale = completed(world)
    video = world.blob_path(tale.outputs["video"])
    video.write_bytes(b"\0" * 64 + video.read_bytes()[64:])
    broken = violations(world)
    assert list(broken) == ["video"]
    assert broken["video"][0].startswith(f"{tale.tale_id}: final video")


def test_shots_out_of_order(world: ChaosWorld) -> None:
    tale = completed(world)
    stitch(list(reversed(clips(world, tale.tale_id))), world.blob_path(tale.outputs["video"]))
    assert violations(world)["video"] == (
        f"{tale.tale_id}: final video shows shots [2, 1] in that order",
    )


def test_a_missing_shot(world: ChaosWorld) -> None:
    tale = completed(world)
    stitch(clips(world, tale.tale_id)[:1], world.blob_path(tale.outputs["video"]))
    assert "frames; its clips have" in violations(world)["video"][0]


def test_a_double_notification(world: ChaosWorld) -> None:
    tale = completed(world)
    OutboxNotifier(world.outbox).send(
        Notification(tale.tale_id, "failed", "you@localhost", "Failed", "text", "<p>html</p>", "en")
    )
    broken = violations(world)
    assert list(broken) == ["notified-once"]
    assert "'failed'" in broken["notified-once"][0] and "'completed'" in broken["notified-once"][0]


def test_a_lost_notification(world: ChaosWorld) -> None:
    tale = completed(world)
    (world.outbox / f"{tale.tale_id}-completed.eml").unlink()
    assert "emails set()" in violations(world)["notified-once"][0]


def test_a_message_left_pending(world: ChaosWorld) -> None:
    tale = completed(world)
    world.bus.publish(ShotRequested(tale_id=tale.tale_id, shot_index=0))
    broken = violations(world)
    assert list(broken) == ["messages"]
    assert (
        broken["messages"][0] == f"1 deliveries still pending: render_shot {tale.tale_id}:shot:0:1"
    )


def test_a_dead_delivery_that_never_reached_the_dead_letter_handler(world: ChaosWorld) -> None:
    with world.bus.db.transaction() as db:
        db.execute(
            "UPDATE deliveries SET state='dead' WHERE rowid = "
            "(SELECT MIN(rowid) FROM deliveries WHERE subscription='collect_shots')"
        )
    broken = violations(world)
    assert list(broken) == ["messages"]
    assert "never reached the handler" in broken["messages"][0]


def test_a_failure_without_a_reason(world: ChaosWorld) -> None:
    tale = completed(world)
    with _sqlite(world).db.transaction() as db:
        db.execute("UPDATE tales SET state='failed' WHERE tale_id=?", (tale.tale_id,))
    assert f"{tale.tale_id}: failed without a stage and a reason" in violations(world)["terminal"]


def test_a_run_past_its_deadline(world: ChaosWorld) -> None:
    world.deadline_hit = True
    assert "deadline" in violations(world)["terminal"][0]


def _sqlite(world: ChaosWorld) -> SqliteTaleStore:
    """The world's store, for tests that corrupt it behind the port's back."""
    assert isinstance(world.store, SqliteTaleStore)
    return world.store
