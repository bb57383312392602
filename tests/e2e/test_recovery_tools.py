"""Operators' recovery tools: stuck and failed tales, dead letters and replays, retrying a
failed tale from its last good stage without charging again, and the stuck-work sweep."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from schemas.events import TaleFinished
from schemas.story import StoryOptions
from shared import bootstrap, service
from shared.adapters.local.bus import SqliteEventBus
from shared.domain.tale import TaleState
from shared.runtime.local import LocalRuntime
from tests.conftest import make_submission
from tests.e2e.helpers import tale

pytestmark = pytest.mark.e2e


def failed_in_rendering(home: Path) -> str:
    """A tale that fails at rendering: a malformed event for it ends in the dead-letter path."""
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
        runtime.run(timeout=60)
    record = container.store.find(tale_id)
    assert record is not None and record.state is TaleState.FAILED
    return tale_id


def test_dead_letters_are_listed_and_replayed(tale_home: Path) -> None:
    failed_in_rendering(tale_home)
    bus = bootstrap.container().bus
    assert isinstance(bus, SqliteEventBus)
    (letter,) = bus.dead_letters()
    assert letter.subscription == "render_shot" and "shot_index" in letter.last_error
    new_id = bus.replay(letter.message_id)
    ((_, attributes, _),) = [
        m
        for m in bus.published("shot.requested")
        if m[1] and m[1].get("tale_id") == letter.attributes["tale_id"]
    ][-1:]
    assert new_id != letter.message_id
    assert not any(k.startswith("CloudPubSubDeadLetter") for k in attributes)


def test_a_failed_tale_is_retried_from_its_last_good_stage(tale_home: Path) -> None:
    tale_id = failed_in_rendering(tale_home)
    container = bootstrap.container()
    assert service.retry(tale_id, store=container.store, bus=container.bus) is TaleState.RENDERING
    with LocalRuntime(container) as runtime:
        runtime.run(timeout=120)
    record = container.store.find(tale_id)
    assert record is not None and record.state is TaleState.COMPLETED
    assert (tale_home / "outbox" / f"{tale_id}-completed.eml").exists()
    with pytest.raises(Exception, match="only failed tales"):
        service.retry(tale_id, store=container.store, bus=container.bus)


def test_the_sweep_fails_tales_stuck_past_their_deadline(tale_home: Path) -> None:
    container = bootstrap.container()
    tale_id = service.submit(
        make_submission(2), owner="u", store=container.store, bus=container.bus, max_chars=20_000
    ).tale_id
    later = time.time() + 3600
    assert service.sweep(store=container.store, bus=container.bus, now=time.time()) == []
    assert service.sweep(store=container.store, bus=container.bus, now=later) == [
        (tale_id, "submitted")
    ]
    record = container.store.find(tale_id)
    assert record is not None and record.state is TaleState.FAILED
    assert "no progress for 60 min" in (record.error_reason or "")
    bus = container.bus
    assert isinstance(bus, SqliteEventBus)
    assert any(b'"outcome":"failed"' in data for _, _, data in bus.published(TaleFinished.TYPE))
    assert service.sweep(store=container.store, bus=container.bus, now=later) == []


def test_the_operator_commands(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = tale(
        home,
        "run",
        str(Path(__file__).parents[2] / "examples" / "lighthouse-fox.en.txt"),
        "--shots",
        "2",
        "--seconds",
        "4",
        "--approval",
        "--quiet",
    )
    tale_id = next(w for w in first.stdout.split() if w.startswith("tale-"))
    assert tale(home, "retry", tale_id).returncode == 2  # not failed
    assert tale(home, "cancel", tale_id).returncode == 0
    listing = tale(home, "stuck")
    assert listing.returncode == 0 and tale_id not in listing.stdout  # cancelled is fine
    assert "0 stuck" in tale(home, "sweep").stdout
    assert tale(home, "dead-letters").returncode == 0
    assert tale(home, "replay", "no-such-message").returncode == 2
