"""Editing a storyboard before it is approved: the rules, without I/O.

``apply_edits`` applies the owner's operations (``schemas.storyboard``) in order and returns
the edited plan, held to every rule the planned storyboard is held to: ``StoryPlan``'s own
validators (shots numbered in order, known scenes and characters, shot lengths) and the
planner's rules a schema cannot state (``plan_drafts.check_plan``: English prompts and
descriptions, narration in the story's language, each character once), plus the storyboard's
limits (1 to ``MAX_SHOTS`` shots). Afterwards shots are numbered 0..N-1 in their new order,
scenes no shot uses any more are dropped, and the rest are numbered in the order the shots
first show them. A prompt written or changed by the edit gets the description of every
character its shot shows, as the planner's prompts do; a character's new description
replaces the old one wherever a prompt repeats it.

``accept`` is the decision of the unit of work that stores the edit: only a tale awaiting
approval takes it, compare-and-set on the storyboard's version.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from schemas.plan import StoryPlan
from schemas.story import MAX_SHOTS
from schemas.storyboard import (
    AddShot,
    EditCharacter,
    EditShot,
    MoveShot,
    RemoveShot,
    StoryboardOperation,
)
from shared.domain.aggregate import LogLine, TaleAggregate
from shared.domain.errors import InvalidEdit, WrongState
from shared.domain.tale import TaleState
from shared.providers.plan_drafts import (
    InvalidPlan,
    check_plan,
    describe_validation,
    with_descriptions,
)

Row = dict[str, Any]


def apply_edits(plan: StoryPlan, operations: Sequence[StoryboardOperation]) -> StoryPlan:
    """The storyboard after ``operations``, all or none; raises ``InvalidEdit``."""
    edit = _Edit(plan)
    for number, op in enumerate(operations, start=1):
        try:
            edit.apply(op)
        except InvalidEdit as exc:
            raise InvalidEdit(f"operation {number} ({op.op}): {exc}") from None
    return edit.result()


def accept(agg: TaleAggregate, plan: StoryPlan, expected_version: int) -> int:
    """Store the edited storyboard of a tale awaiting approval (``WrongState`` otherwise),
    edited from ``expected_version`` (``PlanVersionMismatch`` otherwise); the new version."""
    tale = agg.tale
    if tale.state is not TaleState.AWAITING_APPROVAL:
        raise WrongState(
            f"tale {tale.tale_id} is {tale.state}; a storyboard is edited while it awaits approval"
        )
    version = agg.replace_plan(plan, expected_version)
    seconds = plan.total_seconds
    agg.log.append(
        LogLine(
            "storyboard",
            f"storyboard edited: version {version}, {len(plan.shots)} shots, {seconds} s",
        )
    )
    return version


class _Edit:
    """The storyboard being edited: shots and characters as rows, numbered at the end."""

    def __init__(self, plan: StoryPlan) -> None:
        self.plan = plan
        self.shots: list[Row] = [s.model_dump() for s in plan.shots]
        self.characters: list[Row] = [c.model_dump() for c in plan.characters]
        self.scenes = {s.index for s in plan.scenes}
        self.written: list[Row] = []
        """Shots whose prompt or cast the edit set: their prompts get the descriptions."""

    def apply(self, op: StoryboardOperation) -> None:
        if isinstance(op, EditShot):
            row = self.shots[self._position(op.shot)]
            changes = {
                "narration": op.narration,
                "prompt": op.prompt,
                "camera": op.camera,
                "duration_s": op.duration_s,
                "characters": op.characters,
            }
            row.update({k: v for k, v in changes.items() if v is not None})
            if op.prompt is not None or op.characters is not None:
                self.written.append(row)
        elif isinstance(op, AddShot):
            self._add(op)
        elif isinstance(op, RemoveShot):
            position = self._position(op.shot)
            if len(self.shots) == 1:
                raise InvalidEdit("a storyboard keeps at least 1 shot")
            self.shots.pop(position)
        elif isinstance(op, MoveShot):
            row = self.shots.pop(self._position(op.shot))
            if op.to > len(self.shots) + 1:
                raise InvalidEdit(f"there is no shot {op.to} to move it to")
            self.shots.insert(op.to - 1, row)
        else:
            self._recast(op)

    def _position(self, number: int) -> int:
        if not 1 <= number <= len(self.shots):
            raise InvalidEdit(f"the storyboard has no shot {number} (it has {len(self.shots)})")
        return number - 1

    def _add(self, op: AddShot) -> None:
        if len(self.shots) >= MAX_SHOTS:
            raise InvalidEdit(f"a storyboard has at most {MAX_SHOTS} shots")
        if op.at > len(self.shots) + 1:
            raise InvalidEdit(f"a new shot can be shot 1 to {len(self.shots) + 1}, not {op.at}")
        before = self.shots[op.at - 2] if op.at > 1 else self.shots[0]
        scene = before["scene_index"] if op.scene_index is None else op.scene_index
        if scene not in self.scenes:
            raise InvalidEdit(f"the storyboard has no scene {scene}")
        row: Row = {
            "index": 0,
            "scene_index": scene,
            "prompt": op.prompt,
            "camera": op.camera,
            "duration_s": op.duration_s or before["duration_s"],
            "characters": list(op.characters),
            "narration": op.narration,
        }
        self.shots.insert(op.at - 1, row)
        self.written.append(row)

    def _recast(self, op: EditCharacter) -> None:
        for character in self.characters:
            if character["name"] == op.name:
                old = str(character["description"]).strip().rstrip(".")
                new = op.description.strip()
                character["description"] = new
                for row in self.shots:
                    row["prompt"] = str(row["prompt"]).replace(old, new.rstrip("."))
                return
        names = ", ".join(c["name"] for c in self.characters) or "none"
        raise InvalidEdit(f"the storyboard has no character {op.name!r} (its characters: {names})")

    def result(self) -> StoryPlan:
        described = {c["name"]: c["description"] for c in self.characters}
        for row in [r for r in self.written if any(r is s for s in self.shots)]:
            unknown = sorted(set(row["characters"]) - set(described))
            if unknown:
                raise InvalidEdit(f"the storyboard has no characters {unknown}")
            row["characters"] = list(dict.fromkeys(row["characters"]))
            row["prompt"] = with_descriptions(row["prompt"], row["characters"], described)
        order = list(dict.fromkeys(row["scene_index"] for row in self.shots))
        renumber = {old: new for new, old in enumerate(order)}
        scenes = {s.index: s for s in self.plan.scenes}
        fields = {
            **self.plan.model_dump(),
            "characters": self.characters,
            "scenes": [{**scenes[old].model_dump(), "index": renumber[old]} for old in order],
            "shots": [
                {**row, "index": i, "scene_index": renumber[row["scene_index"]]}
                for i, row in enumerate(self.shots)
            ],
        }
        try:
            edited = StoryPlan.model_validate(fields)
            check_plan(edited)
        except ValidationError as exc:
            raise InvalidEdit(
                f"the edited storyboard is not valid: {describe_validation(exc)}"
            ) from exc
        except InvalidPlan as exc:
            raise InvalidEdit(f"the edited storyboard is not valid: {exc}") from exc
        return edited
