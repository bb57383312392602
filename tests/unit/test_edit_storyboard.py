"""Editing a storyboard before approval, without HTTP: the rules of an edit
(``shared.domain.storyboard``) and the ``edit_storyboard`` use case with fakes — what it
stores, reserves and refuses (the API: ``tests/api/test_storyboard_edit.py``)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from schemas.events import TaleFinished
from schemas.plan import Camera, Character, Scene, Shot, StoryPlan
from schemas.story import Style
from schemas.storyboard import StoryboardEdit, StoryboardOperation
from shared.config import Settings
from shared.domain.errors import (
    InsufficientCredits,
    InvalidEdit,
    PlanVersionMismatch,
    PlanVersionRequired,
    SpendingCapExceeded,
    TaleNotFound,
    UnsupportedRequest,
    WrongState,
)
from shared.domain.storyboard import apply_edits
from shared.domain.tale import TaleState
from shared.stages.settle import settle_credits
from shared.usecases.edit_storyboard import Edited, EditStoryboard, edit_storyboard
from shared.usecases.submit_tale import SubmitTale, submit_tale
from tests.conftest import make_submission
from tests.fake_ledger import MemoryLedger
from tests.fakes import FakeBus, InMemoryClaims, InMemoryTaleStore

NOW = 1_794_000_000.0  # 2026-11-07 (UTC)
OPERATIONS: TypeAdapter[list[StoryboardOperation]] = TypeAdapter(list[StoryboardOperation])
MINA = "a girl in a red coat"
FOX = "a small orange fox with a white tail tip"


def plan(shots: int = 4, language: str = "en") -> StoryPlan:
    """Two scenes (shots 1-2 on the beach, the rest in the forest), two characters."""
    return StoryPlan(
        title="Mina and the fox",
        language=language,  # type: ignore[arg-type]
        style=Style.STORYBOOK,
        aspect_ratio="9:16",
        characters=[
            Character(name="Mina", description=MINA),
            Character(name="Fox", description=FOX),
        ],
        scenes=[
            Scene(index=0, setting="a beach at dawn", summary="Mina walks."),
            Scene(index=1, setting="a pine forest", summary="Mina meets the fox."),
        ],
        shots=[
            Shot(
                index=i,
                scene_index=0 if i < 2 else 1,
                prompt=f"shot {i} of {MINA}.",
                camera=Camera.MEDIUM,
                duration_s=4,
                characters=["Mina"],
                narration=f"line {i}" if language == "en" else f"{i}번째 줄",
            )
            for i in range(shots)
        ],
    )


def edit(base: StoryPlan, *ops: dict[str, Any]) -> StoryPlan:
    return apply_edits(base, OPERATIONS.validate_python(list(ops)))


# -- the rules --------------------------------------------------------------------------------


def test_a_shot_is_edited_field_by_field() -> None:
    edited = edit(
        plan(),
        {"op": "edit_shot", "shot": 2, "narration": "The sea was quiet.", "camera": "close-up"},
        {"op": "edit_shot", "shot": 3, "prompt": "a lantern glows", "duration_s": 8},
    )
    second, third = edited.shots[1], edited.shots[2]
    assert (second.narration, second.camera, second.prompt) == (
        "The sea was quiet.",
        Camera.CLOSE_UP,
        f"shot 1 of {MINA}.",  # untouched
    )
    assert third.duration_s == 8 and third.narration == "line 2"
    assert third.prompt == f"a lantern glows {MINA}."  # its character's description, added
    assert edited.total_seconds == 20


def test_shots_are_added_removed_and_moved_and_numbered_again() -> None:
    edited = edit(
        plan(),
        {"op": "add_shot", "at": 3, "prompt": "the fox peeks out", "characters": ["Fox"]},
        {"op": "remove_shot", "shot": 1},
        {"op": "move_shot", "shot": 4, "to": 1},
    )
    assert [s.index for s in edited.shots] == [0, 1, 2, 3]
    assert [s.prompt.split(" ")[1] for s in edited.shots] == ["3", "1", "fox", "2"]
    added = edited.shots[2]
    # the new shot is in the scene and of the length of the shot before it
    assert added.duration_s == 4 and added.camera is Camera.MEDIUM
    assert added.prompt == f"the fox peeks out {FOX}." and added.characters == ["Fox"]
    # the forest now comes first: scenes are numbered in the order the shots show them
    assert [s.setting for s in edited.scenes] == ["a pine forest", "a beach at dawn"]
    assert [s.scene_index for s in edited.shots] == [0, 1, 1, 0]


def test_a_scene_no_shot_shows_is_dropped() -> None:
    edited = edit(plan(), {"op": "remove_shot", "shot": 1}, {"op": "remove_shot", "shot": 1})
    assert [s.setting for s in edited.scenes] == ["a pine forest"]
    assert [(s.index, s.scene_index) for s in edited.shots] == [(0, 0), (1, 0)]
    added = edit(plan(), {"op": "add_shot", "at": 1, "prompt": "waves", "scene_index": 1})
    assert added.shots[0].scene_index == 0 and added.scenes[0].setting == "a pine forest"


def test_a_new_description_replaces_the_old_one_in_every_prompt() -> None:
    edited = edit(plan(), {"op": "edit_character", "name": "Mina", "description": "a boy in blue."})
    assert edited.character("Mina").description == "a boy in blue."
    assert all(s.prompt.endswith("of a boy in blue.") for s in edited.shots)
    assert edited.character("Fox").description == FOX


@pytest.mark.parametrize(
    ("ops", "says"),
    [
        ([{"op": "edit_shot", "shot": 5, "narration": "x"}], "no shot 5"),
        ([{"op": "remove_shot", "shot": 1}] * 3 + [{"op": "remove_shot", "shot": 1}], "at least 1"),
        ([{"op": "add_shot", "at": 6, "prompt": "x"}], "shot 1 to 5"),
        ([{"op": "move_shot", "shot": 1, "to": 5}], "no shot 5"),
        ([{"op": "add_shot", "at": 1, "prompt": "x", "scene_index": 2}], "no scene 2"),
        ([{"op": "edit_shot", "shot": 1, "characters": ["Hana"]}], "no characters ['Hana']"),
        ([{"op": "edit_character", "name": "Hana", "description": "x"}], "no character 'Hana'"),
        ([{"op": "edit_shot", "shot": 2, "prompt": "바다"}], "prompt of shot 2 contains Korean"),
        (
            [{"op": "edit_character", "name": "Fox", "description": "주황 여우"}],
            "description of Fox is not in English",
        ),
    ],
)
def test_an_impossible_edit_is_refused_whole(ops: list[dict[str, Any]], says: str) -> None:
    base = plan()
    with pytest.raises(InvalidEdit) as caught:
        edit(base, {"op": "edit_shot", "shot": 1, "narration": "changed"}, *ops)
    assert says in str(caught.value)


def test_the_limits_and_the_storys_language() -> None:
    full = plan(16)
    with pytest.raises(InvalidEdit, match="at most 16 shots"):
        edit(full, {"op": "add_shot", "at": 1, "prompt": "x"})
    korean = plan(2, language="ko")
    with pytest.raises(InvalidEdit, match="narration of shot 1 is not in Korean"):
        edit(korean, {"op": "edit_shot", "shot": 1, "narration": "Hello"})
    assert edit(korean, {"op": "edit_shot", "shot": 1, "narration": "안녕"}).shots[0].narration


def test_the_wire_model_refuses_what_no_storyboard_can_take() -> None:
    for body in [
        {"operations": []},
        {"operations": [{"op": "edit_shot", "shot": 1}]},  # changes nothing
        {"operations": [{"op": "edit_shot", "shot": 0, "narration": "x"}]},
        {"operations": [{"op": "edit_shot", "shot": 1, "duration_s": 5}]},
        {"operations": [{"op": "edit_shot", "shot": 1, "camera": "dolly zoom"}]},
        {"operations": [{"op": "rename", "shot": 1}]},
        {"operations": [{"op": "remove_shot", "shot": 1, "extra": True}]},
        {"operations": [{"op": "add_shot", "at": 1}]},  # a new shot needs its prompt
    ]:
        with pytest.raises(ValidationError):
            StoryboardEdit.model_validate(body)


# -- the use case -----------------------------------------------------------------------------


class World:
    def __init__(self, tmp: Path, **settings: Any) -> None:
        self.settings = Settings(home=tmp / "home", **settings)
        self.store = InMemoryTaleStore()
        self.ledger = MemoryLedger()
        self.owner = str(uuid.uuid4())

    def tale(self, shots: int = 2, credits: int = 16, story_plan: StoryPlan | None = None) -> str:
        """A tale of ``shots`` 4-second shots awaiting approval; the owner has ``credits``
        before it reserves its own."""
        self.ledger.ensure_profile(self.owner, "a@example.com")
        self.ledger.grant_monthly(self.owner, "2026-11", credits)
        tale = submit_tale(
            SubmitTale(make_submission(shots), self.owner),
            store=self.store,
            bus=FakeBus(),
            claims=InMemoryClaims(),
            ledger=self.ledger,
            settings=self.settings,
            clock=lambda: NOW,
        ).tale
        self.store.transition(tale.tale_id, [TaleState.SUBMITTED], TaleState.PLANNING, stage="p")
        self.store.save_plan(tale.tale_id, story_plan or plan(shots))
        self.store.transition(
            tale.tale_id, [TaleState.PLANNING], TaleState.AWAITING_APPROVAL, stage="awaiting"
        )
        return tale.tale_id

    def edit(
        self, tale_id: str, *ops: dict[str, Any], version: int | None = 1, owner: Any = "me"
    ) -> Edited:
        return edit_storyboard(
            EditStoryboard(
                tale_id,
                StoryboardEdit.model_validate({"operations": list(ops)}),
                version,
                self.owner if owner == "me" else owner,
            ),
            store=self.store,
            ledger=self.ledger,
            settings=self.settings,
            clock=lambda: NOW,
        )

    def balance(self) -> int:
        profile = self.ledger.profile(self.owner)
        assert profile is not None
        return profile.balance

    def kinds(self) -> list[tuple[str, int]]:
        return [(e.kind, e.amount) for e in self.ledger.entries(self.owner)]


ADD = {"op": "add_shot", "at": 3, "prompt": "the fox runs", "duration_s": 8}


def test_an_edit_is_stored_as_the_next_version(tmp_path: Path) -> None:
    world = World(tmp_path)
    tale_id = world.tale()
    done = world.edit(tale_id, {"op": "edit_shot", "shot": 1, "narration": "New words."})
    assert done.tale.plan_version == 2 and not done.reserved_more and done.credits == 1
    stored = world.store.plan(tale_id)
    assert stored is not None and stored.shots[0].narration == "New words."
    assert world.kinds() == [("grant", 16), ("reserve", -1)]
    log = [e.message for e in world.store.events(tale_id)]
    assert any("storyboard edited: version 2, 2 shots, 8 s" in m for m in log)
    again = world.edit(tale_id, {"op": "remove_shot", "shot": 2}, version=2)
    assert again.tale.plan_version == 3 and again.tale.shot_count == 1


def test_more_seconds_reserve_the_difference(tmp_path: Path) -> None:
    world = World(tmp_path)
    tale_id = world.tale()  # 2 × 4 s: 1 credit
    done = world.edit(tale_id, ADD)  # 16 s: 2 credits
    assert done.reserved_more and done.credits == 2 and done.tale.shot_count == 3
    assert world.kinds()[-1] == ("reserve_more", -1) and world.balance() == 14
    assert done.estimate.usd > 0


def test_an_edit_beyond_the_balance_changes_nothing(tmp_path: Path) -> None:
    world = World(tmp_path)
    tale_id = world.tale(credits=1)  # its own credit, and nothing left
    before = world.store.plan(tale_id)
    with pytest.raises(InsufficientCredits) as caught:
        world.edit(tale_id, ADD)
    assert (caught.value.needed, caught.value.balance) == (1, 0)
    tale = world.store.find(tale_id)
    assert tale is not None and tale.plan_version == 1 and tale.shot_count == 2
    assert world.store.plan(tale_id) == before
    assert world.kinds() == [("grant", 1), ("reserve", -1)]


def test_the_spending_cap_applies_to_the_increase(tmp_path: Path) -> None:
    world = World(tmp_path)
    tale_id = world.tale()
    tale = world.store.find(tale_id)
    assert tale is not None
    world.settings = world.settings.model_copy(update={"spend_cap_usd": 0.01})
    with pytest.raises(SpendingCapExceeded):
        world.edit(tale_id, ADD)
    assert world.store.find(tale_id) == tale


def test_fewer_seconds_are_returned_when_the_tale_is_settled(tmp_path: Path) -> None:
    world = World(tmp_path)
    tale_id = world.tale(shots=4)  # 4 × 4 s: 2 credits
    assert world.edit(tale_id, {"op": "remove_shot", "shot": 4}, {"op": "remove_shot", "shot": 3})
    assert world.balance() == 14  # nothing returned yet
    settle_credits(TaleFinished(tale_id=tale_id, outcome="completed"), world.ledger, world.store)
    assert world.kinds()[-1] == ("settle", 1) and world.balance() == 15


def test_a_refund_returns_the_additions_too(tmp_path: Path) -> None:
    world = World(tmp_path)
    tale_id = world.tale()
    world.edit(tale_id, ADD)
    settle_credits(TaleFinished(tale_id=tale_id, outcome="cancelled"), world.ledger, world.store)
    assert world.kinds()[-1] == ("refund", 2) and world.balance() == 16


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"version": None}, PlanVersionRequired),
        ({"version": 7}, PlanVersionMismatch),
        ({"owner": str(uuid.uuid4())}, TaleNotFound),
    ],
)
def test_the_preconditions(tmp_path: Path, change: dict[str, Any], error: type) -> None:
    world = World(tmp_path)
    tale_id = world.tale()
    with pytest.raises(error):
        world.edit(tale_id, ADD, **change)
    assert world.kinds() == [("grant", 16), ("reserve", -1)]


def test_only_a_tale_awaiting_approval_is_edited(tmp_path: Path) -> None:
    world = World(tmp_path)
    tale_id = world.tale()
    world.store.transition(
        tale_id, [TaleState.AWAITING_APPROVAL], TaleState.RENDERING, stage="characters"
    )
    with pytest.raises(WrongState):
        world.edit(tale_id, ADD)
    with pytest.raises(TaleNotFound):
        world.edit("tale-none", ADD)


def test_an_approval_that_wins_the_race_keeps_its_storyboard(tmp_path: Path) -> None:
    """The tale is approved between the checks and the unit of work: the edit is refused
    (409) and what it reserved is returned when the tale is settled."""
    world = World(tmp_path)
    tale_id = world.tale()
    store = world.store
    real_unit = store.unit

    def approve_first(*args: Any, **kwargs: Any) -> Any:
        store.unit = real_unit  # type: ignore[method-assign]
        store.transition(
            tale_id, [TaleState.AWAITING_APPROVAL], TaleState.RENDERING, stage="characters"
        )
        return real_unit(*args, **kwargs)

    store.unit = approve_first  # type: ignore[method-assign]
    with pytest.raises(WrongState):
        world.edit(tale_id, ADD)
    stored = store.plan(tale_id)
    assert stored is not None and len(stored.shots) == 2
    assert world.balance() == 14  # held until the end of the tale
    settle_credits(TaleFinished(tale_id=tale_id, outcome="completed"), world.ledger, store)
    assert world.balance() == 15  # the tale's 2 shots cost 1 credit: the addition returned


def test_what_the_video_model_cannot_render_is_refused(tmp_path: Path) -> None:
    world = World(tmp_path, scenario="B")
    square = plan(2).model_copy(update={"aspect_ratio": "1:1"})
    tale_id = world.tale(story_plan=square)
    with pytest.raises(UnsupportedRequest):
        world.edit(tale_id, {"op": "edit_shot", "shot": 1, "narration": "x"})


def test_an_operators_tale_is_not_charged(tmp_path: Path) -> None:
    world = World(tmp_path)
    tale_id = world.tale()
    world.settings = world.settings.model_copy(update={"owner": world.owner})
    assert not world.edit(tale_id, ADD, owner=None).reserved_more
    assert world.kinds() == [("grant", 16), ("reserve", -1)]
