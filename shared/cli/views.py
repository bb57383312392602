"""Rich renderables for the CLI: live progress, status tables, the event log, storyboards."""

from __future__ import annotations

import time
from datetime import datetime

from rich.console import Group, RenderableType
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from shared.api.views import StoryboardView
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


def storyboard_view(board: StoryboardView) -> Group:
    """A storyboard: its characters, its shots and which media exist (``--json`` has the
    signed URLs)."""
    info = Table.grid(padding=(0, 2))
    info.add_row("id", board.id)
    info.add_row("title", board.title)
    info.add_row("state", state_text(TaleState(board.status)))
    info.add_row("version", str(board.version))
    info.add_row("look", f"{board.style}, {board.aspect_ratio}, {board.language}")
    if board.estimate is not None:
        info.add_row("estimate", f"${board.estimate.usd:.2f} ({board.estimate.scenario})")
    characters = Table(title="Characters")
    for col in ("name", "description", "reference"):
        characters.add_column(col)
    for c in board.characters:
        characters.add_row(c.name, c.description, _has(c.image_url))
    shots = Table(title="Shots")
    for col in ("#", "scene", "camera", "s", "status", "characters", "narration", "prompt"):
        shots.add_column(col, no_wrap=col in ("#", "s"))
    shots.add_column("media", no_wrap=True)
    for s in board.shots:
        media = " ".join(
            name
            for name, url in (
                ("thumb", s.thumbnail_url),
                ("clip", s.clip_url),
                ("voice", s.voice_url),
            )
            if url
        )
        status = s.status if s.attempt <= 1 else f"{s.status} (attempt {s.attempt})"
        shots.add_row(
            str(s.index + 1),
            str(s.scene_index + 1),
            s.camera,
            str(s.duration_s),
            status,
            ", ".join(s.characters) or "-",
            s.narration,
            s.prompt,
            media or "-",
        )
    parts: list[RenderableType] = [info, characters, shots]
    made = [
        n
        for n, url in (
            ("storyboard sheet", board.storyboard_url),
            ("poster", board.poster_url),
            ("video", board.video_url),
        )
        if url
    ]
    if made:
        parts.append(Text(f"made: {', '.join(made)} (signed URLs: --json)", style="dim"))
    return Group(*parts)


def _has(url: str | None) -> Text:
    return Text("✓ drawn", style="green") if url else Text("-", style="dim")
