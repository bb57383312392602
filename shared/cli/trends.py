"""``tale trends``: the trend scout on the command line.

``run --sample`` replays the shipped sample data set (offline) through the real collector
and analysis; ``run`` collects live with ``TALE_YOUTUBE_API_KEY``. Both print the ranked
trends — a table that fits 80 columns, whose views per hour are the chart's last points — and
write a PNG chart of the top trends' view velocity. ``start`` turns a trend's story idea into
a tale that stops at its storyboard; ``follow`` / ``unfollow`` manage digest recipients,
``quota`` shows the day's YouTube spend in both buckets, ``keys`` manages business API keys.
Exit codes as for ``tale``: 2 for bad input or missing configuration.
"""

from __future__ import annotations

import re
import secrets
import time
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from schemas.trends import TrendsCollected
from shared import bootstrap
from shared.cli.common import fail_input, out
from shared.cli.trend_keys import keys_app
from shared.cli.trend_start import start
from shared.trends.models import Follower, Trend
from shared.trends.readers import WRITTEN, region_language_of

app = typer.Typer(
    help="Trend scout: what is rising on YouTube Shorts, as ideas for tales.",
    no_args_is_help=True,
)
app.add_typer(keys_app, name="keys")
app.command("start")(start)

_REGION = re.compile(r"^[A-Za-z]{2}$")
CHART_TOP = 5


def register(root: typer.Typer) -> None:
    """Add ``tale trends`` to the ``tale`` command (once)."""
    if not any(group.name == "trends" for group in root.registered_groups):
        root.add_typer(app, name="trends")


def _compact(n: float) -> str:
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if n >= size:
            return f"{n / size:.1f}{suffix}"
    return f"{n:.0f}"


def table_row(t: Trend) -> list[str]:
    """A trend's cells: #, region, label, status, views/h (the chart's last point), growth,
    against the expected decay, median age, channels, score."""
    return [
        str(t.rank),
        t.region,
        t.label,
        t.status,
        _compact(t.views_per_hour),
        "-" if t.growth_pct is None else f"{t.growth_pct:+.0f}%",
        "-" if t.vs_expected is None else f"{t.vs_expected:.1f}×",
        f"{t.age_h:.0f}",
        str(t.channels),
        f"{t.score:.2f}",
    ]


TABLE_COLUMNS = (
    "#",
    "rg",
    "trend",
    "status",
    "views/h",
    "growth",
    "vs exp",
    "age h",
    "ch",
    "score",
)


def trends_table(trends: list[Trend], sample: bool) -> Table:
    """Ranked trends in 80 columns: the label wraps, every other value stays whole. "views/h"
    is the trend's views per hour in its latest interval (the chart's last point), "growth" that
    against the interval before, "vs exp" against the decay expected at its videos' ages."""
    title = "Trends on YouTube Shorts"
    table = Table(
        title=title + (" — SAMPLE DATA (not real YouTube data)" if sample else ""),
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    for col in TABLE_COLUMNS:
        if col == "trend":
            table.add_column(col, overflow="fold", ratio=1, min_width=10)
        else:
            left = col in ("rg", "status")
            table.add_column(col, justify="left" if left else "right", no_wrap=True)
    for t in trends:
        table.add_row(*table_row(t))
    return table


def _details(trends: list[Trend]) -> None:
    """Under the table: each trend's id (for ``tale trends start``), first story idea and top
    video."""
    for t in trends:
        explanation = t.explanation(region_language_of(t.region))
        idea = explanation.writeup.ideas[0].title if explanation else "-"
        top = t.videos[0].url if t.videos else "-"
        out.print(f"{t.rank:>3} {t.region} {t.trend_id} “{idea}”", highlight=False)
        out.print(f"       {top}", highlight=False, soft_wrap=True)


def _show(trends: list[Trend], chart: Path | None) -> None:
    from shared.trends.chart import velocity_chart

    sample = any(t.sample for t in trends)
    ranked = sorted(trends, key=lambda t: (t.region, t.rank))
    out.print(trends_table(ranked, sample))
    _details(ranked)
    target = chart or bootstrap.container().home / "trends" / "velocity.png"
    top = sorted(trends, key=lambda t: (t.rank, t.region))[:CHART_TOP]
    title = "View velocity of the top trends" + (" — SAMPLE DATA" if sample else "")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(velocity_chart(top, title))
    out.print(f"chart: {target}", soft_wrap=True, highlight=False)


@app.command("run")
def run(
    sample: Annotated[
        bool, typer.Option("--sample", help="Replay the shipped sample data set (offline).")
    ] = False,
    sample_file: Annotated[
        Path | None, typer.Option(help="Another sample data set (default: examples/trends).")
    ] = None,
    region: Annotated[
        list[str] | None, typer.Option(help="Collect only this region (repeatable).")
    ] = None,
    chart: Annotated[
        Path | None, typer.Option(help="Where to write the PNG chart (default: <home>/trends).")
    ] = None,
) -> None:
    """Collect and analyse now: live (TALE_YOUTUBE_API_KEY) or the sample data (--sample)."""
    if sample:
        _run_sample(sample_file)
    else:
        _run_live(region or [])
    _show_latest(chart)


def _show_latest(chart: Path | None) -> None:
    found = bootstrap.container().trends.latest(limit=200)
    if not found:
        out.print("No trends yet.")
        return
    _show(found, chart)


def _run_sample(sample_file: Path | None) -> None:
    from shared.trends import sample as sample_data
    from shared.trends.replay import replay

    path = sample_file or sample_data.PATH
    try:
        data = sample_data.load(path)
    except (OSError, ValueError) as exc:
        fail_input(f"cannot read the sample data set {path}: {exc}")
    c = bootstrap.container()
    out.print(f"[bold]SAMPLE DATA[/bold] — replaying {path.name}: {data['notice']}")
    result = replay(
        data,
        trends=c.trends,
        claims=c.claims,
        explainer=c.explainer,
        notifier=c.notifier,
        settings=c.settings,
    )
    collected = [s for s in result.summaries if s.status != "already-collected"]
    out.print(
        f"{len(data['rounds'])} collection rounds × {len(data['regions'])} regions: "
        f"{len(collected)} collected, {result.units:,} quota units "
        f"(sample ledger {result.quota_account})",
        highlight=False,
    )
    for summary in collected[-len(data["regions"]) :]:
        out.print(f"  last round: {summary.line()}", highlight=False)
    for where in result.digests:
        out.print(f"digest: {where}", soft_wrap=True, highlight=False)


def _run_live(regions: list[str]) -> None:
    from shared.trends.pipeline import analyze_and_notify, collect_region, collector_for

    c = bootstrap.container()
    s = c.settings
    if not s.youtube_api_key:
        fail_input(
            "live collection needs TALE_YOUTUBE_API_KEY (a YouTube Data API v3 key); "
            "try `tale trends run --sample` for the offline sample"
        )
    wanted = [r.upper() for r in regions] or list(s.trends_regions)
    bad = [r for r in wanted if not _REGION.match(r)]
    if bad:
        fail_input(f"--region must be a two-letter region code, not {', '.join(bad)}")
    collector = collector_for(c.youtube, c.trends, s)
    claimant = f"cli-{secrets.token_hex(4)}"
    at = time.time()
    for region in wanted:
        summary = collect_region(collector, c.claims, region, at, claimant)
        out.print(summary.line(), highlight=False)
        if summary.snapshots:
            message = TrendsCollected(
                region=region, collection_id=summary.collection_id, at=at, status=summary.status
            )
            _, sent = analyze_and_notify(
                message,
                trends=c.trends,
                explainer=c.explainer,
                notifier=c.notifier,
                claims=c.claims,
                settings=s,
                claimant=claimant,
            )
            for where in sent:
                out.print(f"digest: {where}", soft_wrap=True, highlight=False)


@app.command("show")
def show(
    region: Annotated[str | None, typer.Option(help="Only this region.")] = None,
    chart: Annotated[Path | None, typer.Option(help="Where to write the PNG chart.")] = None,
) -> None:
    """The latest trends (no collection)."""
    found = bootstrap.container().trends.latest(region.upper() if region else None, limit=200)
    if not found:
        out.print("No trends yet: run `tale trends run --sample` or `tale trends run`.")
        return
    _show(found, chart)


def _follower(target: str, email: str, language: str, frequency: str = "daily") -> Follower:
    if "@" not in email or len(email) > 254:
        fail_input(f"--email must be an email address, not {email!r}")
    if language not in WRITTEN:
        fail_input("--language must be ko, en, ja or zh")
    if frequency not in ("daily", "weekly"):
        fail_input("--frequency must be daily or weekly")
    target = target.strip()
    if not target or len(target) > 60:
        fail_input("name a region (KR) or a topic (#먹방, cooking) of at most 60 characters")
    kind = "region" if _REGION.match(target) else "topic"
    value = target.upper() if kind == "region" else target
    return Follower(email, kind, value, language, time.time(), frequency)  # type: ignore[arg-type]


@app.command("follow")
def follow(
    target: Annotated[str, typer.Argument(help="A region (KR, US) or a topic (#먹방, cooking).")],
    email: Annotated[str, typer.Option(help="Where the digest goes.")],
    language: Annotated[str, typer.Option(help="Digest language: ko, en, ja or zh.")] = "en",
    frequency: Annotated[str, typer.Option(help="daily or weekly.")] = "daily",
) -> None:
    """Get the trend digest for a region or a topic by email (new rising trends only)."""
    follower = _follower(target, email, language, frequency)
    bootstrap.container().trends.follow(follower)
    out.print(
        f"{email} follows {follower.kind} {follower.value} ({language}, {frequency}).",
        highlight=False,
    )


@app.command("unfollow")
def unfollow(
    target: Annotated[str, typer.Argument(help="The region or topic.")],
    email: Annotated[str, typer.Option(help="The follower's email.")],
) -> None:
    """Stop the digest for a region or a topic."""
    follower = _follower(target, email, "en")
    if not bootstrap.container().trends.unfollow(follower):
        fail_input(f"{email} does not follow {follower.value}")
    out.print(f"{email} no longer follows {follower.value}.", highlight=False)


@app.command("quota")
def quota() -> None:
    """Today's YouTube Data API spend in both buckets (the quota day is Pacific Time) and
    what the settings need."""
    from shared.trends.collect import utc_text
    from shared.trends.pipeline import planner_for
    from shared.trends.quota import POOL, SEARCH, RunShape, run_cost, runs_per_day
    from shared.trends.regions import queries_for

    c = bootstrap.container()
    s = c.settings
    planner = planner_for(c.trends, s)
    now = time.time()
    for bucket, what in ((POOL, "units"), (SEARCH, "search.list calls")):
        calls = c.trends.quota_calls(planner.day(now, bucket))
        out.print(
            f"{planner.day(now, bucket)}: {planner.spent(now, bucket):,} of "
            f"{planner.limit(bucket):,} {what} spent in {len(calls)} calls, "
            f"{planner.remaining(now, bucket):,} left",
            highlight=False,
        )
        blocked = planner.blocked_until(now, bucket)
        if blocked is not None:
            out.print(f"[red]{what}: exhausted until {utc_text(blocked)}[/red]")
    queries = max((len(queries_for(s.trends_niches, r)) for r in s.trends_regions), default=0)
    shape = RunShape(
        categories=len(s.trends_chart_categories),
        chart_pages=s.trends_chart_pages,
        queries=queries,
        search_pages=s.trends_search_pages,
        tracked=s.trends_track_limit,
        baselines=s.trends_baseline_channels,
    )
    regions = len(s.trends_regions)
    cost = run_cost(regions, shape)
    fit = runs_per_day(regions, shape, s.youtube_daily_quota, s.youtube_daily_searches)
    out.print(
        f"one run of {regions} regions costs at most {cost.units:,} units and {cost.searches} "
        f"searches; {fit} runs a day fit",
        highlight=False,
    )
