"""``tale edit``: an operator edits a storyboard awaiting approval, as the API's PATCH does;
bad input gets one line on stderr and exit code 2, and changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.helpers import tale

STORY = "Mina walked to the sea. Mina met a fox by the rocks. They became friends.\n"


def storyboard(home: Path, tale_id: str) -> dict[str, object]:
    shown = tale(home, "storyboard", tale_id, "--json")
    assert shown.returncode == 0, shown.stderr
    board: dict[str, object] = json.loads(shown.stdout)
    return board


def test_edit_then_approve(tmp_path: Path) -> None:
    home = tmp_path / "home"
    story = tmp_path / "story.txt"
    story.write_text(STORY, encoding="utf-8")
    first = tale(
        home,
        "run",
        str(story),
        "--shots",
        "2",
        "--seconds",
        "4",
        "--approval",
        "--quiet",
    )
    assert first.returncode == 0, first.stderr
    tale_id = next(w for w in first.stdout.split() if w.startswith("tale-"))
    before = storyboard(home, tale_id)

    for args, says in [
        (["--shot", "9", "--narration", "x"], "no shot 9"),
        (["--shot", "1", "--duration", "5"], "--duration"),
        (["--shot", "1", "--prompt", ""], "--prompt"),
        (["--narration", "x"], "--shot N"),
        ([], "say what changes"),
        (["--character", "Nobody", "--description", "a tall man"], "no character 'Nobody'"),
        (["--character", "Nobody"], "go together"),
    ]:
        bad = tale(home, "edit", tale_id, *args)
        assert bad.returncode == 2 and says in bad.stderr, (args, bad.stderr)
    assert tale(home, "edit", tale_id, "--shot", "1", "--camera", "dolly").returncode == 2
    assert tale(home, "edit", "tale-nosuch", "--shot", "1", "--narration", "x").returncode == 2
    assert storyboard(home, tale_id) == before  # nothing changed

    edited = tale(
        home,
        "edit",
        tale_id,
        "--shot",
        "2",
        "--narration",
        "The fox waved goodbye.",
        "--prompt",
        "a red fox on a rocky shore at dusk",
        "--camera",
        "close-up",
        "--duration",
        "8",
    )
    assert edited.returncode == 0, edited.stderr
    assert "storyboard version 2" in edited.stdout and "12 s" in edited.stdout
    board = storyboard(home, tale_id)
    shots = board["shots"]
    assert isinstance(shots, list)
    assert shots[1]["narration"] == "The fox waved goodbye."
    assert shots[1]["prompt"].startswith("a red fox on a rocky shore at dusk")
    assert (shots[1]["camera"], shots[1]["duration_s"]) == ("close-up", 8)

    approved = tale(home, "approve", tale_id, "--quiet")
    assert approved.returncode == 0, approved.stderr
    assert "final.mp4" in approved.stdout
    rendered = storyboard(home, tale_id)["shots"]
    assert isinstance(rendered, list) and rendered[1]["status"] == "rendered"
    assert rendered[1]["narration"] == "The fox waved goodbye."
    late = tale(home, "edit", tale_id, "--shot", "1", "--narration", "too late")
    assert late.returncode == 2 and "awaits approval" in late.stderr
