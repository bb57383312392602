"""A story becomes a decoded video through the real CLI and the local runtime."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from shared.media.audio import RATE, decode_audio, run_filters
from tests.conftest import EXAMPLES
from tests.e2e.helpers import decode, read_email, tale
from tests.tones import encoded_tone, wav_tone

pytestmark = pytest.mark.e2e


OUTPUTS = {"video", "poster", "storyboard", "email", "captions_srt", "captions_vtt"}
SHORT_STORY = (
    "The Fox and the Moon\n\n"
    "A small fox sat on a hill. The moon rose over the sea. The fox went home to sleep."
)


def outputs(stdout: str) -> dict[str, Path]:
    found = {}
    for line in stdout.splitlines():
        parts = line.split(maxsplit=1)
        if len(parts) == 2 and parts[0] in OUTPUTS:
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
    assert set(files) == OUTPUTS
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


def cue_times(text: str) -> list[tuple[float, float]]:
    """(start, end) of every cue of an SRT or WebVTT file."""

    def seconds(stamp: str) -> float:
        h, m, rest = stamp.replace(",", ".").split(":")
        return int(h) * 3600 + int(m) * 60 + float(rest)

    return [
        (seconds(line.split(" --> ")[0]), seconds(line.split(" --> ")[1]))
        for line in text.splitlines()
        if " --> " in line
    ]


def test_a_narrated_video_with_a_soundtrack_and_captions(tmp_path: Path) -> None:
    """Three shots of 4 s, each with one short sentence: voiced by espeak-ng, mixed, captioned."""
    story = tmp_path / "fox.txt"
    story.write_text(SHORT_STORY, encoding="utf-8")
    home = tmp_path / "home"
    result = tale(home, "run", str(story), "--shots", "3", "--seconds", "4", "--quiet")
    assert result.returncode == 0, result.stderr + result.stdout
    files = outputs(result.stdout)
    assert set(files) == OUTPUTS
    audio = decode_audio(files["video"])
    assert audio is not None
    with av.open(str(files["video"])) as box:
        video_s = float(box.streams.video[0].duration * box.streams.video[0].time_base)
        kinds = {s.type: s.codec_context.name for s in box.streams if s.codec_context}
    assert kinds == {"video": "h264", "audio": "aac", "subtitle": "mov_text"}
    assert abs(audio.shape[1] / RATE - video_s) <= 0.05
    for shot in range(3):  # every shot is narrated: speech inside its own 4 seconds
        part = audio[:, shot * 4 * RATE : (shot + 1) * 4 * RATE]
        assert 10 * np.log10(np.mean(np.square(part, dtype=np.float64))) > -35
    _, meta = run_filters(audio, [("ebur128", "metadata=1:peak=true")])
    assert abs(float(meta["lavfi.r128.I"]) - -14.0) <= 1.0
    for name in ("captions_srt", "captions_vtt"):
        times = cue_times(files[name].read_text(encoding="utf-8"))
        assert len(times) == 3
        for shot, (start, end) in enumerate(times):
            assert shot * 4 <= start < end <= (shot + 1) * 4
    assert files["captions_vtt"].read_text(encoding="utf-8").startswith("WEBVTT")
    tale_id = next(w for w in result.stdout.split() if w.startswith("tale-"))
    log = tale(home, "events", tale_id).stdout.replace("\n", " ")
    assert "soundtrack: 3 narrations" in " ".join(log.split())


def test_burned_captions_no_voice_and_bad_options(tmp_path: Path) -> None:
    story = tmp_path / "fox.txt"
    story.write_text(SHORT_STORY, encoding="utf-8")
    common = ("run", str(story), "--shots", "3", "--seconds", "4", "--quiet")
    burned = tale(tmp_path / "a", *common, "--captions", "burned", "--voice", "en-gb")
    assert burned.returncode == 0, burned.stderr + burned.stdout
    files = outputs(burned.stdout)
    with av.open(str(files["video"])) as box:
        assert {s.type for s in box.streams} == {"video", "audio"}  # drawn, not a track
    assert len(cue_times(files["captions_srt"].read_text(encoding="utf-8"))) == 3
    silent = tale(tmp_path / "b", *common, "--voice", "none", "--captions", "off")
    assert silent.returncode == 0, silent.stderr + silent.stdout
    files = outputs(silent.stdout)
    audio = decode_audio(files["video"])
    assert audio is not None and float(np.abs(audio).max()) < 1e-3  # nobody speaks
    with av.open(str(files["video"])) as box:
        assert {s.type for s in box.streams} == {"video", "audio"}
    assert len(cue_times(files["captions_vtt"].read_text(encoding="utf-8"))) == 3
    bad = tale(tmp_path / "c", *common, "--captions", "loud")
    assert bad.returncode == 2 and "--captions" in bad.stderr
    unknown = tale(tmp_path / "d", *common, "--voice", "klingon")
    assert unknown.returncode == 2 and "klingon" in unknown.stderr
    assert not (tmp_path / "c" / "blobs").exists() and not (tmp_path / "d" / "blobs").exists()


def test_uploaded_music_plays_under_the_narration(tmp_path: Path) -> None:
    """``tale run --music`` sets a track, ``tale music`` removes and replaces it before
    approval; the last one is looped under the cut and ducked under the narration."""
    story = tmp_path / "fox.txt"
    story.write_text(SHORT_STORY, encoding="utf-8")
    first_track = tmp_path / "first.mp3"
    first_track.write_bytes(encoded_tone("mp3", 1.5, hz=660.0))
    music = tmp_path / "music.wav"
    music.write_bytes(wav_tone(5.0, 220.0))
    home = tmp_path / "home"
    common = ("--shots", "3", "--seconds", "4", "--quiet")
    first = tale(home, "run", str(story), *common, "--approval", "--music", str(first_track))
    assert first.returncode == 0, first.stderr + first.stdout
    assert "Music: audio/mpeg, 0:01.5, stereo, 44100 Hz" in first.stdout
    tale_id = next(w for w in first.stdout.split() if w.startswith("tale-"))
    removed = tale(home, "music", tale_id, "--remove")
    assert removed.returncode == 0 and f"Removed the music of {tale_id}." in removed.stdout
    replaced = tale(home, "music", tale_id, str(music))
    assert replaced.returncode == 0, replaced.stderr + replaced.stdout
    assert "audio/wav, 0:05.0, mono, 22050 Hz" in replaced.stdout
    assert [p.name for p in (home / "blobs" / "tales" / tale_id / "music").iterdir()] == [
        hashlib.sha256(music.read_bytes()).hexdigest()
    ]
    approved = tale(home, "approve", tale_id, "--quiet")
    assert approved.returncode == 0, approved.stderr + approved.stdout
    audio = decode_audio(outputs(approved.stdout)["video"])
    assert audio is not None
    tail = audio[:, round(11.9 * RATE) : round(11.95 * RATE)].mean(axis=0)  # fading out
    middle = audio[:, round(3.86 * RATE) : round(4.14 * RATE)].mean(axis=0)  # between voices
    spectrum = np.abs(np.fft.rfft(middle * np.hanning(middle.size)))
    peak_hz = np.fft.rfftfreq(middle.size, 1 / RATE)[int(np.argmax(spectrum))]
    assert abs(peak_hz - 220) < 8 and np.abs(tail).max() < np.abs(middle).max()
    log = " ".join(tale(home, "events", tale_id).stdout.split())
    assert "clips with their own sound, music;" in log
