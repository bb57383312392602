"""Wire models, their checked-in JSON Schemas, and the tale state machine."""

from __future__ import annotations

import itertools

import pytest
from pydantic import ValidationError

from schemas.events import (
    EVENT_TYPES,
    NarrationRequested,
    ShotRendered,
    ShotRequested,
    TaleFinished,
)
from schemas.export import stale
from schemas.story import StorySubmission
from shared.domain.errors import IllegalTransition
from shared.domain.tale import TaleState, allowed, check_transition, progress
from tests.conftest import make_plan


def test_checked_in_json_schemas_are_current() -> None:
    assert stale() == [], "run: python -m schemas.export"


def test_events_carry_tale_id_and_logical_key_on_the_wire() -> None:
    event = ShotRequested(tale_id="tale-abc123", shot_index=3, attempt=2, poll=4)
    wire = event.model_dump(mode="json")
    assert wire["key"] == "tale-abc123:shot:3:2" and wire["version"] == 1
    again = ShotRequested.model_validate(wire)
    assert again == event
    assert (
        ShotRendered(tale_id="tale-abc123", shot_index=3, attempt=2, clip_path="x").key == event.key
    )
    finished = TaleFinished(tale_id="tale-abc123", outcome="failed")
    assert finished.key == "tale-abc123:finished:failed"
    revised = TaleFinished(tale_id="tale-abc123", outcome="completed", revision=2)
    assert revised.key == "tale-abc123:finished:completed:v2"  # each cut keys on its own
    voice = NarrationRequested(tale_id="tale-abc123", shot_index=3, revision=1)
    assert voice.key == "tale-abc123:narration:3:v1"
    assert set(EVENT_TYPES) == {
        "tale.submitted",
        "characters.requested",
        "shot.requested",
        "shot.rendered",
        "narration.requested",
        "stitch.requested",
        "tale.finished",
    }


@pytest.mark.parametrize(
    "payload",
    [
        {"tale_id": "BAD ID", "shot_index": 1},
        {"tale_id": "tale-abc123", "shot_index": -1},
        {"tale_id": "tale-abc123", "shot_index": 1, "version": 2},
    ],
)
def test_invalid_events_are_rejected(payload: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ShotRequested.model_validate(payload)


def test_submission_language_is_detected() -> None:
    assert StorySubmission(text="옛날 옛적에 토끼가 살았다.").resolved_language() == "ko"
    assert StorySubmission(text="Once upon a time.").resolved_language() == "en"
    assert StorySubmission(text="토끼", language="en").resolved_language() == "en"


def test_plan_rejects_unknown_characters_and_bad_numbering() -> None:
    plan = make_plan(2).model_dump()
    plan["shots"][1]["characters"] = ["Nobody"]
    with pytest.raises(ValidationError, match="unknown characters"):
        type(make_plan(1)).model_validate(plan)
    plan = make_plan(2).model_dump()
    plan["shots"][1]["index"] = 5
    with pytest.raises(ValidationError, match="numbered"):
        type(make_plan(1)).model_validate(plan)


def test_state_machine() -> None:
    path = [
        TaleState.SUBMITTED,
        TaleState.PLANNING,
        TaleState.RENDERING,
        TaleState.STITCHING,
        TaleState.COMPLETED,
    ]
    for a, b in itertools.pairwise(path):
        check_transition(a, b)
    assert allowed(TaleState.PLANNING, TaleState.AWAITING_APPROVAL)
    assert allowed(TaleState.AWAITING_APPROVAL, TaleState.RENDERING)
    for state in path[:-1]:
        assert allowed(state, TaleState.FAILED) and allowed(state, TaleState.CANCELLED)
    with pytest.raises(IllegalTransition):
        check_transition(TaleState.SUBMITTED, TaleState.RENDERING)
    with pytest.raises(IllegalTransition):
        check_transition(TaleState.COMPLETED, TaleState.FAILED)
    with pytest.raises(IllegalTransition):
        check_transition(TaleState.RENDERING, TaleState.PLANNING)


def test_progress_grows_with_rendered_shots_and_never_goes_back() -> None:
    values = [
        progress(TaleState.RENDERING, characters_done=True, shots_done=n, shot_count=8)
        for n in range(9)
    ]
    assert values == sorted(values) and values[0] == 20 and values[-1] == 90
    assert progress(TaleState.FAILED, previous=55) == 55
    assert progress(TaleState.PLANNING, previous=30) == 30
