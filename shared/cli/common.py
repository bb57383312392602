"""What every ``tale`` command module shares: the consoles, the bad-input exit, and the local
runtime with its live progress view.

The command modules (``main`` and the groups it registers) import this, never each other, so
``main`` can register them without an import cycle.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.console import Console, Group
from rich.live import Live

from shared import bootstrap
from shared.cli.views import live_view

if TYPE_CHECKING:
    from shared.runtime.local import LocalRuntime

out = Console()
err = Console(stderr=True)


def fail_input(message: str) -> NoReturn:
    """Bad input or usage: one line on stderr, exit code 2."""
    err.print(f"[red]error:[/red] {message}")
    raise typer.Exit(2)


@contextmanager
def local_runtime() -> Iterator[LocalRuntime]:
    """The local runtime on this home, or exit 2 if another process holds it."""
    from shared.runtime.local import LocalRuntime, RuntimeBusy

    try:
        with LocalRuntime(bootstrap.container()) as runtime:
            yield runtime
    except RuntimeBusy as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc


def drive(runtime: LocalRuntime, tale_ids: list[str], quiet: bool) -> None:
    """Run until no work is outstanding, showing the tales' progress live."""
    store = bootstrap.container().store
    started = time.monotonic()

    def view() -> Group:
        return Group(
            *[
                live_view(t, store.shots(t.tale_id), started)
                for t in (store.find(i) for i in tale_ids)
                if t is not None
            ]
        )

    if quiet:
        runtime.run()
        return
    with Live(view(), console=out, refresh_per_second=8) as live:
        runtime.run(on_tick=lambda: live.update(view()))
