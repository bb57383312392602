"""Bad input: a clear message, exit code 2, and nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import EXAMPLES
from tests.e2e.helpers import tale


def story_file(tmp_path: Path, content: bytes) -> Path:
    path = tmp_path / "story.txt"
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (b"", (), "empty"),
        (b"   \n\n  ", (), "empty"),
        (b"\x00\x01\x02binary\xff\xd8\xff", (), "not UTF-8"),
        (b"a\x00b\x01c", (), "not readable text"),
        (("word " * 5000).encode(), (), "limit is 20,000"),
        (b"A fox ran.", ("--aspect", "4:3"), "aspect_ratio"),
        (b"A fox ran.", ("--shots", "0"), "shot_count"),
        (b"A fox ran.", ("--seconds", "5"), "shot_seconds"),
        (b"A fox ran.", ("--language", "fr"), "language"),
    ],
    ids=["empty", "blank", "binary", "control", "too-long", "aspect", "shots", "seconds", "lang"],
)
def test_bad_story_or_options(
    tmp_path: Path, content: bytes, args: tuple[str, ...], message: str
) -> None:
    home = tmp_path / "home"
    result = tale(home, "run", str(story_file(tmp_path, content)), *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not home.exists()


def test_missing_file(tmp_path: Path) -> None:
    result = tale(tmp_path / "home", "run", str(tmp_path / "nope.txt"))
    assert result.returncode == 2 and "no such file" in result.stderr
    assert not (tmp_path / "home").exists()


@pytest.mark.parametrize(
    ("track", "message"),
    [
        (None, "no such file"),
        (b"A fox ran.", "is not MP3, AAC, MP4/M4A, WAV, Ogg, FLAC or WebM audio"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 40, "WAV file cannot be decoded"),
    ],
    ids=["missing", "not-audio", "broken"],
)
def test_music_that_is_not_a_track(tmp_path: Path, track: bytes | None, message: str) -> None:
    music = tmp_path / "music.mp3"
    if track is not None:
        music.write_bytes(track)
    story = story_file(tmp_path, b"A fox ran.")
    result = tale(tmp_path / "home", "run", str(story), "--music", str(music))
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "home").exists()


def test_music_takes_a_file_or_remove_for_a_tale(tmp_path: Path) -> None:
    for args in ((), ("music.wav", "--remove")):
        result = tale(tmp_path / "home", "music", "tale-000001", *args)
        assert result.returncode == 2 and "give a FILE" in result.stderr, result.stderr
    result = tale(tmp_path / "home", "music", "tale-000001", "--remove")
    assert result.returncode == 2 and "no tale tale-000001" in result.stderr, result.stderr


def test_unknown_style_is_a_usage_error(tmp_path: Path) -> None:
    result = tale(
        tmp_path / "home", "run", str(EXAMPLES / "lighthouse-fox.en.txt"), "--style", "vaporwave"
    )
    assert result.returncode == 2 and "vaporwave" in result.stderr


def test_every_command_has_help(tmp_path: Path) -> None:
    for command in ("run", "status", "resume", "events", "approve", "cancel"):
        result = tale(tmp_path / "home", command, "--help")
        assert result.returncode == 0 and "Usage" in result.stdout
