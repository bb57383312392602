"""Narration prepared per shot (``narrate_shot``) and spliced by the final cut: the video
people get is the one mixing would give (speech inside its shot, -14 LUFS, under -1 dBTP,
captions on the voice), and the final cut falls back to mixing whenever splicing cannot be
right."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from shared.media.audio import RATE, decode_audio, run_filters
from shared.media.final_cut import FinalCut, ShotInput, final_cut
from shared.media.narration import SLACK_S, load, prepare, room
from shared.media.soundtrack import LEAD_S, TAIL_S, NarrationTooLong
from tests.unit.test_soundtrack import (
    NARRATED_DB,
    QUIET_DB,
    SECONDS,
    clip,
    clip_with_tone,
    rms_db,
    segment,
    speak,
    streams,
    subtitle_texts,
    tone_wav,
)


@pytest.fixture
def shots(tmp_path: Path) -> list[ShotInput]:
    """Four shots of 3 s, the third without narration, every voice prepared."""
    lines = ["A small fox sat on the hill.", "The moon rose over the sea.", "", "She went home."]
    made = []
    for i, line in enumerate(lines):
        made.append(ShotInput(clip(tmp_path / f"clip{i}.mp4", i + 1), line))
        if line:
            voice = speak(line, tmp_path / f"voice{i}.wav")
            prepared = tmp_path / f"voice{i}.m4a"
            prepare(voice, SECONDS, i, prepared)
            made[-1] = dataclasses.replace(made[-1], voice=voice, prepared=prepared)
    return made


def cut(shots: list[ShotInput], folder: Path, **options: object) -> tuple[FinalCut, Path]:
    folder.mkdir(exist_ok=True)
    out = folder / "final.mp4"
    return final_cut(shots, out, folder, language="en", **options), out  # type: ignore[arg-type]


def loudness(path: Path) -> tuple[float, float]:
    audio = decode_audio(path)
    assert audio is not None
    _, meta = run_filters(audio, [("ebur128", "metadata=1:peak=true")])  # FFmpeg's meter
    return float(meta["lavfi.r128.I"]), 20 * float(np.log10(float(meta["lavfi.r128.true_peak"])))


def test_a_spliced_soundtrack_sounds_where_and_as_loud_as_a_mixed_one(
    shots: list[ShotInput], tmp_path: Path
) -> None:
    spliced, fast = cut(shots, tmp_path / "spliced")
    mixed, slow = cut([dataclasses.replace(s, prepared=None) for s in shots], tmp_path / "mixed")
    assert spliced.soundtrack.samples is None  # spliced: never decoded, mixed nor encoded here
    assert mixed.soundtrack.samples is not None
    kinds = streams(fast)
    assert kinds["audio"][0] == "aac" and abs(kinds["audio"][1] - kinds["video"][1]) <= 0.05
    audio = decode_audio(fast)
    assert audio is not None and abs(audio.shape[1] / RATE - kinds["video"][1]) <= 0.05
    for index, (start, end) in enumerate(spliced.video.bounds):
        placed = spliced.soundtrack.narration[index]
        if not shots[index].narration:
            assert placed is None and rms_db(segment(audio, start, end)) < QUIET_DB
            continue
        assert placed is not None
        # on the first AAC frame at or after LEAD_S, at most a frame later than mixing puts it
        assert start + LEAD_S <= placed.start <= start + LEAD_S + SLACK_S
        assert round(placed.start * RATE) % 1024 == 0
        assert placed.end <= end - TAIL_S
        assert rms_db(segment(audio, placed.start, placed.end)) > NARRATED_DB
        assert rms_db(segment(audio, placed.end + 0.05, end)) < QUIET_DB
        assert rms_db(segment(audio, start, placed.start - 0.01)) < QUIET_DB
    for path in (fast, slow):
        integrated, peak = loudness(path)
        assert abs(integrated - -14.0) <= 0.5, (path, integrated)
        assert peak <= -1.0
    assert abs(spliced.soundtrack.loudness.integrated - loudness(fast)[0]) <= 0.5
    # captions follow the voice where it was placed
    texts = subtitle_texts(fast)
    assert len(texts) == len(spliced.cues) >= 3
    for cue in spliced.cues:
        placed = spliced.soundtrack.narration[cue.shot]
        assert placed is not None
        assert placed.start - 0.01 <= cue.start < cue.end <= placed.end + 0.01


def test_prepared_narrations_round_trip_and_refuse_other_files(tmp_path: Path) -> None:
    voice = speak("The lighthouse keeper climbed the stairs.", tmp_path / "v.wav")
    made = prepare(voice, 8.0, 0, tmp_path / "v.m4a")
    back = load(tmp_path / "v.m4a")
    assert back == made and made.samples > RATE and made.tempo == 1.0
    assert abs(made.loudness.integrated - -14.0) <= 0.2 and made.loudness.true_peak <= -1.0
    silent = tmp_path / "silent.wav"
    tone_wav(silent, 1.0, 440.0, amplitude=0.0)
    assert load_prepared(silent, tmp_path).samples == 0  # a silent voice: nothing to place
    with pytest.raises(ValueError, match="not a prepared narration"):
        load(voice)  # a WAV
    plain = tmp_path / "plain.m4a"
    clip_with_tone(plain, 1)  # an MP4 with AAC but no narration metadata
    with pytest.raises(ValueError, match="not a prepared narration"):
        load(plain)


def load_prepared(voice: Path, folder: Path) -> object:
    out = folder / f"{voice.stem}.m4a"
    prepare(voice, SECONDS, 0, out)
    return load(out)


def test_a_long_narration_is_sped_up_when_prepared_and_refused_beyond(tmp_path: Path) -> None:
    voice = tone_wav(tmp_path / "long.wav", room(SECONDS) * 1.15, 300.0)
    made = prepare(voice, SECONDS, 1, tmp_path / "long.m4a")
    assert 1.1 < made.tempo <= 1.25 and made.samples <= round(room(SECONDS) * RATE)
    too_long = tone_wav(tmp_path / "longer.wav", room(SECONDS) * 1.4, 300.0)
    with pytest.raises(NarrationTooLong, match="shot 2"):
        prepare(too_long, SECONDS, 1, tmp_path / "longer.m4a")


def test_a_clip_shorter_than_planned_is_mixed_instead(
    shots: list[ShotInput], tmp_path: Path
) -> None:
    """The narration was prepared for a 3 s shot; its clip came back 2.5 s long."""
    long_voice = tone_wav(tmp_path / "long.wav", room(SECONDS) * 0.98, 300.0)
    prepared = tmp_path / "long.m4a"
    prepare(long_voice, SECONDS, 0, prepared)
    short = clip(tmp_path / "short.mp4", 1, seconds=2.5)
    first = ShotInput(short, "A long line.", long_voice, prepared)
    made, _ = cut([first, *shots[1:]], tmp_path / "short")
    assert made.soundtrack.samples is not None  # mixed
    placed = made.soundtrack.narration[0]
    assert placed is not None and placed.tempo > 1.0 and placed.end <= 2.5 - TAIL_S + 0.01


def test_clip_sound_or_music_under_the_voice_is_mixed(
    shots: list[ShotInput], tmp_path: Path
) -> None:
    with_tone = [dataclasses.replace(shots[2], clip=clip_with_tone(tmp_path / "t.mp4", 3))]
    made, _ = cut([*shots[:2], *with_tone, shots[3]], tmp_path / "veo")
    assert made.soundtrack.samples is not None and made.soundtrack.clips_with_audio == 1
    music = tone_wav(tmp_path / "music.wav", 2.0, 220.0)
    made, _ = cut(shots, tmp_path / "music", music=music)
    assert made.soundtrack.samples is not None and made.soundtrack.music


def test_an_unreadable_prepared_file_is_mixed_from_the_voice(
    shots: list[ShotInput], tmp_path: Path
) -> None:
    broken = tmp_path / "broken.m4a"
    broken.write_bytes(b"\x00\x00\x00\x18ftypM4A not really")
    made, out = cut([dataclasses.replace(shots[0], prepared=broken), *shots[1:]], tmp_path / "b")
    assert made.soundtrack.samples is not None
    assert abs(loudness(out)[0] - -14.0) <= 0.5
