"""``tale trends``: the trend scout on the command line.

``run --sample`` replays the shipped sample data set (offline) through the real collector
and analysis; ``run`` collects live with ``TALE_YOUTUBE_API_KEY``. Both print the ranked
trends and write a PNG chart of the top trends' view velocity. ``follow`` / ``unfollow``
manage digest recipients, ``quota`` shows the day's YouTube spend, ``keys`` manages
business API keys. Exit codes as for ``tale``: 2 for bad input or missing configuration.
"""

from __future__ import annotations

import re
import secrets
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from schemas.trends import TrendsCollected
from shared import bootstrap
from shared.cli.common import fail_input, out
from shared.trends.models import Follower, Trend

app = typer.Typer(
    help="Trend scout: what is rising on YouTube Shorts, as ideas for tales.",
    no_args_is_help=True,
)
keys_app = typer.Typer(
    help="API keys for business customers (GET /v1/trends).", no_args_is_help=True
)
app.add_typer(keys_app, name="keys")

_REGION = re.compile(r"^[A-Za-z]{2}$")
CHART_TOP = 5


def register(root: typer.Typer) -> None:
    """Add ``tale trends`` to the ``tale`` command (once)."""
    if not any(group.name == "trends" for group in root.registered_groups):
        root.add_typer(app, name="trends")


def trends_table(trends: list[Trend], sample: bool) -> Table:
    """Ranked trends; "vs avg" is the top video's gain per hour now against its average since
    publication; the idea is the first story idea (Korean for KR, else English)."""
    title = "Rising on YouTube Shorts"
    table = Table(title=title + (" — SAMPLE DATA (not real YouTube data)" if sample else ""))
    numbers = ("#", "score", "videos", "views/h now", "vs avg")
    for col in ("#", "region", "trend", "score", "videos", "views/h now", "vs avg"):
        table.add_column(col, justify="right" if col in numbers else "left", no_wrap=True)
    table.add_column("keywords", overflow="ellipsis", no_wrap=True, max_width=28)
    table.add_column("story idea", overflow="ellipsis", no_wrap=True, max_width=32)
    for t in trends:
        top = t.videos[0]
        growth = (top.recent_velocity + 1) / max(top.velocity, 1.0)
        explanation = t.explanation("ko" if t.region == "KR" else "en")
        idea = explanation.writeup.ideas[0].title if explanation else "-"
        table.add_row(
            str(t.rank),
            t.region,
            t.label if len(t.label) <= 24 else t.label[:23] + "…",
            f"{t.score:.2f}",
            str(len(t.videos)),
            f"{top.recent_velocity:,.0f}",
            f"{growth:.1f}×",
            ", ".join(t.keywords[:3]),
            idea,
        )
    return table


def _show(trends: list[Trend], chart: Path | None) -> None:
    from shared.trends.chart import velocity_chart

    sample = any(t.sample for t in trends)
    ranked = sorted(trends, key=lambda t: (t.region, t.rank))
    out.print(trends_table(ranked, sample))
    target = chart or bootstrap.container().home / "trends" / "velocity.png"
    top = sorted(trends, key=lambda t: -t.score)[:CHART_TOP]
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


def _follower(target: str, email: str, language: str) -> Follower:
    if "@" not in email or len(email) > 254:
        fail_input(f"--email must be an email address, not {email!r}")
    if language not in ("ko", "en"):
        fail_input("--language must be ko or en")
    target = target.strip()
    if not target or len(target) > 60:
        fail_input("name a region (KR) or a topic (#먹방, cooking) of at most 60 characters")
    if _REGION.match(target):
        return Follower(email, "region", target.upper(), language, time.time())  # type: ignore[arg-type]
    return Follower(email, "topic", target, language, time.time())  # type: ignore[arg-type]


@app.command("follow")
def follow(
    target: Annotated[str, typer.Argument(help="A region (KR, US) or a topic (#먹방, cooking).")],
    email: Annotated[str, typer.Option(help="Where the digest goes.")],
    language: Annotated[str, typer.Option(help="Digest language: ko or en.")] = "en",
) -> None:
    """Get the trend digest for a region or a topic by email."""
    follower = _follower(target, email, language)
    bootstrap.container().trends.follow(follower)
    out.print(f"{email} follows {follower.kind} {follower.value} ({language}).", highlight=False)


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
    """Today's YouTube Data API spend (the quota day is Pacific Time) and what it allows."""
    from shared.trends.collect import utc_text
    from shared.trends.quota import QuotaPlanner, collections_per_day, worst_case_cost

    c = bootstrap.container()
    s = c.settings
    planner = QuotaPlanner(c.trends, s.youtube_daily_quota)
    now = time.time()
    calls = c.trends.quota_calls(planner.day(now))
    out.print(
        f"{planner.day(now)}: {planner.spent(now):,} of {s.youtube_daily_quota:,} units spent "
        f"in {len(calls)} calls, {planner.remaining(now):,} left",
        highlight=False,
    )
    blocked = planner.blocked_until(now)
    if blocked is not None:
        out.print(f"[red]quota exhausted until {utc_text(blocked)}[/red]")
    topics, pages, regions = len(s.trends_topics), s.trends_search_pages, len(s.trends_regions)
    out.print(
        f"one collection of a region ({topics} topic(s) × {pages} page(s)) costs at most "
        f"{worst_case_cost(topics, pages):,} units; {regions} regions fit "
        f"{collections_per_day(regions, topics, pages, s.youtube_daily_quota)} runs a day",
        highlight=False,
    )


@keys_app.command("issue")
def issue_key(
    name: Annotated[str, typer.Option(help="Who the key is for.")],
    rate: Annotated[
        int | None,
        typer.Option(help="Requests a minute (default: TALE_TRENDS_KEY_RATE_PER_MINUTE)."),
    ] = None,
) -> None:
    """Issue a key; it is shown once (only its SHA-256 is stored)."""
    from shared.trends.apikeys import issue

    c = bootstrap.container()
    per_minute = rate if rate is not None else c.settings.trends_key_rate_per_minute
    if not 1 <= per_minute <= 100_000 or not name.strip() or len(name) > 100:
        fail_input("--name must be 1-100 characters and --rate between 1 and 100000")
    key, record = issue(c.trends, name.strip(), per_minute)
    out.print(f"{record.key_id} for {record.name} ({per_minute}/min). The key (shown once):")
    print(key)


@keys_app.command("revoke")
def revoke_key(key_id: Annotated[str, typer.Argument(help="The key's id (key-…).")]) -> None:
    """Revoke a key: it is refused (401) from now on."""
    if not bootstrap.container().trends.revoke_key(key_id, time.time()):
        fail_input(f"no active key {key_id}")
    out.print(f"revoked {key_id}")


@keys_app.command("list")
def list_keys() -> None:
    """Every key (never the key itself)."""
    table = Table(title="API keys")
    for col in ("id", "name", "per minute", "created", "revoked"):
        table.add_column(col)
    for k in bootstrap.container().trends.api_keys():
        table.add_row(
            k.key_id,
            k.name,
            str(k.rate_per_minute),
            time.strftime("%Y-%m-%d %H:%M", time.gmtime(k.created_at)),
            time.strftime("%Y-%m-%d %H:%M", time.gmtime(k.revoked_at)) if k.revoked_at else "-",
        )
    out.print(table)
