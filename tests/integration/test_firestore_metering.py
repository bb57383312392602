"""Firestore's billable operations, counted at the client's RPC boundary, on the emulator:
a hand-computed sequence of lookups, queries, writes, batches and transactions."""

from __future__ import annotations

from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from shared.adapters.gcp.firestore_metering import meter_client
from shared.metering import metering
from tests.emulators import firestore_client, firestore_emulator, fresh_root

__all__ = ["firestore_client", "firestore_emulator"]  # fixtures


def test_reads_writes_and_deletes_are_counted_per_document(
    firestore_client: firestore.Client,
) -> None:
    client = meter_client(firestore_client)
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
