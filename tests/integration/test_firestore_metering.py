"""Firestore's billable operations, counted at the client's RPC boundary, on the emulator:
a hand-computed sequence of lookups, queries, writes, batches and transactions — with the
process's client (``MeteredClient``, what the composition root builds) and with a plain
client metered in place — and every adapter of the composition root counted through its one
client."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from shared import bootstrap
from shared.adapters.gcp.firestore_metering import MeteredClient, meter_client
from shared.adapters.local.keys import LocalKeyFile
from shared.config import Settings
from shared.metering import metering
from shared.ports.claims import ClaimKey
from shared.ports.usage import Usage
from shared.trends.models import Follower
from tests.emulators import PROJECT, firestore_client, firestore_emulator, fresh_root

__all__ = ["firestore_client", "firestore_emulator"]  # fixtures

CLIENTS: dict[str, Callable[[firestore.Client], firestore.Client]] = {
    "MeteredClient": lambda _: MeteredClient(project=PROJECT),
    "meter_client": meter_client,
}


@pytest.mark.parametrize("make", CLIENTS.values(), ids=CLIENTS.keys())
def test_reads_writes_and_deletes_are_counted_per_document(
    firestore_client: firestore.Client,
    make: Callable[[firestore.Client], firestore.Client],
) -> None:
    client = make(firestore_client)
    assert meter_client(client) is client  # wrapping twice counts once
    things = client.collection(fresh_root())
    with metering() as meter:
        for i in range(3):
            things.document(f"d{i}").set({"n": i})  # 3 writes
        batch = client.batch()
        batch.set(things.document("d3"), {"n": 3})
        batch.update(things.document("d0"), {"n": 10})
        batch.commit()  # 2 writes in one commit
        assert things.document("d1").get().exists  # 1 read
        assert not things.document("missing").get().exists  # 1 read: a lookup of nothing
        assert (
            len(list(things.where(filter=FieldFilter("n", ">=", 2)).stream())) == 3
        )  # 3 reads (d2, d3, d0)
        assert (
            list(things.where(filter=FieldFilter("n", ">", 99)).stream()) == []
        )  # 1 read: the query minimum

        @firestore.transactional
        def bump(tx: firestore.Transaction) -> None:
            snap = things.document("d2").get(transaction=tx)  # 1 read
            tx.update(things.document("d2"), {"n": snap.get("n") + 1})  # 1 write

        bump(client.transaction())
        things.document("d3").delete()  # 1 delete
    assert meter["firestore_writes"] == 3 + 2 + 1
    assert meter["firestore_reads"] == 1 + 1 + 3 + 1 + 1
    assert meter["firestore_deletes"] == 1


def test_nothing_is_counted_outside_an_invocation(firestore_client: firestore.Client) -> None:
    client = meter_client(firestore_client)
    things = client.collection(fresh_root())
    things.document("a").set({"n": 1})
    with metering() as meter:
        pass
    assert meter == {}


def test_every_adapter_of_the_container_is_metered_through_its_one_client(
    firestore_emulator: object, tmp_path: Path
) -> None:
    """Usage, audit, claims and the trend store on the composition root's client: each
    operation is counted once, in the invocation's meter (the store is too: its own suite)."""
    settings = Settings(
        home=tmp_path / "home",
        gcp_project=PROJECT,
        media_bucket="media",
        kms_key="projects/p/locations/l/keyRings/r/cryptoKeys/k",
    )
    container = bootstrap.Container(settings, keys=LocalKeyFile(tmp_path / "keys"))
    tale = f"t-{uuid.uuid4().hex}"
    with metering() as meter:
        container.usage.record(Usage(tale, "k1", "gcp", "x", {"n": 1.0}, 1.0))  # 1 write
        container.audit.record(  # 1 write
            actor="plan_story", tale_id=tale, model="m", prompt_sha256="0" * 64
        )
        assert container.claims.claim_once(ClaimKey(f"test:{tale}"))  # 1 read, 1 write
        container.trends.follow(Follower(f"{tale}@example.com", "region", "KR"))  # 1 write
        assert [u.key for u in container.usage.for_tale(tale)] == ["k1"]  # 1 read
    assert (meter["firestore_writes"], meter["firestore_reads"]) == (4, 2)
    assert container.firestore is container.usage.inner._client  # type: ignore[attr-defined]
