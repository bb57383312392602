"""The restore drill on the embedded default, as an operator runs it (docs/operations.md):
a paid tale is rendered, ``tale backup export`` writes the archive, the home is wiped,
``tale backup restore`` brings it back — and the tales (state, shots, outputs, event log,
sealed story), the decoded video, the usage records and the credits are all back."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from shared import bootstrap, service
from shared.domain.credits import period_of, tale_cost
from shared.domain.tale import TaleState
from shared.runtime.local import LocalRuntime
from tests.conftest import make_submission
from tests.e2e.helpers import decode, tale

pytestmark = pytest.mark.e2e

USER = "6f1c1c4e-0000-4000-8000-0000000000d1"


def snapshot(home: Path, tale_ids: list[str]) -> dict[str, Any]:
    container = bootstrap.container()
    store, ledger = container.store, container.ledger
    out: dict[str, Any] = {"balance": ledger.profile(USER).balance}  # type: ignore[union-attr]
    out["ledger"] = [(e.kind, e.amount, e.tale_id) for e in ledger.entries(USER)]
    for tale_id in tale_ids:
        record = store.find(tale_id)
        assert record is not None
        out[tale_id] = {
            "record": record,
            "shots": store.shots(tale_id),
            "events": [(e.stage, e.message) for e in store.events(tale_id)],
            "story": store.submission(tale_id).text,  # decrypted with the restored key
            "usage": container.usage.for_tale(tale_id),
            "video": decode(home / "blobs" / record.outputs["video"]),
        }
    return out


def test_export_wipe_restore_and_the_tales_are_back(tale_home: Path, tmp_path: Path) -> None:
    container = bootstrap.container()
    ledger, store, bus = container.ledger, container.store, container.bus
    ledger.ensure_profile(USER, "drill@example.com")
    ledger.grant_monthly(USER, period_of(0), 16)
    tale_ids = []
    for shots in (2, 3):
        submission = make_submission(shots)
        tale_id = service.new_tale_id()
        assert ledger.reserve(USER, tale_id, tale_cost(shots, submission.shot_seconds))
        service.submit(
            submission, owner=USER, store=store, bus=bus, max_chars=20_000, tale_id=tale_id
        )
        tale_ids.append(tale_id)
    with LocalRuntime(container) as runtime:
        runtime.run(timeout=120)
    for tale_id in tale_ids:
        record = store.find(tale_id)
        assert record is not None and record.state is TaleState.COMPLETED
    before = snapshot(tale_home, tale_ids)
    assert before["balance"] == 16 - tale_cost(2, 4) - tale_cost(3, 4) == 13  # both settled

    archive = tmp_path / "drill.tar.gz"
    exported = tale(tale_home, "backup", "export", str(archive))
    assert exported.returncode == 0, exported.stderr
    assert "every one with its SHA-256" in exported.stdout

    shutil.rmtree(tale_home)  # the disaster
    assert not tale_home.exists()

    restored = tale(tale_home, "backup", "restore", str(archive))
    assert restored.returncode == 0, restored.stderr
    assert "verified; 2 tale(s)" in restored.stdout
    bootstrap.configure(container.settings)  # reopen the stores on the restored files
    assert snapshot(tale_home, tale_ids) == before
    status = tale(tale_home, "status", tale_ids[1], check=True).stdout
    assert "completed" in status

    # A restore never overwrites a home by accident, and a damaged archive changes nothing.
    again = tale(tale_home, "backup", "restore", str(archive))
    assert again.returncode == 2 and "not empty" in again.stderr
    damaged = tmp_path / "damaged.tar.gz"
    damaged.write_bytes(archive.read_bytes()[:-200])
    bad = tale(tmp_path / "elsewhere", "backup", "restore", str(damaged))
    assert bad.returncode == 2 and "error" in bad.stderr
    forced = tale(tale_home, "backup", "restore", str(archive), "--force")
    assert forced.returncode == 0, forced.stderr
