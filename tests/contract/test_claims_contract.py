"""One contract for every Claims adapter (and the test fake)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from shared.adapters.gcp.firestore_claims import FirestoreClaims
from shared.adapters.local.claims import SqliteClaims
from shared.ports import claims as keys
from shared.ports.claims import Claims
from tests.emulators import firestore_client, firestore_emulator, fresh_root
from tests.fakes import InMemoryClaims

__all__ = ["firestore_client", "firestore_emulator"]  # fixtures, for the firestore param

ADAPTERS: dict[str, Callable[[Path], Claims]] = {
    "memory": lambda _: InMemoryClaims(),
    "sqlite": lambda tmp: SqliteClaims(tmp / "state.db"),
}
FIRESTORE: dict[str, Callable[[Any], Claims]] = {
    "firestore": lambda client: FirestoreClaims(client, root=fresh_root()),
}


@pytest.fixture(params=sorted(ADAPTERS) + sorted(FIRESTORE))
def claims(request: pytest.FixtureRequest, tmp_path: Path) -> Claims:
    if request.param in FIRESTORE:  # the emulator starts only when this runs
        return FIRESTORE[request.param](request.getfixturevalue("firestore_client"))
    return ADAPTERS[request.param](tmp_path)


def _race(n: int, work: Callable[[int], Any]) -> list[Any]:
    results: list[Any] = [None] * n
    barrier = threading.Barrier(n)

    def run(i: int) -> None:
        barrier.wait()
        results[i] = work(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_markers_are_set_once(claims: Claims) -> None:
    key = keys.webhook("msg_1")
    assert not claims.marked(key)
    assert sum(_race(6, lambda _: claims.claim_once(key))) == 1
    assert claims.marked(key) and not claims.marked(keys.webhook("msg_2"))


def test_work_claims_name_their_holder(claims: Claims) -> None:
    key = keys.digest("analysis-1:follower-1")
    holders = _race(6, lambda i: claims.claim(key, f"message-{i}"))
    assert len(set(holders)) == 1
    assert claims.claim(key, "message-late") == holders[0]


def test_counters_are_atomic(claims: Claims) -> None:
    values = _race(20, lambda _: claims.bump(keys.rate_window("u", 1)))
    assert sorted(values) == list(range(1, 21))
    assert claims.bump(keys.rate_window("u", 2)) == 1


def test_keys_are_namespaced() -> None:
    assert keys.rate_window("u", 7).value == "rate:u:7"
    assert keys.idempotency("u", "k") != keys.webhook("k")
    assert str(keys.gpu_execution("tale-1", 2)) == "gpu-execution:tale-1:a2"
