"""One contract for every UsageRecorder adapter."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from shared.adapters.local.usage import SqliteUsage
from shared.ports.usage import Usage, UsageRecorder
from tests.emulators import firestore_client, firestore_emulator, fresh_root  # noqa: F401


def firestore_usage(request: pytest.FixtureRequest, tmp: Path) -> UsageRecorder:
    from shared.adapters.gcp.firestore_usage import FirestoreUsage

    client: Any = request.getfixturevalue("firestore_client")
    return FirestoreUsage(client, root=fresh_root())


ADAPTERS: dict[str, Callable[[pytest.FixtureRequest, Path], UsageRecorder]] = {
    "sqlite": lambda _, tmp: SqliteUsage(tmp / "usage.db"),
    "firestore": firestore_usage,
}


@pytest.fixture(params=sorted(ADAPTERS))
def usage(request: pytest.FixtureRequest, tmp_path: Path) -> UsageRecorder:
    return ADAPTERS[request.param](request, tmp_path)


def test_records_are_per_tale_and_replaced_by_key(usage: UsageRecorder) -> None:
    usage.record(Usage("tale-000001", "shot:1:1", "veo", "veo-3.1", {"video_seconds": 8}, 1.0))
    usage.record(
        Usage(
            "tale-000001",
            "plan:1",
            "gemini",
            "gemini-2.5-flash",
            {"input_tokens": 900, "output_tokens": 1200},
            2.0,
        )
    )
    usage.record(
        Usage("tale-000002", "plan:1", "gemini", "gemini-2.5-flash", {"input_tokens": 5}, 3.0)
    )
    usage.record(Usage("tale-000001", "shot:1:1", "veo", "veo-3.1", {"video_seconds": 8}, 4.0))
    records = usage.for_tale("tale-000001")
    assert [(u.key, u.units) for u in records] == [
        ("plan:1", {"input_tokens": 900, "output_tokens": 1200}),
        ("shot:1:1", {"video_seconds": 8}),
    ]
    assert records[1].at == 4.0 and records[1].model == "veo-3.1"
    assert usage.for_tale("tale-nothing") == []
