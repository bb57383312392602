"""Crash and resume, redelivery of every event, and the dead-letter path."""

from __future__ import annotations

import signal
import sqlite3
import time
from collections.abc import Mapping
from pathlib import Path

import pytest

from schemas.story import StoryOptions
from shared import bootstrap, service
from shared.adapters.local.bus import SqliteEventBus
from shared.domain.tale import TaleState
from shared.runtime.local import LocalRuntime
from tests.conftest import EXAMPLES, make_submission
from tests.e2e.helpers import decode, start_tale, tale

pytestmark = pytest.mark.e2e
STORY = str(EXAMPLES / "lighthouse-fox.en.txt")
ARGS = ("--shots", "6", "--seconds", "4", "--quiet")


def shot_rows(home: Path) -> list[tuple[int, str, int]]:
    if not (home / "state.db").exists():
        return []
    db = sqlite3.connect(home / "state.db")
    try:
        return db.execute("SELECT idx, status, starts FROM shots ORDER BY idx").fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        db.close()


def final_video(home: Path) -> Path:
    (video,) = (home / "blobs" / "tales").glob("*/final.mp4")
    return video


def test_killed_mid_rendering_then_resumed_equals_an_uninterrupted_run(tmp_path: Path) -> None:
    env = {"TALE_OFFLINE_SHOT_DELAY_S": "0.4", "TALE_CONCURRENCY": "2"}
    reference = tmp_path / "reference"
    assert tale(reference, "run", STORY, *ARGS).returncode == 0

    home = tmp_path / "crashed"
    proc = start_tale(home, "run", STORY, *ARGS, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        rendered = [r for r in shot_rows(home) if r[1] == "rendered"]
        if 2 <= len(rendered) < 6:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = {idx for idx, status, _ in shot_rows(home) if status == "rendered"}
    assert 2 <= len(before) < 6, "the run was not killed mid-rendering"

    resumed = tale(home, "resume", "--quiet", env=env)
    assert resumed.returncode == 0, resumed.stderr + resumed.stdout
    rows = shot_rows(home)
    assert all(status == "rendered" for _, status, _ in rows)
    assert all(starts == 1 for idx, _, starts in rows if idx in before), rows
    assert decode(final_video(home)) == decode(final_video(reference))


class DuplicatingBus(SqliteEventBus):
    """Every publish is delivered twice (two messages, two message ids), like a re-publish."""

    def publish_raw(self, topic: str, data: bytes, attributes: Mapping[str, str]) -> str:
        super().publish_raw(topic, data, attributes)
        return super().publish_raw(topic, data, attributes)


def run_local(tale_home: Path, duplicate: bool) -> str:
    container = bootstrap.container()
    if duplicate:
        plain = container.bus
        assert isinstance(plain, SqliteEventBus)
        container = bootstrap.configure(
            container.settings, bus=DuplicatingBus(plain.db.path, plain.subscriptions, plain.policy)
        )
    submission = make_submission(4, text=(EXAMPLES / "lighthouse-fox.en.txt").read_text())
    tale_id = service.submit(
        submission, owner="u", store=container.store, bus=container.bus, max_chars=20_000
    ).tale_id
    with LocalRuntime(container) as runtime:
        runtime.run(timeout=120)
    return tale_id


def test_every_event_delivered_twice_changes_nothing(tale_home: Path) -> None:
    tale_id = run_local(tale_home, duplicate=True)
    container = bootstrap.container()
    store = container.store
    tale_rec = store.find(tale_id)
    assert tale_rec is not None and tale_rec.state is TaleState.COMPLETED
    assert all(s.starts == 1 for s in store.shots(tale_id))
    messages = [e.message for e in store.events(tale_id)]
    assert sum("rendering → stitching" in m for m in messages) == 1
    assert sum(m.startswith("stitched") for m in messages) == 1
    # One notification: owner "u" has no profile, so its email is kept in the outbox, not sent.
    assert [e.message.split(":")[0] for e in store.events(tale_id) if e.stage == "notify"] == [
        "email not deliverable (completed)"
    ]
    assert len(list((tale_home / "outbox").glob("*.eml"))) == 1
    duplicated = decode(tale_home / "blobs" / tale_rec.outputs["video"])

    bootstrap.configure(container.settings.model_copy(update={"home": tale_home / "single"}))
    single_id = run_local(tale_home / "single", duplicate=False)
    single = bootstrap.container().store.find(single_id)
    assert single is not None
    assert decode(tale_home / "single" / "blobs" / single.outputs["video"]) == duplicated


def test_a_malformed_event_ends_in_the_dead_letter_path(tale_home: Path) -> None:
    container = bootstrap.container()
    submission = make_submission(2, options=StoryOptions(approval_required=True))
    tale_id = service.submit(
        submission, owner="u", store=container.store, bus=container.bus, max_chars=20_000
    ).tale_id
    bus = container.bus
    assert isinstance(bus, SqliteEventBus)
    with LocalRuntime(container) as runtime:
        runtime.run(timeout=60)
        bus.publish_raw(
            "shot.requested",
            b'{"tale_id": "' + tale_id.encode() + b'"}',
            {"tale_id": tale_id, "type": "shot.requested"},
        )
        stats = runtime.run(timeout=60)
    assert stats.dead_lettered == 1
    assert stats.retried == container.settings.max_delivery_attempts - 1
    tale_rec = container.store.find(tale_id)
    assert tale_rec is not None and tale_rec.state is TaleState.FAILED
    assert tale_rec.error_stage == "rendering"
    assert "gave up after 3 attempts" in (tale_rec.error_reason or "")
    assert "shot_index" in (tale_rec.error_reason or "")
    assert (tale_home / "outbox" / f"{tale_id}-failed.eml").exists()
    assert bus.outstanding() == 0
