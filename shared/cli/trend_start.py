"""``tale trends start TREND_ID``: a tale from a trend's story idea. The submission records
the trend (``trend_id``) and asks for storyboard approval, so the local runtime plans it and
stops at the storyboard (``tale approve ID`` renders it) — the same path as
``POST /v1/trends/{id}/tales``."""

from __future__ import annotations

from typing import Annotated

import typer

from shared import bootstrap
from shared.cli.common import fail_input, out
from shared.trends.readers import region_language_of


def start(
    trend_id: Annotated[str, typer.Argument(help="A trend's id (trd-…, see tale trends show).")],
    idea: Annotated[int, typer.Option(help="Which story idea (0-2).")] = 0,
    language: Annotated[
        str | None, typer.Option(help="ko, en, ja or zh (default: the region's).")
    ] = None,
    shots: Annotated[int, typer.Option(help="Number of shots (1-16).")] = 8,
    seconds: Annotated[int, typer.Option(help="Seconds per shot: 4, 6 or 8.")] = 8,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No live progress.")] = False,
) -> None:
    """Start a tale from a trend's story idea: it records the trend and stops at its
    storyboard for approval (tale approve ID), as POST /v1/trends/{id}/tales does."""
    from pydantic import ValidationError

    from schemas.story import StoryOptions, StorySubmission
    from shared import service
    from shared.cli.common import drive, local_runtime
    from shared.domain.errors import InvalidStory
    from shared.domain.tale import TaleState

    c = bootstrap.container()
    trend = c.trends.trend(trend_id)
    if trend is None:
        fail_input(f"no trend {trend_id}")
    wanted = language or region_language_of(trend.region)
    explanation = trend.explanation(wanted)
    ideas = explanation.writeup.ideas if explanation else []
    if not 0 <= idea < len(ideas):
        fail_input(f"--idea: trend {trend_id} has {len(ideas)} ideas (0-{len(ideas) - 1})")
    chosen = ideas[idea]
    try:
        submission = StorySubmission(
            text=f"{chosen.title}\n\n{chosen.story}",
            language=explanation.language if explanation else None,
            shot_count=shots,
            shot_seconds=seconds,
            options=StoryOptions(approval_required=True),
            trend_id=trend.trend_id,
        )
        service.check_renderable(submission, c.settings)
    except ValidationError as exc:
        fail_input("; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors()))
    except InvalidStory as exc:
        fail_input(str(exc))
    with local_runtime() as runtime:
        tale = service.submit(
            submission,
            owner=c.settings.owner,
            store=c.store,
            bus=c.bus,
            max_chars=c.settings.max_story_chars,
        )
        out.print(f"Submitted {tale.tale_id} from {trend.label} ({trend.trend_id})")
        drive(runtime, [tale.tale_id], quiet)
    final = c.store.find(tale.tale_id)
    assert final is not None
    if final.state is TaleState.AWAITING_APPROVAL:
        out.print(
            f"Storyboard of {final.tale_id} is ready. Approve with: "
            f"[bold]tale approve {final.tale_id}[/bold]"
        )
        return
    out.print(f"[red]✗[/red] {final.tale_id} {final.state}: {final.error_reason}")
    raise typer.Exit(1)
