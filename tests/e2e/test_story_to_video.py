"""A story becomes a decoded video through the real CLI and the local runtime."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import EXAMPLES
from tests.e2e.helpers import decode, read_email, tale

pytestmark = pytest.mark.e2e


def outputs(stdout: str) -> dict[str, Path]:
    found = {}
    for line in stdout.splitlines():
        parts = line.split(maxsplit=1)
        if len(parts) == 2 and parts[0] in {"video", "poster", "storyboard", "email"}:
            found[parts[0]] = Path(parts[1].strip())
    return found


@pytest.mark.parametrize(
    ("story", "title_word", "lang_word"),
    [
        ("lighthouse-fox.en.txt", "", "ready"),
        ("moon-rabbit.ko.txt", "", "완성"),
    ],
    ids=["english", "korean"],
)
def test_a_story_becomes_a_video(
    tmp_path: Path, story: str, title_word: str, lang_word: str
) -> None:
    result = tale(
        tmp_path / "home", "run", str(EXAMPLES / story), "--shots", "3", "--seconds", "4", "--quiet"
    )
    assert result.returncode == 0, result.stderr + result.stdout
    files = outputs(result.stdout)
    assert set(files) == {"video", "poster", "storyboard", "email"}
    width, height, frames, duration, _ = decode(files["video"])
    assert (width, height) == (90, 160)  # 9:16
    assert frames == 3 * 4 * 8
    assert abs(duration - 12.0) <= 0.5
    with Image.open(files["storyboard"]) as sheet:
        assert sheet.format == "PNG" and sheet.width > 200
    with Image.open(files["poster"]) as poster:
        assert poster.format == "PNG"
    email = read_email(files["email"])
    db = sqlite3.connect(tmp_path / "home" / "state.db")
    (title,) = db.execute("SELECT title FROM tales").fetchone()
    assert title and title in str(email["Subject"]) and lang_word in str(email["Subject"])
    body = email.get_body(("plain",))
    assert body is not None and title in body.get_content()
    assert email.get_body(("html",)) is not None


def test_status_and_events_show_the_tale(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert (
        tale(
            home,
            "run",
            str(EXAMPLES / "lighthouse-fox.en.txt"),
            "--shots",
            "2",
            "--seconds",
            "4",
            "--quiet",
        ).returncode
        == 0
    )
    listing = tale(home, "status")
    assert listing.returncode == 0 and "completed" in listing.stdout
    tale_id = next(w for w in listing.stdout.split() if w.startswith("tale-"))
    detail = tale(home, "status", tale_id)
    assert "final.mp4" in detail.stdout and "rendered" in detail.stdout
    log = tale(home, "events", tale_id)
    assert (
        "stitched 2 clips by stream copy" in log.stdout.replace("\n", " ")
        or "stream copy" in log.stdout
    )
    assert tale(home, "events", "tale-nosuch").returncode == 2


def test_the_approval_gate_waits_for_approve(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = tale(
        home,
        "run",
        str(EXAMPLES / "lighthouse-fox.en.txt"),
        "--shots",
        "2",
        "--seconds",
        "4",
        "--approval",
        "--quiet",
    )
    assert first.returncode == 0 and "tale approve" in first.stdout
    tale_id = next(w for w in first.stdout.split() if w.startswith("tale-"))
    assert "awaiting_approval" in tale(home, "status").stdout
    approved = tale(home, "approve", tale_id, "--quiet")
    assert approved.returncode == 0, approved.stderr
    assert "final.mp4" in approved.stdout
    assert tale(home, "approve", tale_id).returncode == 2  # nothing left to approve


def test_cancel_a_waiting_tale_tells_the_owner(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = tale(
        home,
        "run",
        str(EXAMPLES / "moon-rabbit.ko.txt"),
        "--shots",
        "2",
        "--seconds",
        "4",
        "--approval",
        "--quiet",
    )
    tale_id = next(w for w in first.stdout.split() if w.startswith("tale-"))
    assert tale(home, "cancel", tale_id).returncode == 0
    assert "cancelled" in tale(home, "status", tale_id).stdout
    email = read_email(home / "outbox" / f"{tale_id}-cancelled.eml")
    assert "취소" in str(email["Subject"])
    assert email["Content-Language"] == "ko"
    again = tale(home, "cancel", tale_id)
    assert again.returncode == 2 and "already cancelled" in again.stderr
