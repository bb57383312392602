"""Background music in the web app, in Debian's Chromium against a real ``tale serve``.

A person opens their storyboard, chooses a 2-second WAV tone (written here with ``wave``):
it is uploaded (``PUT …/music``) and its length and size are shown; they remove it with the
keyboard (``DELETE …/music``); a file over the 20 MiB limit is refused in the page before
anything is sent, and a text file is refused by the API (415) in its own words. The panel
passes axe-core and is saved as a screenshot in build/web-screenshots/.
"""

from __future__ import annotations

import json
import math
import struct
import urllib.request
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.served import Served
from shared.domain.music import MAX_MUSIC_BYTES
from tests.web.browsing import DESKTOP, Visit

pytestmark = pytest.mark.slow


@pytest.fixture
def visit(browser: Any, served: Served, screenshots: Path, axe_source: str) -> Iterator[Visit]:
    opened = Visit.open(browser, served.base, "desktop", DESKTOP, screenshots, axe_source)
    yield opened
    problems = list(opened.problems)
    opened.close()
    assert not problems, "\n".join(problems)


def tone(path: Path, seconds: float = 2.0, rate: int = 8000) -> Path:
    """A 440 Hz sine, mono, 16-bit PCM."""
    frames = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * n / rate)))
        for n in range(int(seconds * rate))
    )
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames)
    return path


def tale_music(served: Served, token: str, tale_id: str) -> Any:
    request = urllib.request.Request(
        f"{served.base}/v1/tales/{tale_id}", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["music"]


def test_upload_show_remove_and_refuse_music(visit: Visit, served: Served, tmp_path: Path) -> None:
    page = visit.page
    visit.sign_in("musician@localhost")
    token = page.evaluate("() => localStorage.getItem('tale.dev-token')")
    status, tale = served.call(
        "POST",
        "/v1/tales",
        token,
        {
            "text": "Mina walked to the sea. Mina saw a fox.",
            "shot_count": 1,
            "shot_seconds": 4,
            "options": {"approval_required": True},
        },
    )
    assert status == 201, tale
    tale_id = tale["id"]
    visit.goto(f"/tales/{tale_id}")
    page.get_by_role("heading", name="Background music").wait_for()
    page.get_by_text("No background music.").wait_for()
    page.get_by_text("Upload only music you own").wait_for()

    picker = page.get_by_label("Music file")
    picker.set_input_files(str(tone(tmp_path / "tone.wav")))
    page.get_by_text("Current track: WAV, 0:02, 32 kB").wait_for()
    status_line = page.get_by_role("status").filter(has_text="Background music set (0:02).")
    status_line.wait_for()
    music = tale_music(served, token, tale_id)
    assert music["content_type"] == "audio/wav" and abs(music["seconds"] - 2.0) < 0.01, music
    visit.check("music")

    remove = page.get_by_role("button", name="Remove music")
    remove.focus()
    page.keyboard.press("Enter")
    page.get_by_text("No background music.").wait_for()
    page.get_by_role("status").filter(has_text="Background music removed.").wait_for()
    assert page.evaluate("() => document.activeElement.id") == "music-file"
    assert tale_music(served, token, tale_id) is None

    big = tmp_path / "long.wav"
    with big.open("wb") as out:
        out.truncate(MAX_MUSIC_BYTES + 1)  # sparse: nothing is written
    picker.set_input_files(str(big))
    alert = page.get_by_role("alert").filter(has_text="The file is too large")
    alert.wait_for()
    assert "long.wav is 20.1 MB; a track may be at most 20 MB." in alert.inner_text()

    notes = tmp_path / "notes.txt"
    notes.write_text("not a song\n")
    picker.set_input_files(str(notes))
    alert = page.get_by_role("alert").filter(has_text="This kind of file cannot be used here.")
    alert.wait_for()
    assert "text/plain" in alert.inner_text()  # the API's own detail
    assert page.get_by_text("The file is too large").count() == 0
    assert tale_music(served, token, tale_id) is None
    visit.check("music-refused")
