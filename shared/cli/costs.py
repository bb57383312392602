"""``tale costs``: what tales cost, and scenario A against B at the observed volume.

Reads the tale store and the usage records of the configured home (or GCP project) and prices
them with the price table (``TALE_PRICE_TABLE``). Bad input — a malformed ``--period``, an
unknown ``--tale``, an unreadable price table, a chart path that cannot be written — gets one
line on stderr and exit code 2.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Group
from rich.table import Table
from rich.text import Text

from shared import bootstrap
from shared.cli.common import fail_input, out
from shared.costs import revenue
from shared.costs.chart import write_chart
from shared.costs.model import Costs, parse_period
from shared.costs.prices import PriceTable, PriceTableError, load_prices
from shared.costs.report import Report, UnknownTale, build_report, default_period, to_json
from shared.costs.scenarios import Comparison, deployment_engines
from shared.domain.credits import period_of


def costs(
    tale_id: Annotated[
        str | None, typer.Option("--tale", help="One tale's costs (default: the whole period).")
    ] = None,
    period: Annotated[
        str | None,
        typer.Option(
            help="Month YYYY-MM (UTC) of the tales and of the observed volume "
            "(default: this month, or the month --tale finished in)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
    chart: Annotated[
        Path | None,
        typer.Option(help="Write a PNG of monthly cost against videos per month (A and B)."),
    ] = None,
) -> None:
    """Cost per video by stage and provider, platform overhead, and scenario A vs B:
    monthly cost of each at the observed volume, break-even and the decision signals."""
    if period is not None:
        try:
            period = parse_period(period)
        except ValueError as exc:
            fail_input(str(exc))
    container = bootstrap.container()
    settings = container.settings
    try:
        prices = load_prices(settings.price_table)
    except PriceTableError as exc:
        fail_input(str(exc))
    try:
        month = period or default_period(container.store, tale_id, period_of(time.time()))
        report = build_report(
            container.store,
            container.usage,
            prices,
            tales_per_month={
                "free": settings.free_tales_per_month,
                "pro": settings.pro_tales_per_month,
                "business": settings.business_tales_per_month,
            },
            period=month,
            tale_id=tale_id,
            specs=deployment_engines(prices, settings),
            revenue=lambda videos: _revenue(container, prices, month, videos),
        )
    except (UnknownTale, ValueError) as exc:
        fail_input(str(exc.args[0] if exc.args else exc))
    if chart is not None:
        try:
            write_chart(report.comparison, chart, f"Tale: scenario A vs B, {report.period.period}")
        except OSError as exc:
            fail_input(f"cannot write the chart to {chart}: {exc}")
    if as_json:
        print(json.dumps(to_json(report), indent=2, ensure_ascii=False))
        return
    out.print(_view(report))
    if chart is not None:
        out.print(f"chart: {chart}", soft_wrap=True, highlight=False)


def _revenue(
    container: bootstrap.Container, prices: PriceTable, month: str, videos: int
) -> tuple[float, str]:
    """The month's real revenue per video when payments exist, else the settings' prices."""
    settings = container.settings
    real = revenue.from_payments(container.billing.records(period=month), videos)
    if real is not None:
        return real
    tales = {
        "free": settings.free_tales_per_month,
        "pro": settings.pro_tales_per_month,
        "business": settings.business_tales_per_month,
    }
    return revenue.from_plan_prices(prices, settings.plan_prices_usd, tales)


def _usd(value: float | None) -> str:
    if value is None:
        return "-"
    if value == 0:
        return "$0"
    return f"${value:,.2f}" if abs(value) >= 1 else f"${value:,.6f}"


def _share(part: float, total: float) -> str:
    return f"{part / total:.1%}" if total > 0 else "-"


def _view(report: Report) -> Group:
    costs = report.costs
    if report.tale is not None:
        t = report.tale.tale
        head = f"Costs of {t.tale_id} ({t.title or '-'}, {t.state.value})"
    else:
        head = f"Costs of {report.period.period}: {len(report.period.tales)} tales finished"
    parts: list[Table | Text] = [
        Text(f"{head} · price table {report.prices.version}, USD", style="bold"),
        _breakdown("stage", costs.by_stage(), costs.total_usd),
        _breakdown("provider", costs.by_provider(), costs.total_usd),
        _totals(report, costs),
    ]
    if costs.unpriced:
        parts.append(_unpriced(costs))
    if report.tale is None and report.period.tales:
        parts.append(_tales(report))
    parts.append(_comparison(report.comparison, report.period.period))
    return Group(*parts)


def _tales(report: Report, shown: int = 20) -> Table:
    tales = report.period.tales
    table = Table(title="Tales (most expensive first)")
    for col in ("id", "state", "USD"):
        table.add_column(col, justify="right" if col == "USD" else "left")
    ranked = sorted(tales, key=lambda t: (-t.costs.total_usd, t.tale.tale_id))
    for item in ranked[:shown]:
        table.add_row(item.tale.tale_id, item.tale.state.value, _usd(item.costs.total_usd))
    if len(tales) > shown:
        table.add_row(f"… and {len(tales) - shown} more", "", "")
    return table


def _breakdown(kind: str, values: dict[str, float], total: float) -> Table:
    table = Table(title=f"Cost by {kind}")
    table.add_column(kind)
    table.add_column("USD", justify="right")
    table.add_column("share", justify="right")
    for key, usd in values.items():
        label = "gcp (platform)" if kind == "provider" and key == "gcp" else key
        table.add_row(label, _usd(usd), _share(usd, total))
    return table


def _totals(report: Report, costs: Costs) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_row("total", _usd(costs.total_usd))
    grid.add_row("videos completed", str(report.period.videos if report.tale is None else "-"))
    grid.add_row("cost per video", _usd(report.per_video))
    share = costs.overhead_share
    grid.add_row("platform overhead", "-" if share is None else f"{share:.2%} of the total")
    return grid


def _unpriced(costs: Costs) -> Table:
    table = Table(title="Unpriced usage (not in the totals: add meters to the price table)")
    for col in ("provider", "model", "unit", "quantity"):
        table.add_column(col, style="yellow")
    for q in costs.merged_unpriced():
        table.add_row(q.provider, q.model, q.unit, f"{q.quantity:,.2f}")
    return table


def _comparison(c: Comparison, period: str) -> Table:
    table = Table(
        title=f"Scenario A vs B at {c.volume:,} videos/month (observed, {period}); "
        f"profile of {c.profile.tales or 'the default'} tale(s)"
    )
    for col in ("per video", "A · external APIs", "B · self-hosted"):
        table.add_column(col, justify="left" if col == "per video" else "right")
    for a, b in zip(c.a.variable, c.b.variable, strict=True):
        table.add_row(a.stage, f"{_usd(a.usd)} ({a.basis})", f"{_usd(b.usd)} ({b.basis})")
    table.add_row("variable / video", _usd(c.a.variable_usd), _usd(c.b.variable_usd))
    table.add_row("fixed / month", _usd(c.a.fixed_usd), _usd(c.b.fixed_usd))
    table.add_row(
        f"monthly at {c.volume:,}", _usd(c.a.monthly(c.volume)), _usd(c.b.monthly(c.volume))
    )
    even = "B never cheaper" if c.break_even is None else f"{c.break_even:,.1f} videos/month"
    if c.unpriced:
        even += " (incomplete: unpriced units)"
    table.add_row("break-even", even, "")
    share = "-" if c.api_share is None else f"{c.api_share:.0%}"
    table.add_row("signal: volume above break-even", "yes" if c.above_break_even else "no", "")
    table.add_row(
        f"signal: API cost > {c.threshold:.0%} of revenue",
        f"{'yes' if c.api_over_threshold else 'no'} ({share} of {_usd(c.revenue_per_video)}, "
        f"{c.revenue_basis})",
        "",
    )
    if c.unpriced:
        table.add_row("unpriced engine units", ", ".join(c.unpriced), "", style="yellow")
    n = c.profile.narration
    table.caption = (
        f"narration: {n.lines:g} lines, {n.characters:,.0f} characters, {n.seconds:,.1f} s of "
        f"speech a video ({n.source}); a tale with voice none has none"
    )
    return table


def register(app: typer.Typer) -> None:
    """Add ``tale costs`` to the command line (once)."""
    if not any(cmd.name == "costs" for cmd in app.registered_commands):
        app.command("costs")(costs)
