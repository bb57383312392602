"""The cost ledger's operation counts equal what the stores independently hold.

Counted at the adapters' boundary into one usage record per function invocation (provider
``gcp``); compared with counts the meter never sees: the bus's own message table, the files
in the blob store, SQLite's own count of changed rows, and (on the emulators) the objects in
the bucket and a hand-computed sequence of Firestore operations.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from shared import bootstrap, pubsub_message, service
from shared.adapters.local.bus import SqliteEventBus
from shared.adapters.local.store import SqliteTaleStore
from shared.domain.tale import TaleState
from shared.metering import PUBSUB_MIN_BILLABLE_BYTES, metering
from shared.runtime.local import LocalRuntime
from tests.conftest import make_submission


def ops(container: bootstrap.Container, tale_id: str) -> Counter[str]:
    total: Counter[str] = Counter()
    for usage in container.usage.for_tale(tale_id):
        if usage.provider == "gcp":
            total.update(usage.units)
    return total


def test_operation_counts_equal_the_stores_own_counts(tale_home: Path) -> None:
    container = bootstrap.container()
    store, bus = container.store, container.bus
    assert isinstance(store, SqliteTaleStore) and isinstance(bus, SqliteEventBus)
    tales = [
        service.submit(
            make_submission(shots), owner="u", store=store, bus=bus, max_chars=20_000
        ).tale_id
        for shots in (2, 4)
    ]
    changed_before = sum(c.total_changes for c in store.db._all)
    with metering() as runtime_own, LocalRuntime(container) as runtime:
        runtime.run(timeout=120)  # its recovery and sweep write outside any invocation
    changed = sum(c.total_changes for c in store.db._all) - changed_before

    counted = {t: ops(container, t) for t in tales}
    for tale_id in tales:
        record = store.find(tale_id)
        assert record is not None and record.state is TaleState.COMPLETED
        n = counted[tale_id]
        # Messages: the bus's table, less tale.submitted (published by the API, and again by
        # the runtime's recovery, never by a pipeline function). Billable: 1,000 bytes or more.
        messages = [
            topic
            for topic, attrs, _ in bus.published()
            if attrs.get("tale_id") == tale_id and topic != "tale.submitted"
        ]
        assert n["pubsub_messages"] == len(messages)
        assert n["pubsub_bytes"] >= PUBSUB_MIN_BILLABLE_BYTES * n["pubsub_messages"]
        # Objects: the files under the tale's folder, and their bytes.
        files = [p for p in (tale_home / "blobs" / "tales" / tale_id).rglob("*") if p.is_file()]
        assert n["gcs_writes"] == len(files)
        assert n["gcs_bytes_written"] == sum(p.stat().st_size for p in files)
        # Invocations: one record each, every one with its duration.
        records = [u for u in container.usage.for_tale(tale_id) if u.provider == "gcp"]
        assert n["invocations"] == len(records) >= 6
        assert all(u.units["gib_seconds"] > 0 and u.units["vcpu_seconds"] > 0 for u in records)
    # Rows: SQLite's own count of changed rows equals the writes and deletes counted, less
    # the usage record each invocation adds for itself (it is kept in another database).
    counted_writes = sum(
        n["firestore_writes"] - n["invocations"] + n["firestore_deletes"] for n in counted.values()
    )
    own = runtime_own["firestore_writes"] + runtime_own["firestore_deletes"]
    assert counted_writes + own == changed
    # More shots, more work: the 4-shot tale needed more of every operation.
    small, large = counted[tales[0]], counted[tales[1]]
    for unit in ("invocations", "pubsub_messages", "firestore_writes", "gcs_writes"):
        assert large[unit] > small[unit], unit


def test_nothing_is_counted_outside_an_invocation(tale_home: Path) -> None:
    container = bootstrap.container()
    with metering() as meter:
        tale_id = service.submit(
            make_submission(2),
            owner="u",
            store=container.store,
            bus=container.bus,
            max_chars=20_000,
        ).tale_id
    assert meter["pubsub_messages"] == 1 and meter["firestore_writes"] >= 1
    assert ops(container, tale_id) == Counter()  # the API's work is not a pipeline invocation


def test_a_redelivery_is_counted_again(tale_home: Path) -> None:
    """Each attempt costs the platform, so each gets its own record (keyed by attempt)."""
    from tests.functions.test_entrypoints import client, post_structured

    container = bootstrap.container()
    tale_id = service.submit(
        make_submission(2), owner="u", store=container.store, bus=container.bus, max_chars=20_000
    ).tale_id
    data = json.dumps({"tale_id": tale_id}).encode()
    fn = client("plan_story")
    for attempt in (1, 2):
        attrs, body = pubsub_message.build(
            project="test",
            topic="tale.submitted",
            subscription="plan_story",
            message_id="123",
            data=data,
            attributes={"tale_id": tale_id, "type": "tale.submitted"},
            delivery_attempt=attempt,
        )
        assert post_structured(fn, attrs, body).status_code == 200
    records = [u for u in container.usage.for_tale(tale_id) if u.provider == "gcp"]
    assert sorted(u.key for u in records) == ["ops:plan_story:123:1", "ops:plan_story:123:2"]
    first, second = sorted(records, key=lambda u: u.key)
    assert first.units["firestore_writes"] > 1  # the plan, its characters, this record
    assert second.units["firestore_writes"] == 1  # the work was done: only this record


@pytest.mark.parametrize(
    "memory,concurrency,cpu", [("256Mi", 1, 0.167), ("4Gi", 1, 2.0), ("512Mi", 40, 1.0)]
)
def test_the_vcpu_a_function_is_billed_for(memory: str, concurrency: int, cpu: float) -> None:
    from shared.metering import vcpus

    assert vcpus(memory, concurrency) == cpu
