"""Small chaos worlds for the tests: one user, a few tales of a known story."""

from __future__ import annotations

from pathlib import Path

from schemas.story import StorySubmission
from shared.chaos.faults import Chaos, FaultPlan
from shared.chaos.run import (
    STORIES,
    add_users,
    check,
    drive,
    open_world,
    return_orphans_later,
    submit_tale,
)
from shared.chaos.world import ChaosWorld


def small_world(
    home: Path,
    plan: FaultPlan | None = None,
    *,
    tales: int = 1,
    shots: int = 2,
    seed: int = 1,
) -> ChaosWorld:
    """``tales`` tales of ``shots`` shots (a story with one character), one worker."""
    world = open_world(home, Chaos(seed, plan or FaultPlan.none()), concurrency=1)
    (user,) = add_users(world, 1)
    for _ in range(tales):
        submission = StorySubmission(text=STORIES[0], shot_count=shots, shot_seconds=4)
        submit_tale(world, user, submission)
    return world


def run_world(world: ChaosWorld, kills: list[int] | None = None) -> ChaosWorld:
    """Run it to the end, then sweep as the sweep does once the orphans' grace has passed."""
    drive(world, deadline_s=120, kills=kills)
    return_orphans_later(world)
    return world


def violations(world: ChaosWorld) -> dict[str, tuple[str, ...]]:
    """The broken invariants and their violations."""
    return {r.name: r.violations for r in check(world) if not r.ok}
