"""One client per cloud service per process, built by the composition root.

Every Firestore adapter gets ``Container.firestore`` — one ``MeteredClient`` — and the bus and
the dead-letter tools share ``Container.publisher``. No emulator is needed: clients connect on
their first call, and none is made here (the emulator-backed counts are in
``tests/integration/test_firestore_metering.py``).
"""

from __future__ import annotations

import inspect
import re
import threading
from pathlib import Path
from typing import Any

import pytest
from google.cloud import firestore, pubsub_v1

from shared import bootstrap
from shared.adapters.gcp.firestore_metering import MeteredClient, _CountingApi, meter_client
from shared.adapters.local.keys import LocalKeyFile
from shared.config import Settings
from tests.gcp_fakes import FakePublisher, FakeSubscriber

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def gcp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> bootstrap.Container:
    """A container in GCP mode whose clients would talk to a local emulator address."""
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", "127.0.0.1:9")  # anonymous credentials
    monkeypatch.setattr(pubsub_v1, "PublisherClient", lambda **_: FakePublisher())
    monkeypatch.setattr(pubsub_v1, "SubscriberClient", lambda: FakeSubscriber("hold"))
    settings = Settings(
        home=tmp_path / "home",
        gcp_project="tale-test",
        media_bucket="media",
        kms_key="projects/p/locations/l/keyRings/r/cryptoKeys/k",
    )
    return bootstrap.Container(settings, keys=LocalKeyFile(tmp_path / "keys"))


def test_the_library_still_has_the_seam_that_metering_overrides() -> None:
    """``MeteredClient`` overrides the property every RPC goes through: if an upgrade of
    google-cloud-firestore renames it, this fails instead of the meter silently reading 0."""
    assert isinstance(inspect.getattr_static(firestore.Client, "_firestore_api"), property)
    assert isinstance(inspect.getattr_static(MeteredClient, "_firestore_api"), property)


def test_a_metered_client_counts_through_the_library_api(gcp: bootstrap.Container) -> None:
    client = gcp.firestore
    assert isinstance(client, MeteredClient)
    api = client._firestore_api
    assert isinstance(api, _CountingApi)
    assert client._firestore_api is api  # one wrapper, not one per call
    assert meter_client(client) is client and client._firestore_api is api  # no double count


def test_every_firestore_adapter_shares_the_one_client(gcp: bootstrap.Container) -> None:
    client = gcp.firestore
    usage: Any = gcp.usage
    adapters: dict[str, Any] = {
        "store": gcp.store.client,  # type: ignore[attr-defined]
        "claims": gcp.claims.client,  # type: ignore[attr-defined]
        "usage": usage.inner._client,
        "audit": gcp.audit._client,  # type: ignore[attr-defined]
        "trends": gcp.trends.client,  # type: ignore[attr-defined]
    }
    assert {name: c is client for name, c in adapters.items()} == dict.fromkeys(adapters, True)


def test_the_bus_and_the_dead_letters_share_the_publisher(gcp: bootstrap.Container) -> None:
    bus: Any = gcp.bus
    assert bus._publisher is None  # no channel until the first publish
    assert bus.publisher is gcp.publisher
    letters: Any = gcp.dead_letters
    assert letters.publisher is gcp.publisher
    assert letters.subscriber is gcp.subscriber


def test_concurrent_first_uses_build_one_client(gcp: bootstrap.Container) -> None:
    start = threading.Barrier(8)
    seen: list[Any] = []

    def first_use() -> None:
        start.wait()
        seen.append(gcp.firestore)

    threads = [threading.Thread(target=first_use) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 8 and all(c is seen[0] for c in seen)


#: Where a Firestore, Cloud Storage or Pub/Sub client may be constructed (at most): the
#: composition root's factories.
_MAKERS = {
    "shared/bootstrap.py": 1,  # Container.subscriber
    "shared/adapters/gcp/pubsub_bus.py": 1,  # publisher_client(), used by Container.publisher
    "shared/adapters/gcp/gcs_blobs.py": 1,  # GcsBlobStore.from_settings, used by Container.blobs
}
_CONSTRUCTION = re.compile(
    r"\b(?:firestore\.Client|storage\.Client|PublisherClient|SubscriberClient)\("
)


def test_clients_are_constructed_only_by_the_composition_root() -> None:
    found: dict[str, int] = {}
    for path in sorted((ROOT / "shared").rglob("*.py")):
        hits = len(_CONSTRUCTION.findall(path.read_text(encoding="utf-8")))
        if hits:
            found[path.relative_to(ROOT).as_posix()] = hits
    extra = {f: n for f, n in found.items() if n > _MAKERS.get(f, 0)}
    assert not extra, f"clients constructed outside the composition root's factories: {extra}"
