"""The final cut's soundtrack and captions, checked by decoding the MP4 it writes (PyAV)."""

from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path

import av
import numpy as np
import pytest

from shared.media.audio import RATE, decode_audio, measure, run_filters
from shared.media.burn import SAFE_BOTTOM, SAFE_RIGHT, burn, draw, render, safe_area
from shared.media.captions import line_chars, split_narration, to_srt, to_vtt, width
from shared.media.clips import ClipSpec, render_clip
from shared.media.final_cut import FinalCut, ShotInput, final_cut
from shared.media.mux import mux
from shared.media.soundtrack import (
    DUCK_DB,
    LEAD_S,
    MAX_TEMPO,
    TAIL_S,
    NarrationTooLong,
    ShotAudio,
    mix,
)
from tests.peers import missing_peer

SECONDS = 3.0
NARRATED_DB = -35.0  # a shot's narration: RMS over its range at least this
QUIET_DB = -60.0  # a shot without sound: RMS at most this


def require_espeak() -> str:
    exe = shutil.which("espeak-ng")
    if exe is None:
        reason = "espeak-ng is missing (install.sh installs it: apt-get install espeak-ng)"
        missing_peer(reason)
    return exe


def speak(text: str, out: Path) -> Path:
    subprocess.run(
        [require_espeak(), "-v", "en-us", "-s", "165", "-w", str(out), "--stdin"],
        input=text.encode(),
        check=True,
        capture_output=True,
    )
    return out


def tone_wav(out: Path, seconds: float, hz: float, amplitude: float = 0.3) -> Path:
    """A mono 24 kHz WAV of a sine (a stand-in voice or music with a known spectrum)."""
    rate = 24_000
    t = np.arange(round(seconds * rate)) / rate
    pcm = (amplitude * np.sin(2 * np.pi * hz * t) * 32767).astype("<i2")
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return out


def clip(out: Path, number: int, seconds: float = SECONDS) -> Path:
    spec = ClipSpec(
        width=90,
        height=160,
        fps=12,
        seconds=seconds,
        shot_number=number,
        shot_total=4,
        title="The fox",
        camera="slow pan left",
        prompt="a fox on a hill",
        narration="",
        seed=number,
    )
    render_clip(spec, out)
    return out


def clip_with_tone(out: Path, number: int, hz: float = 440.0) -> Path:
    """A clip as Veo returns it with audio: the picture plus a steady tone (AAC)."""
    silent = clip(out.with_suffix(".silent.mp4"), number)
    t = np.arange(round(SECONDS * RATE)) / RATE
    tone = (0.2 * np.sin(2 * np.pi * hz * t)).astype(np.float32)[None, :]
    mux(silent, out, audio=tone)
    return out


def rms_db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(x, dtype=np.float64)) + 1e-20))


def segment(audio: np.ndarray, start: float, end: float) -> np.ndarray:
    return audio[:, round(start * RATE) : round(end * RATE)]


def tone_db(audio: np.ndarray, start: float, end: float, hz: float) -> float:
    """Level of ``hz`` in [start, end) from a Hann-windowed FFT (dB, relative)."""
    x = segment(audio, start, end).mean(axis=0)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    freqs = np.fft.rfftfreq(x.size, 1 / RATE)
    near = (freqs > hz - 5) & (freqs < hz + 5)
    return float(20 * np.log10(spectrum[near].max() / x.size + 1e-20))


def streams(path: Path) -> dict[str, tuple[str, float]]:
    """Each stream type's codec and duration (seconds)."""
    with av.open(str(path)) as box:
        return {
            s.type: (
                s.codec_context.name if s.codec_context else "",
                float(s.duration * s.time_base) if s.duration and s.time_base else 0.0,
            )
            for s in box.streams
        }


def packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as box:
        return [bytes(p) for p in box.demux(box.streams.video[0]) if p.size]


def subtitle_texts(path: Path) -> list[tuple[float, float, str]]:
    """The mov_text samples that carry text: (start, end, text)."""
    found = []
    with av.open(str(path)) as box:
        stream = box.streams.subtitles[0]
        assert stream.time_base is not None
        for p in box.demux(stream):
            body = bytes(p)
            if len(body) > 2 and p.pts is not None:
                start = float(p.pts * stream.time_base)
                found.append(
                    (start, start + float(p.duration * stream.time_base), body[2:].decode())
                )
    return found


@pytest.fixture
def narrated(tmp_path: Path) -> list[ShotInput]:
    """Four shots; the third has no narration."""
    lines = ["A small fox sat on the hill.", "The moon rose over the sea.", "", "She went home."]
    shots = []
    for i, line in enumerate(lines):
        voice = speak(line, tmp_path / f"voice{i}.wav") if line else None
        shots.append(ShotInput(clip(tmp_path / f"clip{i}.mp4", i + 1), line, voice))
    return shots


def cut_of(shots: list[ShotInput], folder: Path, captions: str = "soft") -> tuple[FinalCut, Path]:
    folder.mkdir(exist_ok=True)
    out = folder / "final.mp4"
    cut = final_cut(shots, out, folder, language="en", captions=captions)  # type: ignore[arg-type]
    return cut, out


# --- the soundtrack -----------------------------------------------------------------------


def test_every_narration_sounds_inside_its_own_shot(
    narrated: list[ShotInput], tmp_path: Path
) -> None:
    cut, out = cut_of(narrated, tmp_path / "soft")
    kinds = streams(out)
    assert kinds["audio"][0] == "aac" and kinds["video"][0] == "h264"
    assert abs(kinds["audio"][1] - kinds["video"][1]) <= 0.05
    audio = decode_audio(out)
    assert audio is not None and audio.shape[0] == 2
    assert abs(audio.shape[1] / RATE - kinds["video"][1]) <= 0.05
    assert cut.video.bounds == ((0.0, 3.0), (3.0, 6.0), (6.0, 9.0), (9.0, 12.0))
    for index, (start, end) in enumerate(cut.video.bounds):
        level = rms_db(segment(audio, start, end))
        if narrated[index].narration:
            assert level > NARRATED_DB, (index, level)
            placed = cut.soundtrack.narration[index]
            assert placed is not None
            assert start + LEAD_S - 0.01 <= placed.start < placed.end <= end - TAIL_S + 0.01
            spoken = rms_db(segment(audio, placed.start, placed.end))
            after = rms_db(segment(audio, placed.end + 0.1, end))
            assert spoken > after + 20  # the speech is where it was placed, not after
        else:
            assert level < QUIET_DB, (index, level)
            assert cut.soundtrack.narration[index] is None


def test_the_soundtrack_is_at_minus_14_lufs_and_under_minus_1_dbtp(
    narrated: list[ShotInput], tmp_path: Path
) -> None:
    _, out = cut_of(narrated, tmp_path / "soft")
    audio = decode_audio(out)
    assert audio is not None
    _, meta = run_filters(audio, [("ebur128", "metadata=1:peak=true")])  # FFmpeg's meter
    assert abs(float(meta["lavfi.r128.I"]) - -14.0) <= 1.0
    assert 20 * np.log10(float(meta["lavfi.r128.true_peak"])) <= -1.0


def test_the_video_is_still_stream_copied(narrated: list[ShotInput], tmp_path: Path) -> None:
    cut, out = cut_of(narrated, tmp_path / "soft")
    assert cut.video.method == "copy"
    assert packets(out) == [p for shot in narrated for p in packets(shot.clip)]


def test_the_same_shots_give_the_same_bytes(narrated: list[ShotInput], tmp_path: Path) -> None:
    """A redelivered or resumed stitch writes the very same file (AAC and mov_text included)."""
    _, first = cut_of(narrated, tmp_path / "one")
    _, second = cut_of(narrated, tmp_path / "two")
    assert first.read_bytes() == second.read_bytes()


def test_shots_without_narration_keep_silence(tmp_path: Path) -> None:
    shots = [ShotInput(clip(tmp_path / f"c{i}.mp4", i + 1)) for i in range(2)]
    cut, out = cut_of(shots, tmp_path / "quiet")
    audio = decode_audio(out)
    assert audio is not None and abs(audio.shape[1] / RATE - 6.0) <= 0.05
    assert rms_db(audio) < QUIET_DB
    assert cut.cues == () and cut.soundtrack.loudness.integrated == -70.0


def test_a_clips_own_sound_survives_ducked_under_the_narration(tmp_path: Path) -> None:
    """Veo with audio: a 440 Hz tone in both clips; narration (a 1.5 kHz stand-in voice, so
    that it adds nothing at 440 Hz) over the first shot only."""
    voice = tone_wav(tmp_path / "voice.wav", 2.0, 1500.0)
    shots = [
        ShotInput(clip_with_tone(tmp_path / "a.mp4", 1), "A fox ran.", voice),
        ShotInput(clip_with_tone(tmp_path / "b.mp4", 2)),
    ]
    cut, out = cut_of(shots, tmp_path / "veo")
    assert cut.soundtrack.clips_with_audio == 2
    assert cut.video.method == "copy"
    audio = decode_audio(out)
    assert audio is not None
    placed = cut.soundtrack.narration[0]
    assert placed is not None
    under = tone_db(audio, placed.start + 0.3, placed.end - 0.1, 440.0)
    clear = tone_db(audio, 3.5, 5.5, 440.0)
    assert abs((clear - under) - -DUCK_DB) <= 1.5  # ducked by 12 dB while the voice speaks
    # Outside narration the tone is the loudest thing in the spectrum.
    assert clear > tone_db(audio, 3.5, 5.5, 1500.0) + 30
    assert under < tone_db(audio, placed.start + 0.3, placed.end - 0.1, 1500.0)


def test_music_is_looped_under_the_whole_cut_and_ducked(tmp_path: Path) -> None:
    music = tone_wav(tmp_path / "music.wav", 1.3, 220.0)  # shorter than the cut: looped
    voice = tone_wav(tmp_path / "voice.wav", 1.5, 1500.0)
    shots = [
        ShotInput(clip(tmp_path / "a.mp4", 1), "Hello.", voice),
        ShotInput(clip(tmp_path / "b.mp4", 2)),
    ]
    soundtrack = mix(
        [ShotAudio(0.0, 3.0, voice=voice, clip=shots[0].clip), ShotAudio(3.0, 6.0)],
        6.0,
        music=music,
    )
    assert soundtrack.music
    x = soundtrack.samples
    assert x.shape[1] == 6 * RATE
    placed = soundtrack.narration[0]
    assert placed is not None
    under = tone_db(x, placed.start + 0.3, placed.end - 0.1, 220.0)
    clear = tone_db(x, 2.5, 3.9, 220.0)
    assert abs((clear - under) - -DUCK_DB) <= 1.5
    assert tone_db(x, 2.5, 3.9, 220.0) > tone_db(x, 2.5, 3.9, 1500.0) + 30  # music, no voice


def test_a_long_narration_is_sped_up_to_fit(tmp_path: Path) -> None:
    room = SECONDS - LEAD_S - TAIL_S
    voice = tone_wav(tmp_path / "long.wav", room * 1.15, 1000.0)
    soundtrack = mix([ShotAudio(0.0, SECONDS, voice=voice)], SECONDS)
    placed = soundtrack.narration[0]
    assert placed is not None
    assert 1.13 <= placed.tempo <= 1.17
    assert placed.end <= SECONDS - TAIL_S + 1e-3


def test_a_narration_that_cannot_fit_fails_naming_its_shot(tmp_path: Path) -> None:
    room = SECONDS - LEAD_S - TAIL_S
    fits = tone_wav(tmp_path / "fits.wav", 1.0, 1000.0)
    long = tone_wav(tmp_path / "long.wav", room * MAX_TEMPO * 1.05, 1000.0)
    with pytest.raises(NarrationTooLong) as caught:
        mix(
            [ShotAudio(0.0, SECONDS, voice=fits), ShotAudio(SECONDS, 2 * SECONDS, voice=long)],
            2 * SECONDS,
        )
    assert caught.value.shot == 1 and "shot 2" in str(caught.value)


def test_loudness_meter_agrees_with_a_known_signal() -> None:
    """ITU-R BS.1770: a 0 dBFS 1 kHz sine in one channel reads -3.01 LKFS, so a sine of
    amplitude 0.1 (-20 dBFS) in both channels reads -20.0."""
    t = np.arange(10 * RATE) / RATE
    x = (0.1 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    both = measure(np.stack([x, x]))
    assert abs(both.integrated - -20.0) <= 0.2
    assert abs(measure(x[None, :]).integrated - both.integrated) <= 0.05  # mono = dual mono


def test_measuring_only_around_the_sound_changes_nothing() -> None:
    """``measure`` skips what lies more than 400 ms from any sound; FFmpeg's meter on the
    whole signal agrees to the hundredth."""
    rng = np.random.default_rng(7)
    x = np.zeros((1, 30 * RATE), np.float32)
    for start, seconds, level in ((0.3, 2.0, 0.2), (9.95, 1.3, 0.05), (21.0, 3.0, 0.1)):
        n = round(seconds * RATE)
        at = round(start * RATE)
        x[0, at : at + n] = level * rng.standard_normal(n).astype(np.float32)
    _, meta = run_filters(x, [("ebur128", "metadata=1:peak=true:dualmono=true")])
    ours = measure(x)
    assert abs(ours.integrated - float(meta["lavfi.r128.I"])) <= 0.01
    assert abs(ours.true_peak - 20 * np.log10(float(meta["lavfi.r128.true_peak"]))) <= 0.01


# --- captions -------------------------------------------------------------------------------


def test_one_cue_per_narrated_shot_inside_its_shot(
    narrated: list[ShotInput], tmp_path: Path
) -> None:
    cut, out = cut_of(narrated, tmp_path / "soft")
    spoken = [i for i, s in enumerate(narrated) if s.narration]
    assert [c.shot for c in cut.cues] == spoken
    for cue in cut.cues:
        start, end = cut.video.bounds[cue.shot]
        assert start <= cue.start < cue.end <= end
        assert cue.text.replace("\n", " ") == narrated[cue.shot].narration
    track = subtitle_texts(out)
    assert [text for _, _, text in track] == [c.text for c in cut.cues]
    for (start, end, _), cue in zip(track, cut.cues, strict=True):
        assert abs(start - cue.start) <= 0.002 and abs(end - cue.end) <= 0.002
    srt, vtt = to_srt(cut.cues), to_vtt(cut.cues)
    assert srt.count(" --> ") == len(spoken) and "00:00:00,150 --> " in srt
    assert vtt.startswith("WEBVTT\n\n") and vtt.count(" --> ") == len(spoken)


def test_captions_off_or_burned_write_no_subtitle_track(
    narrated: list[ShotInput], tmp_path: Path
) -> None:
    _, off = cut_of(narrated, tmp_path / "off", "off")
    cut, burned = cut_of(narrated, tmp_path / "burned", "burned")
    assert "subtitle" not in streams(off) and "subtitle" not in streams(burned)
    assert "audio" in streams(burned)
    assert len(cut.cues) == 3  # the files are written whatever the option


def test_a_burned_frame_differs_only_inside_the_caption_box(
    narrated: list[ShotInput], tmp_path: Path
) -> None:
    """Against the same video re-encoded the same way without captions (burning re-encodes;
    the caption-less copy must too, or every pixel would differ by the second encoding)."""
    cut, burned = cut_of(narrated, tmp_path / "burned", "burned")
    plain = tmp_path / "plain.mp4"
    burn(tmp_path / "burned" / "video.mp4", [], plain)  # the stitched video, no cue drawn
    cue = cut.cues[1]
    box = render(cue.text, 90, 160).box
    at = round((cue.start + cue.end) / 2 * 12)  # a frame in the middle of the cue (12 fps)
    with av.open(str(burned)) as a, av.open(str(plain)) as b:
        x = [f.to_ndarray(format="rgb24") for f in a.decode(video=0)][at].astype(int)
        y = [f.to_ndarray(format="rgb24") for f in b.decode(video=0)][at].astype(int)
    diff = np.abs(x - y).max(axis=2)
    inside = np.zeros(diff.shape, bool)
    inside[box.top : box.bottom, box.left : box.right] = True
    near = np.zeros(diff.shape, bool)  # the box and the 16 px the encoder may smear into
    near[max(0, box.top - 16) : box.bottom + 16, max(0, box.left - 16) : box.right + 16] = True
    # Outside: the H.264 encoder's noise only (it spends its bits a little differently when
    # the frame holds a caption; seen: mean 2.7, 99th percentile 11). Inside: the caption.
    assert diff[~near].mean() < 4 and np.percentile(diff[~near], 99) < 16
    assert diff[inside].mean() > 10 * diff[~near].mean()


def test_a_burned_caption_is_drawn_in_the_face_of_the_storys_language() -> None:
    """Noto CJK draws 直 and 骨 differently for Chinese and Japanese: a Chinese story's
    caption is drawn in the Simplified Chinese face, not the collection's first (Japanese)."""
    from shared.media.fonts import load_font

    if "CJK" not in load_font(40, bold=True, language="zh").path:
        missing_peer("Noto Sans CJK is missing (install.sh installs fonts-noto-cjk)")
    chinese = render("直骨", 720, 1280, language="zh")
    japanese = render("直骨", 720, 1280, language="ja")
    assert chinese.box == japanese.box
    assert not np.array_equal(chinese.patch, japanese.patch)
    assert np.array_equal(render("直骨", 720, 1280).patch, japanese.patch)  # the default face


def test_a_drawn_caption_stays_in_its_box_inside_the_safe_area() -> None:
    rng = np.random.default_rng(3)
    frame = rng.integers(0, 255, (1920, 1080, 3), dtype=np.uint8)
    caption = render("Every evening he climbed\nthe hundred steps.", 1080, 1920)
    drawn = draw(frame, caption)
    changed = np.argwhere(np.any(drawn != frame, axis=2))
    b = caption.box
    assert changed[:, 0].min() >= b.top and changed[:, 0].max() < b.bottom
    assert changed[:, 1].min() >= b.left and changed[:, 1].max() < b.right
    area = safe_area(1080, 1920)
    assert b.bottom <= 1920 * (1 - SAFE_BOTTOM) and b.right <= 1080 * (1 - SAFE_RIGHT)
    assert b.left >= area.left and b.top >= area.top


@pytest.mark.parametrize(
    ("language", "text"),
    [
        (
            "en",
            "Pip was shivering, so Tobin wrapped her in a wool scarf and set a bowl of warm "
            "milk by the stove. You may stay until the storm passes, he said.",
        ),
        (
            "ko",
            "보름달이 뜬 밤, 서연이는 창가에 앉아 하늘을 올려다보았다. 동생 민호가 졸린 눈을 "
            "비비며 옆에 앉았다",
        ),
        ("ja", "今日は良い天気です。明日も晴れるでしょう。そして明後日は雨が降るかもしれません。"),
    ],
)
def test_long_narration_is_split_into_readable_cues(language: str, text: str) -> None:
    cues = split_narration(text, language)
    assert len(cues) > 1
    for cue in cues:
        lines = cue.split("\n")
        assert 1 <= len(lines) <= 2
        assert all(width(line, language) <= line_chars(language) for line in lines)
    glue = "" if language == "ja" else " "
    joined = glue.join(c.replace("\n", glue) for c in cues)
    assert joined.replace(" ", "") == text.replace(" ", "")


def test_caption_files_escape_and_stamp() -> None:
    from shared.media.captions import Cue

    cues = [Cue(0, 0.15, 2.5, "Tom & <Jerry>"), Cue(1, 3661.0, 3662.25, "a --> b")]
    srt, vtt = to_srt(cues), to_vtt(cues)
    assert "1\n00:00:00,150 --> 00:00:02,500\nTom & <Jerry>\n" in srt
    assert "01:01:01,000 --> 01:01:02,250\na → b" in srt
    assert "Tom &amp; &lt;Jerry&gt;" in vtt and "01:01:01.000 --> 01:01:02.250" in vtt
