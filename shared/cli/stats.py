"""``tale stats``: the pipeline's figures for a time window, from the stores.

The same figures as the dashboard's log-based metrics (``shared.observability.stats`` says how
each is defined): per function — invocations and latency; retries and failed tales by reason;
per provider — calls, seconds of video, throttling, errors; tales started, completed and
failed, active users and credits. ``--json`` prints them as one JSON document.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Annotated

import typer
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from shared import bootstrap
from shared.cli.common import fail_input, out
from shared.observability.stats import Stats, collect, parse_since


def stats(
    since: Annotated[
        str, typer.Option(help="Window start: a duration ago (30m, 24h, 7d) or a date.")
    ] = "24h",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Tales started, completed and failed, stage latencies, failures by reason, provider
    usage and credits, for a time window (default: the last 24 hours)."""
    now = time.time()
    try:
        start = parse_since(since, now)
    except ValueError as exc:
        fail_input(str(exc))
    if start > now:
        fail_input(f"--since {since!r} is in the future")
    container = bootstrap.container()
    figures = collect(
        container.store,
        container.usage,
        container.ledger,
        since=start,
        until=now,
        scenario=container.settings.scenario,
    )
    if as_json:
        print(json.dumps(figures.to_json(), indent=2, sort_keys=True))
        return
    out.print(render(figures))


def _when(at: float) -> str:
    return datetime.fromtimestamp(at).strftime("%Y-%m-%d %H:%M")


def render(s: Stats) -> Group:
    t = s.tales
    funnel = Table(title=f"Tales {_when(s.since)} → {_when(s.until)}")
    for col in ("started", "completed", "failed", "cancelled", "failure rate", "active users"):
        funnel.add_column(col, justify="right")
    funnel.add_row(
        str(t.started),
        str(t.completed),
        str(t.failed),
        str(t.cancelled),
        f"{t.failure_rate:.0%}",
        str(t.active_users),
    )
    credits = Table(title="Credits")
    for col in ("reserved", "spent", "refunded"):
        credits.add_column(col, justify="right")
    credits.add_row(str(s.credits_reserved), str(s.credits_spent), str(s.credits_refunded))
    stages = Table(title="Stages (invocations about a tale)")
    for col in ("function", "stage", "invocations", "p50 ms", "p95 ms", "max ms"):
        stages.add_column(col, justify="left" if col in ("function", "stage") else "right")
    for name, f in s.stages.items():
        stages.add_row(
            name,
            f.stage,
            str(f.invocations),
            f"{f.p50_ms:,.0f}",
            f"{f.p95_ms:,.0f}",
            f"{f.max_ms:,.0f}",
        )
    failures = Table(title="Retries and failed tales by reason")
    for col in ("kind", "stage", "reason", "count"):
        failures.add_column(col, justify="right" if col == "count" else "left")
    for kind, by_stage in (("retry", s.retries), ("failed tale", t.failures)):
        for stage, reasons in by_stage.items():
            for reason, n in sorted(reasons.items()):
                failures.add_row(kind, stage, reason, str(n))
    providers = Table(title="Providers")
    for col in ("provider", "calls", "video s", "images", "tokens in/out", "throttled", "errors"):
        providers.add_column(col, justify="left" if col == "provider" else "right")
    for name, p in s.providers.items():
        providers.add_row(
            name,
            str(p.calls),
            f"{p.video_seconds:g}",
            f"{p.images:g}",
            f"{p.input_tokens:g}/{p.output_tokens:g}",
            str(p.throttled),
            str(p.errors),
        )
    parts: list[RenderableType] = [funnel, credits]
    for table, empty in (
        (stages, "No invocations about a tale in the window."),
        (failures, "No retries and no failed tales."),
        (providers, "No provider calls, throttling or provider errors."),
    ):
        parts.append(table if table.row_count else Text(empty, style="dim"))
    return Group(*parts)


def register(app: typer.Typer) -> None:
    """Add ``tale stats`` to the command line (once)."""
    if not any(cmd.name == "stats" for cmd in app.registered_commands):
        app.command("stats")(stats)
