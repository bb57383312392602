"""``tale storyboard ID``: a tale's storyboard — characters, scenes, shots and their media.

``--json`` prints the API's ``GET /v1/tales/{id}/storyboard`` body (``shared.api.reads``),
with its signed media URLs (``tale serve`` answers them in the embedded default).
"""

from __future__ import annotations

from typing import Annotated

import typer

from shared import bootstrap
from shared.cli.common import fail_input, out


def storyboard(
    tale_id: Annotated[str, typer.Argument(help="A tale id.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the API's storyboard view as JSON.")
    ] = False,
) -> None:
    """Print a tale's storyboard: characters, shots and which media exist."""
    from shared.api.reads import storyboard_view
    from shared.cli.views import storyboard_view as render

    container = bootstrap.container()
    tale = container.store.find(tale_id)
    if tale is None:
        fail_input(f"no tale {tale_id}")
    plan = container.store.plan(tale_id)
    if plan is None:
        fail_input(f"tale {tale_id} has no storyboard yet (it is {tale.state})")
    board = storyboard_view(container, tale, plan)
    if as_json:
        print(board.model_dump_json(indent=2))
    else:
        out.print(render(board))


def register(app: typer.Typer) -> None:
    app.command("storyboard")(storyboard)
