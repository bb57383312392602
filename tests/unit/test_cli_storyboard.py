"""``tale storyboard ID`` and ``tale status [ID] --json`` on a real embedded-default run: the
same fields as the API's views, for scripts; bad input is exit 2."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from shared import bootstrap
from shared.api.views import StoryboardView, TaleList, TaleView
from shared.cli import storyboard
from shared.cli.main import app
from tests.conftest import EXAMPLES

FAST = {
    "TALE_OFFLINE_HEIGHT": "160",
    "TALE_OFFLINE_FPS": "8",
    "TALE_RETRY_MIN_BACKOFF_S": "0.01",
    "TALE_RETRY_MAX_BACKOFF_S": "0.05",
    "COLUMNS": "240",
}


def tale(home: Path, *args: str) -> Result:
    return CliRunner().invoke(app, ["--home", str(home), *args], env=FAST)


def as_json(home: Path, *args: str) -> Any:
    result = tale(home, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    previous = bootstrap._container
    if "storyboard" not in [c.name for c in app.registered_commands]:
        storyboard.register(app)
    home = tmp_path_factory.mktemp("storyboard") / "home"
    story = EXAMPLES / "lighthouse-fox.en.txt"
    result = tale(home, "run", str(story), "--shots", "2", "--seconds", "4", "--approval", "-q")
    assert result.exit_code == 0, result.output
    yield home
    bootstrap._container = previous


def tale_id(home: Path) -> str:
    listed = TaleList.model_validate(as_json(home, "status"))
    assert len(listed.tales) == 1
    return listed.tales[0].id


def test_storyboard_before_approval(home: Path) -> None:
    board = StoryboardView.model_validate(as_json(home, "storyboard", tale_id(home)))
    assert board.status == "awaiting_approval" and board.version == 1
    assert len(board.shots) == 2 and {s.status for s in board.shots} == {"planned"}
    assert board.characters and board.estimate is not None
    table = tale(home, "storyboard", board.id)
    assert table.exit_code == 0, table.output
    for text in ("Characters", "Shots", board.characters[0].name, board.shots[0].camera):
        assert text in table.output
    assert "planned" in table.output


def test_status_json_is_the_apis_tale_view(home: Path) -> None:
    one = TaleView.model_validate(as_json(home, "status", tale_id(home)))
    assert one.status == "awaiting_approval" and one.shot_count == 2
    assert one.shots == [] and one.estimate is not None and one.estimate.usd >= 0


def test_bad_input_is_exit_2(home: Path) -> None:
    for args in (
        ("storyboard", "tale-nope"),
        ("storyboard", "tale-nope", "--json"),
        ("status", "tale-nope", "--json"),
        ("storyboard",),
    ):
        result = tale(home, *args)
        assert result.exit_code == 2, (args, result.output)
    for command in ("storyboard", "status"):  # the help renders (no stray markup)
        result = tale(home, command, "--help")
        assert result.exit_code == 0 and "--json" in result.output, result.output


def test_storyboard_after_approval_shows_the_media(home: Path) -> None:
    """Last in this module: it approves the tale the others read."""
    ident = tale_id(home)
    approved = tale(home, "approve", ident, "-q")
    assert approved.exit_code == 0, approved.output
    board = StoryboardView.model_validate(as_json(home, "storyboard", ident))
    assert board.status == "completed" and board.estimate is None
    for shot in board.shots:
        assert shot.status == "rendered" and shot.attempt == 1
        for url in (shot.thumbnail_url, shot.clip_url, shot.voice_url):
            assert url is not None and url.startswith("http://127.0.0.1:8080/media/tales/")
    assert all(c.image_url for c in board.characters)
    assert board.video_url and board.poster_url and board.storyboard_url
    table = tale(home, "storyboard", ident)
    assert "thumb clip voice" in table.output and "storyboard sheet, poster, video" in table.output
    done = TaleView.model_validate(as_json(home, "status", ident))
    assert done.has_video and [s.status for s in done.shots or []] == ["rendered"] * 2
