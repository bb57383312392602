"""The background music's rules without I/O: when a tale's track may change, what a file must
be to be one (real files of every format, written here), and the use case on the fakes."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.domain.errors import InvalidMusic, MusicLocked, TaleNotFound, UnsupportedMusicType
from shared.domain.music import accepted_type
from shared.domain.tale import TaleState, music_may_change
from shared.media.audio import RATE, decode_audio
from shared.media.tracks import inspect_track, sniff
from shared.usecases.set_music import read_music, remove_music, set_music
from tests.conftest import make_record, make_submission
from tests.fakes import InMemoryTaleStore, MemoryBlobs
from tests.tones import encoded_tone, wav_tone


@pytest.mark.parametrize(
    ("state", "has_video", "may"),
    [
        (TaleState.SUBMITTED, False, True),
        (TaleState.PLANNING, False, True),
        (TaleState.AWAITING_APPROVAL, False, True),
        (TaleState.RENDERING, False, True),  # stitched later: the track is mixed in then
        (TaleState.RENDERING, True, True),  # a revision rendering
        (TaleState.STITCHING, False, False),  # the cut being made reads it
        (TaleState.STITCHING, True, False),
        (TaleState.COMPLETED, True, True),  # for its next revision
        (TaleState.FAILED, True, True),
        (TaleState.CANCELLED, True, True),
        (TaleState.FAILED, False, False),  # nothing will be stitched again
        (TaleState.CANCELLED, False, False),
    ],
)
def test_when_the_music_may_change(state: TaleState, has_video: bool, may: bool) -> None:
    assert music_may_change(state, has_video) is may


@pytest.mark.parametrize(
    ("kind", "content_type", "channels"),
    [
        ("mp3", "audio/mpeg", 2),
        ("aac", "audio/aac", 2),
        ("m4a", "audio/mp4", 2),
        ("ogg", "audio/ogg", 2),
        ("flac", "audio/flac", 2),
        ("webm", "audio/webm", 2),
    ],
)
def test_every_format_is_read_by_its_own_bytes(
    kind: str, content_type: str, channels: int, tmp_path: Path
) -> None:
    data = encoded_tone(kind, 1.5)
    info = inspect_track(data)
    assert info.content_type == content_type and info.channels == channels
    assert 1.5 <= info.seconds < 1.6 and info.sample_rate in (44_100, 48_000)
    stored = tmp_path / "music"  # as the stitch stage downloads it: no name to go by
    stored.write_bytes(data)
    mixed = decode_audio(stored)
    assert mixed is not None and abs(mixed.shape[1] / RATE - 1.5) < 0.1


def test_a_wav_and_its_id3_tagged_mp3_cousin() -> None:
    info = inspect_track(wav_tone(2.0))
    assert (info.format, info.seconds, info.channels, info.sample_rate) == ("wav", 2.0, 1, 22_050)
    mp3 = encoded_tone("mp3", 1.2)
    assert mp3.startswith(b"ID3") and sniff(mp3) == "mp3"  # PyAV tags it: found behind the tag
    assert sniff(b"ID3\x04\x00\x00\x00\x00\x00\x04abcdfLaC") == "flac"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "unknown-format"),
        (b"not audio at all, just text" * 10, "unknown-format"),
        (b"#EXTM3U\n#EXTINF:1,\nfile:///etc/passwd\n", "unknown-format"),  # never probed
        (b"\x00\x00\x00\x18ftypisom" + b"\x00" * 64, "undecodable"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 40, "undecodable"),
        (b"ID3\x03\x00\x00\x00\x00\x00\x00\xff\xfb\x90\x00" + b"\x00" * 2000, "undecodable"),
    ],
)
def test_what_is_not_a_track(data: bytes, reason: str) -> None:
    with pytest.raises(InvalidMusic) as refused:
        inspect_track(data)
    assert refused.value.reason == reason


def test_a_track_lasts_from_a_second_to_the_limit() -> None:
    with pytest.raises(InvalidMusic) as short:
        inspect_track(wav_tone(0.5))
    assert short.value.reason == "too-short" and short.value.values["seconds"] == "0.50"
    with pytest.raises(InvalidMusic) as long:
        inspect_track(encoded_tone("mp3", 3.0), max_seconds=2)
    assert long.value.reason == "too-long" and long.value.values["limit"] == "2"


def test_the_content_types_taken() -> None:
    assert accepted_type("audio/mpeg") and accepted_type("Audio/WAV; codecs=1")
    assert not accepted_type("video/webm") and not accepted_type(None)
    with pytest.raises(UnsupportedMusicType) as wrong:
        read_music(wav_tone(2.0), "application/json")
    assert wrong.value.values["mimetype"] == "application/json"


def test_set_replace_and_remove_on_the_fakes() -> None:
    store, blobs = InMemoryTaleStore(), MemoryBlobs()
    store.create(make_record(), make_submission())
    tale = "tale-000001"
    first = read_music(wav_tone(2.0), "audio/wav")
    made = set_music(tale, first, store=store, blobs=blobs, owner="user-1")
    assert made.created and made.track.path == f"tales/{tale}/music/{first.sha256}"
    again = set_music(tale, first, store=store, blobs=blobs, owner="user-1")
    assert again == type(made)(made.track, created=False)  # the same upload: the same track
    second = read_music(encoded_tone("mp3", 1.5))
    replaced = set_music(tale, second, store=store, blobs=blobs)
    assert replaced.track.content_type == "audio/mpeg"
    assert blobs.list_paths(f"tales/{tale}/music/") == [replaced.track.path]  # the old one gone
    with pytest.raises(TaleNotFound):
        set_music(tale, first, store=store, blobs=blobs, owner="someone-else")
    assert remove_music(tale, store=store, blobs=blobs) == replaced.track
    assert remove_music(tale, store=store, blobs=blobs) is None
    assert blobs.objects == {}
    store.transition(tale, [TaleState.SUBMITTED], TaleState.CANCELLED, stage="cancelled")
    with pytest.raises(MusicLocked):
        set_music(tale, first, store=store, blobs=blobs)
    assert blobs.objects == {} and remove_music(tale, store=store, blobs=blobs) is None
