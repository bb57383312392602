"""The crash-point and duplicate-delivery matrix: every function × every effect it performs,
the handler dying just before and just after it (once), one small tale each; every topic
duplicated; the runtime killed during each delivery.

Each tale must end completed — or failed with a reason where the scenario is a permanent
fault — and every invariant must hold. A crash between claiming a shot and recording its
paid operation fails nothing: the redelivery recovers the attempt from the provider, and a
paid generation is still never started twice (the ``paid_once`` invariant).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from shared.chaos.faults import FaultPlan, When
from shared.chaos.run import drive, return_orphans_later
from shared.chaos.world import ChaosWorld
from shared.domain.tale import TaleState
from tests.chaos.helpers import run_world, small_world, violations

pytestmark = pytest.mark.slow

#: The effects each function performs on the happy path, in order.
EFFECTS: dict[str, tuple[str, ...]] = {
    "plan_story": (
        "store.claim",
        "store.transition",
        "store.save_plan",
        "store.update",
        "bus.publish",
    ),
    "render_characters": (
        "store.claim",
        "blobs.put_bytes",
        "store.init_shots",
        "store.update",
        "bus.publish",
    ),
    "render_shot": (
        "store.claim_shot",
        "videos.start",
        "store.mark_shot_started",
        "videos.poll",
        "store.finish_shot",
        "bus.publish",
    ),
    # The voices finish after the pictures here, so the last narration requests stitching.
    "narrate_shot": (
        "store.claim",
        "voices.synthesize",
        "blobs.put_bytes",
        "blobs.put_file",  # the narration prepared for the final cut
        "store.record_voice",
        "store.fan_in",
        "bus.publish",
    ),
    "collect_shots": ("store.fan_in",),
    "stitch_video": (
        "store.claim",
        "blobs.put_file",
        "blobs.put_bytes",
        "store.update",
        "store.transition",
        "bus.publish",
    ),
    "notify_user": ("store.claim", "store.update", "store.mark"),
    "settle_credits": ("ledger.settle",),
}
"""Every unit of work of the tale store is a crash point (``TaleStore.around``), whatever
the adapter, so the matrix lists them all."""

#: Scenarios beyond the happy path, and the effects only they perform.
SCENARIOS: dict[str, tuple[FaultPlan, dict[str, tuple[str, ...]]]] = {
    # Every shot's first attempt fails: a second attempt is requested.
    # (the retried shot finishes last: its completion requests stitching).
    "retried": (
        FaultPlan(failed_attempts=1),
        {"render_shot": ("store.retry_shot",), "collect_shots": ("bus.publish",)},
    ),
    # The safety filter refuses the shot: the tale fails (permanent) and is refunded.
    "refused": (
        FaultPlan(refused=1.0),
        {
            "render_shot": ("store.fail_shot", "store.transition"),
            "settle_credits": ("ledger.refund",),
        },
    ),
    # The provider never answers a poll: retries, the dead letter fails the tale.
    "outage": (
        FaultPlan(poll_error=1.0),
        {
            "handle_dead_letter": ("store.transition", "bus.publish"),
            "settle_credits": ("ledger.refund",),
        },
    ),
}

#: Crashes between claiming a shot and recording its operation: the redelivery asks the
#: provider what became of the attempt — the generation is found and polled (the start went
#: out) or provably nothing ran (it did not) — and the tale completes, paid once.
UNRECORDED = {
    ("render_shot", "store.claim_shot", "after"),
    ("render_shot", "videos.start", "before"),
    ("render_shot", "videos.start", "after"),
    ("render_shot", "store.mark_shot_started", "before"),
}
#: Of those, the ones where the start had gone out: the generation is found, not restarted.
STARTED_UNRECORDED = {
    ("render_shot", "videos.start", "after"),
    ("render_shot", "store.mark_shot_started", "before"),
}
FAILURE_REASONS = {"refused": "safety filter", "outage": "gave up after 5 attempts"}
WHENS: tuple[When, ...] = ("before", "after")
#: The API's submission: it reserves the credits, then creates the tale. Dying just after the
#: reservation leaves an orphan — credits and a running slot held for a tale never created —
#: until the sweep returns it (``shared.usecases.return_orphans``).
SUBMISSION: tuple[tuple[str, str, When], ...] = tuple(("api", "ledger.reserve", w) for w in WHENS)


def points(effects: dict[str, tuple[str, ...]]) -> list[tuple[str, str, When]]:
    return [(fn, site, when) for fn, sites in effects.items() for site in sites for when in WHENS]


MATRIX = [("ok", *p) for p in points(EFFECTS)] + [
    (name, *p) for name, (_, extra) in SCENARIOS.items() for p in points(extra)
]


def plan_of(scenario: str) -> FaultPlan:
    return FaultPlan.none() if scenario == "ok" else SCENARIOS[scenario][0]


def outcome(world: ChaosWorld) -> tuple[TaleState, str]:
    tale = world.store.find(world.tales[0].tale_id)
    assert tale is not None
    return tale.state, tale.error_reason or ""


def assert_ends_well(world: ChaosWorld, scenario: str) -> None:
    state, reason = outcome(world)
    if scenario in FAILURE_REASONS:
        assert state is TaleState.FAILED
        assert FAILURE_REASONS[scenario] in reason
    else:
        assert state is TaleState.COMPLETED, reason
    assert violations(world) == {}


@pytest.mark.parametrize(
    ("scenario", "function", "site", "when"), MATRIX, ids=["-".join(row) for row in MATRIX]
)
def test_a_crash_at_every_point(
    tmp_path: Path, scenario: str, function: str, site: str, when: When
) -> None:
    point = (function, site, when)
    plan = replace(plan_of(scenario), crash_at=(point,))
    world = run_world(small_world(tmp_path / "home", plan))
    assert world.chaos.crash_points[f"{function}/{site}:{when}"] == 1, "the crash never fired"
    assert_ends_well(world, scenario)
    if point in STARTED_UNRECORDED:
        assert world.chaos.counts["provider start recovered"] >= 1


def test_the_matrix_covers_every_point_each_scenario_reaches(tmp_path: Path) -> None:
    for scenario in ("ok", *SCENARIOS):
        world = run_world(small_world(tmp_path / scenario, plan_of(scenario)))
        reached = set(world.chaos.visited)
        own = {(fn, site, when) for name, fn, site, when in MATRIX if name == scenario}
        known = own | {(fn, site, when) for name, fn, site, when in MATRIX if name == "ok"}
        known |= set(SUBMISSION)
        assert own | set(SUBMISSION) <= reached <= known, (scenario, own - reached, reached - known)


@pytest.mark.parametrize("when", WHENS)
def test_the_api_dying_between_admission_and_creation(tmp_path: Path, when: When) -> None:
    """The first of two tales: the API dies just before or just after reserving its credits,
    and the client gives up. No tale is created; a reservation made holds the credits until
    the sweep returns it once its grace period has passed, and then every invariant holds
    (nothing held without a tale). The second tale is not disturbed."""
    plan = FaultPlan(crash_at=(("api", "ledger.reserve", when),))
    world = small_world(tmp_path / "home", plan, tales=2)
    lost, other = world.tales
    assert lost.lost and not lost.submitted and other.submitted
    assert world.chaos.crash_points[f"api/ledger.reserve:{when}"] == 1
    assert world.store.find(lost.tale_id) is None
    held = [e.kind for e in world.ledger.entries(lost.owner) if e.tale_id == lost.tale_id]
    assert held == ([] if when == "before" else ["reserve"])
    drive(world, deadline_s=120)
    if when == "after":  # before the sweep: held without a tale, and the checker says so
        assert "never created" in violations(world)["credits"][0]
    assert return_orphans_later(world) == (when == "after")
    assert return_orphans_later(world) == 0  # a second sweep returns nothing more
    assert violations(world) == {}
    kinds = [e.kind for e in world.ledger.entries(lost.owner) if e.tale_id == lost.tale_id]
    assert kinds == ([] if when == "before" else ["reserve", "refund"])
    done = world.store.find(other.tale_id)
    assert done is not None and done.state is TaleState.COMPLETED


TOPICS = (
    "tale.submitted",
    "characters.requested",
    "shot.requested",
    "shot.rendered",
    "stitch.requested",
    "tale.finished",
    "tale.dead-letter",
)


@pytest.mark.parametrize("topic", TOPICS)
def test_every_message_of_a_topic_delivered_twice(tmp_path: Path, topic: str) -> None:
    scenario = "outage" if topic == "tale.dead-letter" else "ok"
    plan = replace(plan_of(scenario), duplicate_topics=frozenset({topic}))
    world = run_world(small_world(tmp_path / "home", plan))
    assert world.chaos.counts["duplicate"] >= 1
    assert_ends_well(world, scenario)


@pytest.mark.parametrize("ordinal", range(1, 10))
def test_the_runtime_killed_during_each_delivery(tmp_path: Path, ordinal: int) -> None:
    world = run_world(small_world(tmp_path / "home"), kills=[ordinal])
    assert world.chaos.counts["runtime killed"] == 1
    assert world.runtimes == 2
    assert_ends_well(world, "ok")


#: Points after the tale completed: a cancel there is refused (the tale stays completed).
AFTER_COMPLETION = {
    ("stitch_video", "store.transition", "after"),
    ("stitch_video", "bus.publish", "before"),
    ("stitch_video", "bus.publish", "after"),
    *(
        (fn, site, when)
        for fn, site, when in points(EFFECTS)
        if fn in ("notify_user", "settle_credits")
    ),
}


@pytest.mark.parametrize(
    ("function", "site", "when"), points(EFFECTS), ids=["-".join(p) for p in points(EFFECTS)]
)
def test_the_owner_cancels_at_every_point(
    tmp_path: Path, function: str, site: str, when: When
) -> None:
    point = (function, site, when)
    world = run_world(small_world(tmp_path / "home", FaultPlan(cancel_during=(point,))))
    state, reason = outcome(world)
    if point in AFTER_COMPLETION:
        assert state is TaleState.COMPLETED, reason
        assert not world.chaos.counts["owner cancelled"]
    else:
        assert state is TaleState.CANCELLED, (state, reason)
        assert world.chaos.counts["owner cancelled"] == 1
    assert violations(world) == {}
