"""``tale edit ID``: edit a storyboard awaiting approval, as an operator on this home.

The same operations, rules and credits as ``PATCH /v1/tales/{id}/storyboard``
(``schemas.storyboard``, ``shared.usecases.edit_storyboard``), made on the storyboard's
current version. Bad input — an option the storyboard cannot take, a tale that is not
awaiting approval — gets one line on stderr and exit code 2, and nothing is changed.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from pydantic import ValidationError

from schemas.plan import Camera
from schemas.storyboard import StoryboardEdit
from shared import bootstrap
from shared.cli.common import fail_input, out
from shared.domain.errors import IllegalTransition, InvalidStory, TaleError, TaleNotFound
from shared.usecases.edit_storyboard import EditStoryboard, edit_storyboard

OPTIONS = {
    "shot": "--shot",
    "narration": "--narration",
    "prompt": "--prompt",
    "camera": "--camera",
    "duration_s": "--duration",
    "name": "--character",
    "description": "--description",
}


def edit(
    tale_id: Annotated[str, typer.Argument(help="A tale awaiting approval.")],
    shot: Annotated[int | None, typer.Option(help="The shot to change (from 1).")] = None,
    narration: Annotated[str | None, typer.Option(help="Its new narration.")] = None,
    prompt: Annotated[str | None, typer.Option(help="Its new visual prompt (English).")] = None,
    camera: Annotated[Camera | None, typer.Option(help="Its new camera.")] = None,
    duration: Annotated[int | None, typer.Option(help="Its new length: 4, 6 or 8 s.")] = None,
    character: Annotated[
        str | None, typer.Option(help="A character to describe anew (with --description).")
    ] = None,
    description: Annotated[
        str | None, typer.Option(help="The character's new description (English).")
    ] = None,
) -> None:
    """Edit a storyboard awaiting approval: a shot's narration, prompt, camera or length, or a
    character's description; then approve it with tale approve."""
    container = bootstrap.container()
    tale = container.store.find(tale_id)
    if tale is None:
        fail_input(f"no tale {tale_id}")
    operations = _operations(shot, narration, prompt, camera, duration, character, description)
    try:
        body = StoryboardEdit.model_validate({"operations": operations})
    except ValidationError as exc:
        fail_input(_describe(exc))
    command = EditStoryboard(tale.tale_id, body, tale.plan_version)
    try:
        edited = edit_storyboard(
            command, store=container.store, ledger=container.ledger, settings=container.settings
        )
    except (InvalidStory, IllegalTransition, TaleNotFound) as exc:  # WrongState included
        fail_input(str(exc))
    except TaleError as exc:  # changed meanwhile, credits, the spending cap
        fail_input(str(exc))
    plan = edited.plan
    out.print(
        f"Edited {tale.tale_id}: storyboard version {edited.tale.plan_version}, "
        f"{len(plan.shots)} shots, {plan.total_seconds} s, {edited.credits} credits. "
        f"Approve it with [bold]tale approve {tale.tale_id}[/bold].",
        highlight=False,
    )


def _operations(
    shot: int | None,
    narration: str | None,
    prompt: str | None,
    camera: Camera | None,
    duration: int | None,
    character: str | None,
    description: str | None,
) -> list[dict[str, Any]]:
    changes = {"narration": narration, "prompt": prompt, "camera": camera, "duration_s": duration}
    given = {k: v for k, v in changes.items() if v is not None}
    if given and shot is None:
        fail_input("say which shot changes: --shot N")
    if (character is None) != (description is None):
        fail_input("--character and --description go together")
    operations: list[dict[str, Any]] = []
    if shot is not None:
        operations.append({"op": "edit_shot", "shot": shot, **given})
    if character is not None:
        operations.append({"op": "edit_character", "name": character, "description": description})
    if not operations:
        fail_input(
            "say what changes: --shot N with --narration, --prompt, --camera or --duration, "
            "or --character NAME with --description"
        )
    return operations


def _describe(exc: ValidationError) -> str:
    """The problems in the options' words."""
    lines = []
    for error in exc.errors():
        loc = [str(p) for p in error["loc"] if not str(p).isdigit()]
        field = next((OPTIONS[p] for p in reversed(loc) if p in OPTIONS), "the edit")
        lines.append(f"{field}: {error['msg'].removeprefix('Value error, ')}")
    return "; ".join(dict.fromkeys(lines))


def register(app: typer.Typer) -> None:
    app.command("edit")(edit)
