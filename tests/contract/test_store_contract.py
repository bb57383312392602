"""One contract for every TaleStore adapter (and the test fake)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from shared.adapters.gcp.firestore_store import FirestoreTaleStore
from shared.adapters.local.keys import LocalKeyFile
from shared.adapters.local.store import SqliteTaleStore
from shared.crypto.sealing import DecryptionError
from shared.domain.errors import IllegalTransition, MusicLocked, PlanVersionMismatch, TaleNotFound
from shared.domain.music import MusicTrack
from shared.domain.tale import ShotStatus, TaleState
from shared.ports.store import TaleStore
from tests.conftest import make_plan, make_record, make_submission
from tests.emulators import firestore_client, firestore_emulator, fresh_root
from tests.fakes import InMemoryTaleStore

__all__ = ["firestore_client", "firestore_emulator"]  # fixtures, for the firestore params

ADAPTERS: dict[str, Callable[[Path], TaleStore]] = {
    "memory": lambda _: InMemoryTaleStore(),
    "sqlite": lambda tmp: SqliteTaleStore(tmp / "state.db"),
    "sqlite-sealed": lambda tmp: SqliteTaleStore(tmp / "sealed.db", keys=LocalKeyFile(tmp / "k")),
}
FIRESTORE: dict[str, Callable[[Path, Any], TaleStore]] = {
    "firestore": lambda _, client: FirestoreTaleStore(client, root=fresh_root()),
    "firestore-sealed": lambda tmp, client: FirestoreTaleStore(
        client, root=fresh_root(), keys=LocalKeyFile(tmp / "k")
    ),
}


@pytest.fixture(params=sorted(ADAPTERS) + sorted(FIRESTORE))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> TaleStore:
    if request.param in FIRESTORE:  # the emulator starts only when these run
        return FIRESTORE[request.param](tmp_path, request.getfixturevalue("firestore_client"))
    return ADAPTERS[request.param](tmp_path)


def _rendering(store: TaleStore, shots: int = 3) -> str:
    store.create(make_record(shots=shots), make_submission(shots))
    store.save_plan("tale-000001", make_plan(shots))
    store.transition("tale-000001", [TaleState.SUBMITTED], TaleState.PLANNING, stage="planning")
    store.transition("tale-000001", [TaleState.PLANNING], TaleState.RENDERING, stage="shots")
    store.init_shots("tale-000001", shots)
    return "tale-000001"


def test_create_is_idempotent_and_readable(store: TaleStore) -> None:
    assert store.create(make_record(), make_submission()) is True
    assert store.create(make_record(), make_submission(shots=5)) is False
    tale = store.find("tale-000001")
    assert tale is not None and tale.state is TaleState.SUBMITTED
    assert store.submission("tale-000001").shot_count == 3
    assert store.find("tale-nope00") is None
    assert [t.tale_id for t in store.list_tales(states=[TaleState.SUBMITTED])] == ["tale-000001"]
    assert store.list_tales(states=[TaleState.COMPLETED]) == []


def test_transition_is_compare_and_set(store: TaleStore) -> None:
    store.create(make_record(), make_submission())
    assert store.transition(
        "tale-000001", [TaleState.SUBMITTED], TaleState.PLANNING, stage="planning"
    )
    assert not store.transition(
        "tale-000001", [TaleState.SUBMITTED], TaleState.PLANNING, stage="planning"
    )
    with pytest.raises(IllegalTransition):
        store.transition("tale-000001", [TaleState.PLANNING], TaleState.COMPLETED, stage="x")
    with pytest.raises(TaleNotFound):
        store.transition("tale-nope00", [TaleState.PLANNING], TaleState.FAILED, stage="x")
    assert store.transition(
        "tale-000001", [TaleState.PLANNING], TaleState.FAILED, stage="planning", error_reason="boom"
    )
    tale = store.find("tale-000001")
    assert tale is not None
    assert (tale.state, tale.error_stage, tale.error_reason) == (
        TaleState.FAILED,
        "planning",
        "boom",
    )
    with pytest.raises(IllegalTransition):
        store.transition("tale-000001", [TaleState.FAILED], TaleState.COMPLETED, stage="x")


def test_first_plan_wins_and_progress_never_goes_back(store: TaleStore) -> None:
    store.create(make_record(), make_submission())
    first = store.save_plan("tale-000001", make_plan(3))
    again = store.save_plan("tale-000001", make_plan(5))
    assert again == first and len(again.shots) == 3
    store.update("tale-000001", progress=40, outputs={"a": "x"})
    store.update("tale-000001", progress=10, outputs={"b": "y"})
    tale = store.find("tale-000001")
    assert tale is not None and tale.progress == 40 and tale.outputs == {"a": "x", "b": "y"}


def test_shot_claims_start_once(store: TaleStore) -> None:
    tale = _rendering(store)
    shot, fresh = store.claim_shot(tale, 0, 1)
    assert fresh and shot.status is ShotStatus.CLAIMED
    again, fresh_again = store.claim_shot(tale, 0, 1)
    assert not fresh_again and again.status is ShotStatus.CLAIMED
    store.mark_shot_started(tale, 0, 1, "op-1")
    store.mark_shot_started(tale, 0, 1, "op-2")  # a duplicate start record is ignored
    started = store.shots(tale)[0]
    assert (started.operation_id, started.starts) == ("op-1", 1)
    store.finish_shot(tale, 0, 1, "clip-0")
    assert store.shots(tale)[0].status is ShotStatus.RENDERED
    stale, fresh_stale = store.claim_shot(tale, 0, 7)
    assert not fresh_stale and stale.attempt == 1


def test_expired_unstarted_claim_can_be_taken_over(store: TaleStore) -> None:
    tale = _rendering(store)
    store.claim_shot(tale, 1, 1)
    assert store.claim_shot(tale, 1, 1, lease_s=3600)[1] is False
    assert store.claim_shot(tale, 1, 1, lease_s=0)[1] is True
    store.mark_shot_started(tale, 1, 1, "op")
    assert store.claim_shot(tale, 1, 1, lease_s=0)[1] is False  # started: never taken over


def test_retry_shot_moves_to_next_attempt_once(store: TaleStore) -> None:
    tale = _rendering(store)
    store.claim_shot(tale, 2, 1)
    assert store.retry_shot(tale, 2, 1) == 2
    assert store.retry_shot(tale, 2, 1) == 2
    shot = store.shots(tale)[2]
    assert (shot.attempt, shot.status) == (2, ShotStatus.PENDING)


def test_fan_in_moves_to_stitching_exactly_once_under_concurrency(store: TaleStore) -> None:
    tale = _rendering(store, shots=8)
    for i in range(8):
        store.claim_shot(tale, i, 1)
        store.finish_shot(tale, i, 1, f"clip-{i}")
    keys: list[str | None] = []
    lock = threading.Lock()

    def collect(i: int) -> None:
        result = store.fan_in(tale, i, 1, f"key-{i}")
        with lock:
            keys.append(result.fan_in_key)

    threads = [threading.Thread(target=collect, args=(i % 8,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(keys)) == 1 and keys[0] is not None
    tale_rec = store.find(tale)
    assert tale_rec is not None and tale_rec.state is TaleState.STITCHING
    assert tale_rec.fan_in_key == keys[0]


def test_fan_in_waits_for_every_shot(store: TaleStore) -> None:
    tale = _rendering(store, shots=3)
    store.claim_shot(tale, 0, 1)
    store.finish_shot(tale, 0, 1, "c")
    result = store.fan_in(tale, 0, 1, "k0")
    assert (result.rendered, result.total, result.fan_in_key) == (1, 3, None)
    tale_rec = store.find(tale)
    assert tale_rec is not None and tale_rec.state is TaleState.RENDERING
    assert tale_rec.progress > 15


def test_markers_log_and_characters(store: TaleStore) -> None:
    store.create(make_record(), make_submission())
    tale = "tale-000001"
    assert store.mark(tale, "notified:x") and not store.mark(tale, "notified:x")
    assert store.marked(tale, "notified:x") and not store.marked(tale, "notified:y")
    assert not store.marked("tale-nope00", "notified:x")
    store.log(tale, "planning", "hello")
    assert [e.message for e in store.events(tale)][-1] == "hello"
    store.record_character(tale, "Mina", "p.png")
    assert store.characters(tale) == {"Mina": "p.png"}


def test_work_claims_name_their_holder(store: TaleStore) -> None:
    store.create(make_record(), make_submission())
    tale = "tale-000001"
    assert store.claim(tale, "handling:stitch", "message-1") == "message-1"
    assert store.claim(tale, "handling:stitch", "message-2") == "message-1"
    assert store.claim(tale, "handling:stitch", "message-1") == "message-1"
    with pytest.raises(TaleNotFound):
        store.claim("tale-nope00", "handling:stitch", "message-1")


def test_claims_and_markers_are_exclusive_under_concurrency(store: TaleStore) -> None:
    store.create(make_record(), make_submission())
    tale = "tale-000001"
    holders: list[str] = []
    firsts: list[bool] = []
    lock = threading.Lock()

    def race(i: int) -> None:
        holder = store.claim(tale, "handling:plan", f"message-{i}")
        first = store.mark(tale, "notified:done")
        with lock:
            holders.append(holder)
            firsts.append(first)

    threads = [threading.Thread(target=race, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(holders)) == 1 and sum(firsts) == 1


def test_retry_rounds_count_up(store: TaleStore) -> None:
    store.create(make_record(), make_submission())
    assert [store.next_retry_round("tale-000001") for _ in range(3)] == [1, 2, 3]


def test_the_rendered_count_follows_every_shot_change(store: TaleStore) -> None:
    tale = _rendering(store, shots=3)
    for i in range(3):
        store.claim_shot(tale, i, 1)
        store.finish_shot(tale, i, 1, f"clip-{i}")
    store.finish_shot(tale, 0, 1, "clip-again")  # a repeated finish counts once
    record = store.find(tale)
    assert record is not None and record.rendered == 3
    assert store.retry_shot(tale, 1, 1) == 2  # a rendered shot re-rendered: no longer counted
    record = store.find(tale)
    assert record is not None and record.rendered == 2
    assert store.fan_in(tale, 0, 1, "k").fan_in_key is None
    store.claim_shot(tale, 1, 2)
    store.finish_shot(tale, 1, 2, "clip-1b")
    assert store.fan_in(tale, 1, 2, "k1").fan_in_key == "k1"


def test_a_failed_decision_changes_nothing(store: TaleStore) -> None:
    tale = _rendering(store, shots=2)

    def decide(agg: Any) -> None:
        agg.update(title="half-written")
        agg.mark("notified:x")
        raise IllegalTransition("refused after deciding half")

    with pytest.raises(IllegalTransition):
        store.unit("test", tale, tale, decide)
    record = store.find(tale)
    assert record is not None and record.title != "half-written" and not record.markers


def test_the_story_is_sealed_at_rest(tmp_path: Path) -> None:
    keys = LocalKeyFile(tmp_path / "keys")
    store = SqliteTaleStore(tmp_path / "state.db", keys=keys)
    secret = "비밀 이야기: the fox hid the moon in a teacup."
    store.create(make_record(), make_submission(text=secret))
    assert store.submission("tale-000001").text == secret
    store.db.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("state.db*"))
    assert secret.encode() not in raw and b"teacup" not in raw
    reader = SqliteTaleStore(tmp_path / "state.db", keys=LocalKeyFile(tmp_path / "other"))
    with pytest.raises(DecryptionError):
        reader.submission("tale-000001")


def test_sqlite_store_reports_every_change_of_a_tale(tmp_path: Path) -> None:
    seen: list[tuple[str, TaleState, int]] = []
    store = SqliteTaleStore(
        tmp_path / "state.db", on_change=lambda t: seen.append((t.tale_id, t.state, t.progress))
    )
    store.create(make_record(), make_submission())
    store.transition("tale-000001", [TaleState.SUBMITTED], TaleState.PLANNING, stage="planning")
    store.update("tale-000001", progress=7)
    store.log("tale-000001", "planning", "not a change of the tale's fields")
    assert seen == [
        ("tale-000001", TaleState.SUBMITTED, 0),
        ("tale-000001", TaleState.PLANNING, 5),
        ("tale-000001", TaleState.PLANNING, 7),
    ]


def test_an_unstarted_claim_is_released_only_by_its_holder(store: TaleStore) -> None:
    tale = _rendering(store)
    store.claim_shot(tale, 0, 1, claimant="message-1")
    store.release_claim(tale, 0, 1, "message-2")
    assert store.shots(tale)[0].status is ShotStatus.CLAIMED
    store.release_claim(tale, 0, 1, "message-1")
    assert store.shots(tale)[0].status is ShotStatus.PENDING
    assert store.claim_shot(tale, 0, 1, claimant="message-3")[1] is True
    store.mark_shot_started(tale, 0, 1, "op")
    store.release_claim(tale, 0, 1, "message-3")  # started: never released
    assert store.shots(tale)[0].status is ShotStatus.STARTED


def test_one_shot_is_read_on_its_own(store: TaleStore) -> None:
    tale = _rendering(store)
    store.claim_shot(tale, 1, 1)
    assert store.shot(tale, 1) == store.shots(tale)[1]
    assert store.shot(tale, 0) == store.shots(tale)[0]
    assert store.shot(tale, 99) is None


def test_an_unstarted_claim_is_taken_over_once(store: TaleStore) -> None:
    tale = _rendering(store, shots=1)
    store.claim_shot(tale, 0, 1, claimant="m1")
    won: list[bool] = []
    lock = threading.Lock()

    def take(i: int) -> None:
        result = store.take_over_shot(tale, 0, 1, "m1", f"m{i + 2}")
        with lock:
            won.append(result)

    threads = [threading.Thread(target=take, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(won) == 1
    shot = store.shot(tale, 0)
    assert shot is not None and shot.status is ShotStatus.CLAIMED and shot.claimant != "m1"


def test_the_storyboard_is_replaced_by_version(store: TaleStore) -> None:
    store.create(make_record(shots=3), make_submission(3))
    tale = "tale-000001"
    record = store.find(tale)
    assert record is not None and record.plan_version == 0
    store.save_plan(tale, make_plan(3))
    record = store.find(tale)
    assert record is not None and record.plan_version == 1
    edited = make_plan(4)
    assert store.replace_plan(tale, edited, 1) == 2
    stored = store.plan(tale)
    assert stored is not None and len(stored.shots) == 4
    record = store.find(tale)
    assert record is not None and (record.plan_version, record.shot_count) == (2, 4)
    with pytest.raises(PlanVersionMismatch) as stale:
        store.replace_plan(tale, make_plan(2), 1)  # edited from a version that is gone
    assert (stale.value.expected, stale.value.current) == (1, 2)
    stored = store.plan(tale)
    assert stored is not None and len(stored.shots) == 4


def test_two_editors_of_one_version_one_wins(store: TaleStore) -> None:
    store.create(make_record(shots=3), make_submission(3))
    tale = "tale-000001"
    store.save_plan(tale, make_plan(3))
    outcomes: list[str] = []
    lock = threading.Lock()

    def edit(shots: int) -> None:
        try:
            store.replace_plan(tale, make_plan(shots), 1)
            result = f"won:{shots}"
        except PlanVersionMismatch:
            result = "stale"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=edit, args=(n,)) for n in (1, 2, 4, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    (winner,) = [o for o in outcomes if o.startswith("won")]
    assert outcomes.count("stale") == 3
    stored = store.plan(tale)
    assert stored is not None and len(stored.shots) == int(winner.split(":")[1])


def test_the_options_are_read_without_the_story(store: TaleStore) -> None:
    store.create(make_record(), make_submission())
    assert store.options("tale-000001") == store.submission("tale-000001").options
    with pytest.raises(TaleNotFound):
        store.options("tale-nope00")


def test_the_music_is_recorded_while_the_state_allows(store: TaleStore) -> None:
    """The owner's track is part of the tale: set, replaced and removed in one unit of work
    each, refused once the tale is stitching, and read back whole."""
    tale = _rendering(store, shots=1)
    track = MusicTrack(
        path=f"tales/{tale}/music/{'a' * 64}",
        sha256="a" * 64,
        content_type="audio/mpeg",
        bytes=12_345,
        seconds=61.25,
        channels=2,
        sample_rate=44_100,
    )
    assert store.set_music(tale, track) is None
    found = store.find(tale)
    assert found is not None and found.music == track
    other = replace(track, path=f"tales/{tale}/music/{'b' * 64}", sha256="b" * 64, channels=1)
    assert store.set_music(tale, other) == track
    assert store.set_music(tale, other) == other  # the same track again: no change
    store.transition(tale, [TaleState.RENDERING], TaleState.STITCHING, stage="stitching")
    with pytest.raises(MusicLocked):  # stitching: the track can no longer change
        store.set_music(tale, track)
    with pytest.raises(MusicLocked):
        store.set_music(tale, None)
    assert store.set_music(tale, other) == other  # unchanged: nothing to refuse
    store.update(tale, outputs={"video": "final.mp4"})
    store.transition(tale, [TaleState.STITCHING], TaleState.COMPLETED, stage="completed")
    assert store.set_music(tale, None) == other  # finished: for its next revision
    found = store.find(tale)
    assert found is not None and found.music is None
    assert [e.message for e in store.events(tale) if e.stage == "music"] == [
        "music set (audio/mpeg, 61.2 s)",
        "music set (audio/mpeg, 61.2 s)",
        "music removed",
    ]
