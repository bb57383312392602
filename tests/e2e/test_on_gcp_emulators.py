"""The core end-to-end tale once more, with the Firestore tale store and the Cloud Storage
blob store against their emulators (the bus stays local: no Pub/Sub emulator installs here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shared import bootstrap, service
from shared.adapters.gcp.firestore_store import FirestoreTaleStore
from shared.adapters.gcp.gcs_blobs import GcsBlobStore
from shared.adapters.local.keys import LocalKeyFile
from shared.config import Settings
from shared.domain.tale import TaleState
from shared.ports.records import public_view
from shared.runtime.local import LocalRuntime
from tests.conftest import EXAMPLES, make_submission
from tests.e2e.helpers import decode
from tests.emulators import firestore_client, firestore_emulator, fresh_root  # noqa: F401
from tests.gcs_emulator import GcsEmulator, gcs_bucket, gcs_emulator  # noqa: F401

pytestmark = pytest.mark.e2e


def test_a_korean_tale_on_firestore_and_cloud_storage(
    tmp_path: Path,
    firestore_client: Any,  # noqa: F811
    gcs_emulator: GcsEmulator,  # noqa: F811
    gcs_bucket: str,  # noqa: F811
) -> None:
    settings = Settings(
        home=tmp_path / "home",
        offline_height=160,
        offline_fps=8,
        concurrency=4,
        retry_min_backoff_s=0.01,
        retry_max_backoff_s=0.05,
    )
    local = bootstrap.Container(settings)
    records = local.records
    store = FirestoreTaleStore(
        firestore_client,
        keys=LocalKeyFile(tmp_path / "keys"),
        on_change=lambda t: records.upsert(public_view(t)),
        root=fresh_root(),
    )
    blobs = GcsBlobStore(gcs_emulator.client(), gcs_bucket)
    container = bootstrap.configure(settings, store=store, blobs=blobs)
    try:
        text = (EXAMPLES / "moon-rabbit.ko.txt").read_text(encoding="utf-8")
        tale_id = service.submit(
            make_submission(3, text=text),
            owner="u",
            store=store,
            bus=container.bus,
            max_chars=20_000,
        ).tale_id
        with LocalRuntime(container) as runtime:
            runtime.run(timeout=180)
        tale = store.find(tale_id)
        assert tale is not None and tale.state is TaleState.COMPLETED, tale
        assert [s.starts for s in store.shots(tale_id)] == [1, 1, 1]
        assert blobs.uri(tale.outputs["video"]).startswith(f"gs://{gcs_bucket}/")
        video = blobs.download(tale.outputs["video"], tmp_path / "final.mp4")
        width, height, frames, duration, _ = decode(video)
        assert (width, height, frames) == (90, 160, 3 * 4 * 8)
        assert abs(duration - 12.0) <= 0.5
        assert store.submission(tale_id).text == text.strip()
        mirrored = records.get(tale_id)
        assert mirrored is not None and mirrored.status == "completed"
        # The cost ledger's object counts equal what the bucket holds for the tale, and it
        # counted Firestore documents read and written through the client's RPCs.
        ops: dict[str, float] = {}
        for usage in container.usage.for_tale(tale_id):
            if usage.provider == "gcp":
                for unit, n in usage.units.items():
                    ops[unit] = ops.get(unit, 0.0) + n
        objects = list(gcs_emulator.client().list_blobs(gcs_bucket, prefix=f"tales/{tale_id}/"))
        assert ops["gcs_writes"] == len(objects)
        assert ops["gcs_bytes_written"] == sum(o.size for o in objects)
        assert ops["firestore_reads"] > 0 and ops["firestore_writes"] > ops["invocations"]
    finally:
        bootstrap.configure(Settings(home=tmp_path / "unused"))
