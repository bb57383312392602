"""The chaos report as rich tables (``tale chaos``, ``bench/bench_chaos.py``)."""

from __future__ import annotations

from collections import Counter

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from shared.chaos.run import ChaosReport

_OUTCOME_STYLE = {"completed": "green", "failed": "red", "cancelled": "yellow"}


def outcome_table(report: ChaosReport) -> Table:
    table = Table(title=f"Tales ({report.tales})", title_justify="left")
    table.add_column("outcome")
    table.add_column("tales", justify="right")
    detailed = Counter(report.tale_outcomes.values())
    for outcome, n in sorted(detailed.items(), key=lambda kv: (-kv[1], kv[0])):
        style = _OUTCOME_STYLE.get(outcome.split(" ")[0], "magenta")
        table.add_row(Text(outcome, style=style), str(n))
    return table


def reason_table(report: ChaosReport, top: int = 8) -> Table:
    table = Table(title="Why tales failed", title_justify="left")
    table.add_column("reason", overflow="fold")
    table.add_column("tales", justify="right")
    for reason, n in report.failure_reasons.most_common(top):
        table.add_row(reason, str(n))
    return table


def fault_table(report: ChaosReport) -> Table:
    table = Table(title=f"Faults injected ({sum(report.faults.values())})", title_justify="left")
    table.add_column("kind")
    table.add_column("count", justify="right")
    for kind, n in sorted(report.faults.items(), key=lambda kv: (-kv[1], kv[0])):
        table.add_row(kind, str(n))
    return table


def crash_table(report: ChaosReport, top: int = 8) -> Table:
    table = Table(title="Most crashed points (function/site:when)", title_justify="left")
    table.add_column("crash point")
    table.add_column("crashes", justify="right")
    for point, n in report.crash_points.most_common(top):
        table.add_row(point, str(n))
    return table


def invariant_table(report: ChaosReport) -> Table:
    table = Table(title="Invariants", title_justify="left")
    table.add_column("")
    table.add_column("invariant")
    table.add_column("violations", justify="right")
    table.add_column("first violation", overflow="fold")
    for result in report.invariants:
        mark = Text("✓", style="green") if result.ok else Text("✗", style="bold red")
        table.add_row(
            mark,
            f"{result.name}: {result.title}",
            str(len(result.violations)),
            result.violations[0] if result.violations else "",
        )
    return table


def summary(report: ChaosReport) -> RenderableType:
    verdict = (
        Text("every invariant holds", style="bold green")
        if report.ok
        else Text(
            f"{sum(not r.ok for r in report.invariants)} invariants violated", style="bold red"
        )
    )
    facts = Text(
        f"seed {report.seed} · {report.tales} tales · {report.concurrency} workers · "
        f"{report.deliveries} deliveries ({report.dead_lettered} dead-lettered) · "
        f"{report.runtimes} runtimes · {report.paid_starts} paid starts · "
        f"run {report.elapsed_s:.1f} s, checks {report.check_s:.1f} s"
    )
    parts: list[RenderableType] = [outcome_table(report)]
    if report.failure_reasons:
        parts.append(reason_table(report))
    parts.append(fault_table(report))
    if report.crash_points:
        parts.append(crash_table(report))
    return Group(*parts, invariant_table(report), facts, verdict)
