"""Rich renderables for the CLI: live progress, status tables, the event log."""

from __future__ import annotations

import time
from datetime import datetime

from rich.console import Group, RenderableType
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from shared.domain.tale import ShotRecord, ShotStatus, TaleEvent, TaleRecord, TaleState

_SHOT_STYLE = {
    ShotStatus.PENDING: ("·", "dim"),
    ShotStatus.CLAIMED: ("◔", "yellow"),
    ShotStatus.STARTED: ("◑", "yellow"),
    ShotStatus.RENDERED: ("✓", "green"),
    ShotStatus.FAILED: ("✗", "red"),
}
_STATE_STYLE = {
    TaleState.COMPLETED: "green",
    TaleState.FAILED: "red",
    TaleState.CANCELLED: "magenta",
    TaleState.AWAITING_APPROVAL: "cyan",
}


def when(ts: float) -> str:
    return datetime.fromtimestamp(ts).strftime("%H:%M:%S")


def state_text(state: TaleState) -> Text:
    return Text(state.value, style=_STATE_STYLE.get(state, "yellow"))


def live_view(tale: TaleRecord, shots: list[ShotRecord], started: float) -> RenderableType:
    """One tale's progress: overall bar, current stage, one cell per shot."""
    head = Table.grid(padding=(0, 1))
    head.add_row(Text(tale.tale_id, style="bold"), Text(tale.title or "(planning…)"))
    bar = Table.grid(padding=(0, 1))
    bar.add_row(
        ProgressBar(total=100, completed=tale.progress, width=40),
        Text(f"{tale.progress:3d}%"),
        state_text(tale.state),
        Text(tale.stage, style="dim"),
        Text(f"{time.monotonic() - started:5.1f} s", style="dim"),
    )
    parts: list[RenderableType] = [head, bar]
    if shots:
        row = Text("shots ")
        for shot in shots:
            mark, style = _SHOT_STYLE[shot.status]
            row.append(f"{shot.index + 1}{mark} ", style=style)
        done = sum(1 for s in shots if s.status is ShotStatus.RENDERED)
        row.append(f" {done}/{len(shots)} rendered", style="dim")
        parts.append(row)
    if tale.state is TaleState.FAILED:
        parts.append(Text(f"failed at {tale.error_stage}: {tale.error_reason}", style="red"))
    return Group(*parts)


def tales_table(tales: list[TaleRecord]) -> Table:
    table = Table(title="Tales", show_lines=False)
    table.add_column("id", no_wrap=True, min_width=15)
    for col in ("title", "state", "stage", "progress", "updated"):
        table.add_column(col)
    for t in tales:
        table.add_row(
            t.tale_id,
            t.title or "-",
            state_text(t.state),
            t.stage,
            f"{t.progress}%",
            when(t.updated_at),
        )
    return table


def tale_detail(tale: TaleRecord, shots: list[ShotRecord], uris: dict[str, str]) -> Group:
    info = Table.grid(padding=(0, 2))
    info.add_row("id", tale.tale_id)
    info.add_row("title", tale.title or "-")
    info.add_row("state", state_text(tale.state))
    info.add_row("stage", tale.stage)
    info.add_row("progress", f"{tale.progress}%")
    if tale.error_reason:
        info.add_row("error", Text(f"{tale.error_stage}: {tale.error_reason}", style="red"))
    for name, uri in uris.items():
        info.add_row(name, uri)
    parts: list[RenderableType] = [info]
    if shots:
        table = Table(title="Shots")
        for col in ("#", "attempt", "status", "starts", "clip"):
            table.add_column(col)
        for s in shots:
            mark, style = _SHOT_STYLE[s.status]
            table.add_row(
                str(s.index + 1),
                str(s.attempt),
                Text(f"{mark} {s.status}", style=style),
                str(s.starts),
                s.clip_path or s.error or "-",
            )
        parts.append(table)
    return Group(*parts)


def events_table(tale_id: str, events: list[TaleEvent]) -> Table:
    table = Table(title=f"Events of {tale_id}")
    for col in ("time", "stage", "level", "message"):
        table.add_column(col)
    styles = {"error": "red", "warning": "yellow"}
    for e in events:
        table.add_row(when(e.at), e.stage, Text(e.level, style=styles.get(e.level, "")), e.message)
    return table
