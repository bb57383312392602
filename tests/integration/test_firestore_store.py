"""The Firestore tale store against the emulator (``tests/emulators.py``): races between
workers, each with its own client as separate processes would have, and what lies at rest."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from google.api_core import exceptions as gexc
from google.cloud import firestore

from shared.adapters.gcp import firestore_tx
from shared.adapters.gcp.firestore_store import FirestoreTaleStore, doc_id
from shared.adapters.local.keys import LocalKeyFile
from shared.domain.tale import ShotStatus, TaleRecord, TaleState
from tests.conftest import make_plan, make_record, make_submission
from tests.emulators import FirestoreEmulator, firestore_client, firestore_emulator, fresh_root

__all__ = ["firestore_client", "firestore_emulator"]  # fixtures

T = TypeVar("T")


def _race(count: int, work: Callable[[int], T]) -> list[T]:
    """Run ``work(0..count-1)`` in as many threads, released together; their results."""
    results: list[T] = []
    errors: list[BaseException] = []
    lock, gate = threading.Lock(), threading.Barrier(count)

    def run(i: int) -> None:
        gate.wait()
        try:
            result = work(i)
        except BaseException as exc:
            with lock:
                errors.append(exc)
        else:
            with lock:
                results.append(result)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert len(results) == count
    return results


@pytest.fixture
def workers(
    firestore_emulator: FirestoreEmulator,
) -> Iterator[Callable[[int], list[FirestoreTaleStore]]]:
    """``workers(n)``: n stores on one fresh root, each with its own client (gRPC channel)."""
    root = fresh_root()
    made: list[firestore.Client] = []

    def make(n: int) -> list[FirestoreTaleStore]:
        clients = [firestore_emulator.client() for _ in range(n)]
        made.extend(clients)
        return [FirestoreTaleStore(c, root=root) for c in clients]

    yield make
    for client in made:
        client.close()


def _rendering(store: FirestoreTaleStore, shots: int) -> str:
    store.create(make_record(shots=shots), make_submission(shots))
    store.save_plan("tale-000001", make_plan(shots))
    store.transition("tale-000001", [TaleState.SUBMITTED], TaleState.PLANNING, stage="planning")
    store.transition("tale-000001", [TaleState.PLANNING], TaleState.RENDERING, stage="shots")
    store.init_shots("tale-000001", shots)
    return "tale-000001"


def test_concurrent_fan_in_stitches_exactly_once(
    workers: Callable[[int], list[FirestoreTaleStore]],
) -> None:
    stores = workers(16)
    tale = _rendering(stores[0], shots=8)
    for i in range(8):
        stores[i].claim_shot(tale, i, 1, claimant=f"m-{i}")
        stores[i].finish_shot(tale, i, 1, f"clip-{i}")

    results = _race(16, lambda i: stores[i].fan_in(tale, i % 8, 1, f"key-{i}"))

    keys = {r.fan_in_key for r in results}
    assert len(keys) == 1 and None not in keys
    assert {(r.rendered, r.total) for r in results} == {(8, 8)}
    record = stores[0].find(tale)
    assert record is not None and record.state is TaleState.STITCHING
    assert record.fan_in_key in keys and record.progress == 90
    moves = [e for e in stores[0].events(tale) if e.message.startswith("rendering → stitching")]
    assert len(moves) == 1


def test_fan_in_counts_shots_finished_while_it_runs(
    workers: Callable[[int], list[FirestoreTaleStore]],
) -> None:
    """Each worker finishes its shot and then fans in, all at once: the last count sees 8."""
    stores = workers(8)
    tale = _rendering(stores[0], shots=8)
    for i in range(8):
        stores[i].claim_shot(tale, i, 1)

    def finish_then_fan_in(i: int) -> str | None:
        stores[i].finish_shot(tale, i, 1, f"clip-{i}")
        return stores[i].fan_in(tale, i, 1, f"key-{i}").fan_in_key

    keys = {k for k in _race(8, finish_then_fan_in) if k is not None}
    assert len(keys) == 1
    record = stores[0].find(tale)
    assert record is not None and record.state is TaleState.STITCHING
    assert record.fan_in_key in keys


def test_one_of_many_claims_of_a_shot_wins(
    workers: Callable[[int], list[FirestoreTaleStore]],
) -> None:
    stores = workers(10)
    tale = _rendering(stores[0], shots=2)

    results = _race(10, lambda i: stores[i].claim_shot(tale, 1, 1, claimant=f"message-{i}"))

    winners = [shot.claimant for shot, fresh in results if fresh]
    assert len(winners) == 1
    shot = stores[0].shots(tale)[1]
    assert shot.status is ShotStatus.CLAIMED and shot.claimant == winners[0]


def test_work_claims_race_to_one_holder(
    workers: Callable[[int], list[FirestoreTaleStore]],
) -> None:
    stores = workers(6)
    stores[0].create(make_record(), make_submission())
    holders = _race(6, lambda i: stores[i].claim("tale-000001", "handling:stitch", f"message-{i}"))
    assert len(set(holders)) == 1
    assert sum(_race(6, lambda i: stores[i].mark("tale-000001", "notified:x:done"))) == 1


def test_the_story_is_sealed_at_rest(firestore_client: Any, tmp_path: Path) -> None:
    root = fresh_root()
    store = FirestoreTaleStore(firestore_client, root=root, keys=LocalKeyFile(tmp_path / "k"))
    secret = "비밀 이야기: the fox hid the moon in a teacup."
    store.create(make_record(), make_submission(text=secret))
    assert store.submission("tale-000001").text == secret
    raw = firestore_client.document(f"{root}_tales/tale-000001/data/submission").get().to_dict()
    assert secret not in str(raw) and "teacup" not in str(raw)


def test_changes_are_mirrored_and_keys_escaped(firestore_client: Any) -> None:
    seen: list[tuple[TaleState, int]] = []

    def mirror(t: TaleRecord) -> None:
        seen.append((t.state, t.progress))

    store = FirestoreTaleStore(firestore_client, root=fresh_root(), on_change=mirror)
    store.create(make_record(), make_submission())
    store.transition("tale-000001", [TaleState.SUBMITTED], TaleState.PLANNING, stage="planning")
    store.update("tale-000001", progress=7)
    store.log("tale-000001", "planning", "not a change of the tale's fields")
    assert seen == [(TaleState.SUBMITTED, 0), (TaleState.PLANNING, 5), (TaleState.PLANNING, 7)]
    for key in ("a/b", "a%2Fb", ".", "..", "__x__", "", "a.b", "`x`"):
        assert store.mark("tale-000001", key) and store.marked("tale-000001", key)
    assert len({doc_id(k) for k in ("a/b", "a%2Fb", ".", "..", "__x__", "")}) == 6


def test_list_tales_filters_and_orders_newest_first(firestore_client: Any) -> None:
    clock = iter(float(t) for t in range(1000, 2000))
    store = FirestoreTaleStore(firestore_client, root=fresh_root(), clock=lambda: next(clock))
    for n, owner in enumerate(["ann", "bob", "ann", "ann"], start=1):
        record = make_record(tale_id=f"tale-{n:06d}")
        record.owner = owner
        store.create(record, make_submission())
    store.transition("tale-000003", [TaleState.SUBMITTED], TaleState.PLANNING, stage="planning")
    assert [t.tale_id for t in store.list_tales()] == [f"tale-00000{n}" for n in (4, 3, 2, 1)]
    assert [t.tale_id for t in store.list_tales(owner="ann", limit=2)] == [
        "tale-000004",
        "tale-000003",
    ]
    ann_submitted = store.list_tales(owner="ann", states=[TaleState.SUBMITTED])
    assert [t.tale_id for t in ann_submitted] == ["tale-000004", "tale-000001"]
    assert store.list_tales(states=[]) == []


def test_only_transient_errors_are_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(firestore_tx, "BACKOFF_S", 0.001)
    calls: list[int] = []

    def flaky(errors: list[Exception]) -> Callable[[], str]:
        def attempt() -> str:
            calls.append(1)
            if errors:
                raise errors.pop(0)
            return "ok"

        return attempt

    transient: list[Exception] = [
        gexc.Aborted("x"),
        gexc.ServiceUnavailable("x"),
        gexc.DeadlineExceeded("x"),
    ]
    assert firestore_tx.retrying(flaky(transient)) == "ok" and len(calls) == 4
    calls.clear()
    with pytest.raises(gexc.PermissionDenied):
        firestore_tx.retrying(flaky([gexc.PermissionDenied("no")]))
    assert len(calls) == 1
    calls.clear()
    with pytest.raises(gexc.InternalServerError):
        firestore_tx.retrying(flaky([gexc.InternalServerError("x") for _ in range(10)]))
    assert len(calls) == firestore_tx.ATTEMPTS
