"""The domain's decisions, with no adapter at all: the shot lifecycle, the aggregate's
rendered count, the fan-in and the markers (property-based where it fits)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.domain import shots as rules
from shared.domain.aggregate import TaleAggregate
from shared.domain.errors import IllegalTransition, TaleNotFound
from shared.domain.tale import ShotRecord, ShotStatus, TaleRecord, TaleState

TALE = "tale-000001"


def tale(state: TaleState = TaleState.RENDERING, shots: int = 3) -> TaleRecord:
    return TaleRecord(TALE, "owner", state, "shots", 15, shot_count=shots)


def aggregate(state: TaleState = TaleState.RENDERING, shots: int = 3) -> TaleAggregate:
    agg = TaleAggregate(tale(state, shots), {}, now=100.0)
    agg.add_shots(shots)
    agg.tale_changed, agg.changed_shots = False, set()
    return agg


def pending(attempt: int = 1) -> ShotRecord:
    return ShotRecord(TALE, 0, attempt, ShotStatus.PENDING, updated_at=1.0)


# --- the shot lifecycle --------------------------------------------------------------------
def test_a_pending_shot_is_claimed_once() -> None:
    claimed = rules.claim(pending(), 1, "m1", 10.0, None)
    assert claimed is not None
    assert (claimed.status, claimed.claimant, claimed.claimed_at) == (
        ShotStatus.CLAIMED,
        "m1",
        10.0,
    )
    assert rules.claim(claimed, 1, "m2", 11.0, None) is None  # held, no lease: never taken
    assert rules.claim(pending(2), 1, "m1", 10.0, None) is None  # another attempt is current


def test_an_expired_lease_is_taken_over_only_before_the_operation_exists() -> None:
    claimed = rules.claim(pending(), 1, "m1", 10.0, 30.0)
    assert claimed is not None
    assert rules.claim(claimed, 1, "m2", 39.0, 30.0) is None
    taken = rules.claim(claimed, 1, "m2", 40.0, 30.0)
    assert taken is not None and taken.claimant == "m2"
    started = rules.start(claimed, 1, "op-1", 12.0)
    assert started is not None
    assert rules.claim(started, 1, "m2", 1e9, 30.0) is None


def test_a_claim_is_released_only_by_its_holder_and_only_unstarted() -> None:
    claimed = rules.claim(pending(), 1, "m1", 10.0, None)
    assert claimed is not None
    assert rules.release(claimed, 1, "m2", 11.0) is None
    released = rules.release(claimed, 1, "m1", 11.0)
    assert released is not None and released.status is ShotStatus.PENDING
    started = rules.start(claimed, 1, "op", 11.0)
    assert started is not None and rules.release(started, 1, "m1", 12.0) is None


def test_finish_fail_and_retry() -> None:
    claimed = rules.claim(pending(), 1, "m1", 10.0, None)
    assert claimed is not None
    assert rules.finish(pending(), 1, "c.mp4", 11.0) is None  # never claimed
    done = rules.finish(claimed, 1, "c.mp4", 11.0)
    assert done is not None and done.status is ShotStatus.RENDERED
    assert rules.fail(done, 1, "late error", 12.0) is None  # a rendered shot stays rendered
    again = rules.retry(done, 1, 13.0)
    assert again is not None and (again.attempt, again.status, again.clip_path) == (
        2,
        ShotStatus.PENDING,
        None,
    )
    assert rules.retry(again, 1, 14.0) is None  # a stale retry changes nothing


OPS = st.sampled_from(["claim", "release", "start", "finish", "fail", "retry"])


def _apply(shot: ShotRecord, op: str, attempt: int, who: str) -> ShotRecord | None:
    if op == "claim":
        return rules.claim(shot, attempt, who, 1.0, None)
    if op == "release":
        return rules.release(shot, attempt, who, 1.0)
    if op == "start":
        return rules.start(shot, attempt, f"op-{who}", 1.0)
    if op == "finish":
        return rules.finish(shot, attempt, "c", 1.0)
    if op == "fail":
        return rules.fail(shot, attempt, "e", 1.0)
    return rules.retry(shot, attempt, 1.0)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(OPS, st.integers(1, 3), st.sampled_from(["m1", "m2"])), max_size=30))
def test_no_attempt_is_ever_started_twice(steps: list[tuple[str, int, str]]) -> None:
    """Whatever redeliveries and duplicates do, each attempt records at most one start and
    only its claimant's start counts."""
    shot = pending()
    starts: dict[int, int] = {}
    for op, attempt, who in steps:
        new = _apply(shot, op, attempt, who)
        if new is None:
            continue
        if op == "start":
            starts[attempt] = starts.get(attempt, 0) + 1
        assert new.attempt >= shot.attempt
        shot = new
    assert all(n == 1 for n in starts.values())


# --- the aggregate -------------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["claim", "finish", "retry", "fail", "fan_in"]),
            st.integers(0, 2),
            st.integers(1, 3),
        ),
        max_size=40,
    )
)
def test_the_rendered_count_and_the_fan_in(steps: list[tuple[str, int, int]]) -> None:
    agg = aggregate(shots=3)
    keys: set[str] = set()
    for op, index, attempt in steps:
        shot = agg.shots[index]
        if op == "claim":
            agg.put_shot(rules.claim(shot, attempt, "m", agg.now, None))
        elif op == "finish":
            agg.put_shot(rules.finish(shot, attempt, f"c{index}", agg.now))
        elif op == "retry":
            agg.put_shot(rules.retry(shot, attempt, agg.now))
        elif op == "fail":
            agg.put_shot(rules.fail(shot, attempt, "e", agg.now))
        else:
            result = agg.fan_in(f"k{len(keys)}-{index}")
            if result.fan_in_key is not None:
                keys.add(result.fan_in_key)
        rendered = sum(s.status is ShotStatus.RENDERED for s in agg.shots.values())
        assert agg.tale.rendered == rendered
        if agg.tale.state is TaleState.STITCHING:
            assert agg.tale.fan_in_key is not None
    assert len(keys) <= 1  # the tale moves to stitching at most once, with one key


def test_the_fan_in_waits_and_moves_once() -> None:
    agg = aggregate(shots=2)
    for i in range(2):
        agg.put_shot(rules.claim(agg.shots[i], 1, "m", agg.now, None))
    agg.put_shot(rules.finish(agg.shots[0], 1, "c0", agg.now))
    first = agg.fan_in("k0")
    assert (first.rendered, first.total, first.fan_in_key) == (1, 2, None)
    assert (agg.tale.state, agg.tale.progress) == (TaleState.RENDERING, 15 + 5 + 35)
    agg.put_shot(rules.finish(agg.shots[1], 1, "c1", agg.now))
    assert agg.fan_in("k1").fan_in_key == "k1"
    assert agg.fan_in("k0").fan_in_key == "k1"  # a late or repeated completion
    assert (agg.tale.state, agg.tale.progress) == (TaleState.STITCHING, 90)
    assert [line.stage for line in agg.log] == ["stitching"]


def test_a_finished_tale_ignores_completions() -> None:
    agg = aggregate(TaleState.CANCELLED, shots=1)
    assert agg.fan_in("k").fan_in_key is None and agg.tale.state is TaleState.CANCELLED


def test_transitions_are_compare_and_set_and_record_failures() -> None:
    agg = aggregate(TaleState.RENDERING)
    assert not agg.transition(frozenset({TaleState.PLANNING}), TaleState.RENDERING, stage="x")
    assert not agg.tale_changed
    moved = agg.transition(
        frozenset({TaleState.RENDERING}), TaleState.FAILED, stage="shots", error_reason="boom"
    )
    assert moved and agg.tale.state is TaleState.FAILED
    assert (agg.tale.error_stage, agg.tale.error_reason, agg.tale.progress) == ("shots", "boom", 15)
    assert agg.log[-1].level == "error" and "boom" in agg.log[-1].message
    with pytest.raises(IllegalTransition):
        agg.transition(frozenset({TaleState.FAILED}), TaleState.COMPLETED, stage="x")


def test_markers_claims_and_retry_rounds() -> None:
    agg = aggregate()
    assert agg.claim("handling:a", "m1") == "m1" and agg.claim("handling:a", "m2") == "m1"
    assert agg.mark("notified:x") and not agg.mark("notified:x")
    assert [agg.next_retry_round() for _ in range(2)] == [1, 2]
    assert agg.tale.markers == {"handling:a": "m1", "notified:x": ""}


def test_update_merges_outputs_and_never_lowers_progress() -> None:
    agg = aggregate()
    agg.update(outputs={"video": "v.mp4"}, progress_=5)
    agg.update(outputs={"poster": "p.png"}, title="T")
    assert agg.tale.outputs == {"video": "v.mp4", "poster": "p.png"}
    assert (agg.tale.progress, agg.tale.title, agg.tale.updated_at) == (15, "T", 100.0)


def test_a_missing_shot_is_not_found() -> None:
    agg = replace(aggregate(), shots={})
    with pytest.raises(TaleNotFound):
        agg.shot(4)


def test_an_unstarted_claim_is_taken_over_only_from_its_holder() -> None:
    claimed = rules.claim(pending(), 1, "m1", 10.0, None)
    assert claimed is not None
    assert rules.take_over(claimed, 1, "m2", "m3", 11.0) is None  # m2 does not hold it
    taken = rules.take_over(claimed, 1, "m1", "m3", 11.0)
    assert taken is not None and (taken.claimant, taken.claimed_at) == ("m3", 11.0)
    assert rules.take_over(taken, 1, "m1", "m4", 12.0) is None  # already handed on
    started = rules.start(taken, 1, "op", 12.0)
    assert started is not None and rules.take_over(started, 1, "m3", "m4", 13.0) is None
