"""Operator commands: stuck and failed tales, dead letters, replays, retries, the sweep."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.table import Table

from shared import bootstrap, service
from shared.cli.common import drive, fail_input, local_runtime, out
from shared.cli.views import state_text, when
from shared.domain.errors import IllegalTransition, TaleNotFound
from shared.domain.tale import TERMINAL, TaleState


def stuck() -> None:
    """List failed tales, and unfinished ones with no progress for 10 minutes."""
    store = bootstrap.container().store
    now = time.time()
    table = Table(title="Tales that need an operator")
    for col in ("id", "state", "stage", "idle", "reason"):
        table.add_column(col, no_wrap=col == "id")
    for tale in store.list_tales(limit=1000):
        idle = now - tale.updated_at
        waiting = tale.state not in TERMINAL and tale.state is not TaleState.AWAITING_APPROVAL
        if tale.state is TaleState.FAILED or (waiting and idle > 600):
            table.add_row(
                tale.tale_id,
                state_text(tale.state),
                tale.error_stage or tale.stage,
                f"{int(idle // 60)} min",
                tale.error_reason or "-",
            )
    out.print(table)


def dead_letters() -> None:
    """Messages that a stage gave up on, with the last error."""
    queue = bootstrap.container().dead_letters
    table = Table(title="Dead letters")
    for col in ("message", "subscription", "tale", "last error"):
        table.add_column(col, no_wrap=col == "message")
    for letter in queue.dead_letters():
        table.add_row(
            letter.message_id,
            letter.subscription,
            letter.attributes.get("tale_id", "-"),
            letter.last_error[:120],
        )
    out.print(table)


def replay(
    message_id: Annotated[str, typer.Argument(help="From tale dead-letters.")],
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Publish a dead-lettered message again (after fixing its cause) and run it."""
    container = bootstrap.container()
    if container.on_gcp:  # the deployed functions run it
        out.print(f"replayed {message_id} as {_replay(message_id)}")
        return
    with local_runtime() as runtime:
        out.print(f"replayed {message_id} as {_replay(message_id)}")
        drive(runtime, [], quiet)


def _replay(message_id: str) -> str:
    try:
        return bootstrap.container().dead_letters.replay(message_id)
    except KeyError as exc:
        fail_input(str(exc.args[0] if exc.args else exc))


def retry(
    tale_id: Annotated[str, typer.Argument(help="A failed tale.")],
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Resume a failed tale from its last good stage; it is not charged again."""
    container = bootstrap.container()
    with local_runtime() as runtime:
        try:
            target = service.retry(tale_id, store=container.store, bus=container.bus)
        except (IllegalTransition, TaleNotFound) as exc:
            fail_input(str(exc))
        out.print(f"retrying {tale_id} from {target}")
        drive(runtime, [tale_id], quiet)
    tale = container.store.find(tale_id)
    assert tale is not None
    out.print(f"{tale_id}: ", state_text(tale.state), f" at {when(tale.updated_at)}")
    if tale.state is not TaleState.COMPLETED:
        raise typer.Exit(1)


def sweep_command() -> None:
    """Fail tales stuck past their stage's deadline and return the credits reserved for
    tales that were never created, now (the runtime also does it every
    TALE_SWEEP_INTERVAL_S; Cloud Scheduler on GCP)."""
    with local_runtime() as runtime:
        swept = runtime.sweep()
        drive(runtime, [t for t, _ in swept.stuck], quiet=True)
    found = swept.stuck
    out.print(f"{len(found)} stuck tale(s) failed" + "".join(f"\n  {t} ({s})" for t, s in found))
    out.print(
        f"{len(swept.returned)} orphan reservation(s) returned"
        + "".join(f"\n  {key}" for key in swept.returned)
    )


def register(app: typer.Typer) -> None:
    app.command()(stuck)
    app.command("dead-letters")(dead_letters)
    app.command()(replay)
    app.command()(retry)
    app.command("sweep")(sweep_command)
