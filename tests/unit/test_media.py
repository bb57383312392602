"""Real-media tests: everything written is decoded back with PyAV and checked."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from shared.media import fonts
from shared.media.cards import render_character_card
from shared.media.clips import ClipSpec, camera_motion, render_clip
from shared.media.encode import write_h264
from shared.media.probe import frame_at, probe
from shared.media.sheets import StoryboardEntry, poster, storyboard_sheet
from shared.media.stitch import stitch
from tests.peers import missing_peer

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def decode(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as box:
        return [f.to_ndarray(format="rgb24") for f in box.decode(video=0)]


def spec(**kw: object) -> ClipSpec:
    base = ClipSpec(
        width=90,
        height=160,
        fps=24,
        seconds=1.0,
        shot_number=3,
        shot_total=8,
        title="달빛 아래의 여우",
        camera="slow pan left",
        prompt="A small red fox on a snowy hill under a huge moon, cinematic, 35mm film grain",
        narration="깊은 겨울 밤, 작은 여우는 언덕 위에 앉아 달을 올려다보았습니다.",
        seed=1,
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def require_dejavu() -> None:
    """A font without Hangul for these tests (install.sh installs fonts-dejavu-core)."""
    if not DEJAVU.is_file():
        reason = f"{DEJAVU} is missing (apt-get install fonts-dejavu-core)"
        missing_peer(reason)


@pytest.fixture
def clean_fonts() -> Iterator[None]:
    fonts.clear_font_cache()
    yield
    fonts.clear_font_cache()


# --- fonts -----------------------------------------------------------------------------


def test_find_font_draws_hangul(clean_fonts: None) -> None:
    path = fonts.find_font()
    assert fonts.hangul_problem(path) is None
    assert fonts.load_font(20).size == 20
    assert fonts.load_font(20, bold=True).size == 20


def test_tale_font_without_hangul_and_no_other_candidate_raises(
    clean_fonts: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    require_dejavu()
    no_hangul = DEJAVU
    monkeypatch.setattr(fonts, "KNOWN_FONTS", ())
    monkeypatch.setattr(fonts, "KNOWN_BOLD_FONTS", ())
    monkeypatch.setattr(fonts, "fc_match_font", lambda bold=False: None)
    monkeypatch.setenv("TALE_FONT", str(no_hangul))
    with pytest.raises(fonts.FontMissing) as err:
        fonts.find_font()
    msg = str(err.value)
    assert "no font with Hangul found" in msg
    assert "fonts-nanum" in msg and "fonts-noto-cjk" in msg and "TALE_FONT=" in msg
    assert f"TALE_FONT {no_hangul} has no Hangul glyphs" in msg

    junk = tmp_path / "junk.ttf"
    junk.write_bytes(b"not a font")
    fonts.clear_font_cache()
    with pytest.raises(fonts.FontMissing, match=r"preferred font .*junk\.ttf cannot be loaded"):
        fonts.find_font(junk)


def test_tale_font_without_hangul_falls_back(
    clean_fonts: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_dejavu()
    monkeypatch.setenv("TALE_FONT", str(DEJAVU))
    assert fonts.find_font() != DEJAVU


def test_wrap_text_by_words_and_characters(clean_fonts: None) -> None:
    font = fonts.load_font(16)
    text = "깊은 겨울 밤 작은 여우는 " + "가나다라마바사아자차카타파하" * 3 + " end"
    lines = fonts.wrap_text(text, font, 120)
    assert len(lines) > 3
    assert all(font.getlength(line) <= 120 for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    cut = fonts.fit_text(text, font, 120, 2)
    assert len(cut) == 2 and cut[-1].endswith("…") and font.getlength(cut[-1]) <= 120


# --- encode ----------------------------------------------------------------------------


def test_write_h264_real_deterministic_single_thread(tmp_path: Path) -> None:
    frames = [np.full((64, 48, 3), i * 8, np.uint8) for i in range(20)]
    a, b = tmp_path / "a.mp4", tmp_path / "b.mp4"
    write_h264(frames, a, fps=10, width=48, height=64)
    write_h264(frames, b, fps=10, width=48, height=64)
    assert a.read_bytes() == b.read_bytes()
    assert b"threads=1 " in a.read_bytes()  # x264's settings SEI
    info = probe(a)
    assert (info.codec, info.width, info.height, info.pix_fmt) == ("h264", 48, 64, "yuv420p")
    assert info.frames == 20 and abs(info.duration - 2.0) <= 0.1
    assert len(decode(a)) == 20
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.mp4", "b.mp4"]


def test_write_h264_rejects_odd_size_and_leaves_no_partial_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="even"):
        write_h264([], tmp_path / "x.mp4", fps=24, width=91, height=160)

    def broken() -> Iterator[np.ndarray]:
        yield np.zeros((16, 16, 3), np.uint8)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        write_h264(broken(), tmp_path / "y.mp4", fps=24, width=16, height=16)
    assert list(tmp_path.iterdir()) == []


# --- clips -----------------------------------------------------------------------------


def test_render_clip_real_deterministic_and_moving(tmp_path: Path) -> None:
    s = spec(seconds=1.5, fps=24)
    a, b = tmp_path / "a.mp4", tmp_path / "b.mp4"
    render_clip(s, a)
    render_clip(s, b)
    assert a.read_bytes() == b.read_bytes()
    info = probe(a)
    assert (info.codec, info.width, info.height) == ("h264", 90, 160)
    assert info.frames == 36 and abs(info.duration - 1.5) <= 1 / 24
    frames = decode(a)
    assert len(frames) == 36
    first, last = frames[0].astype(int), frames[-1].astype(int)
    assert np.abs(first - last).mean() > 2  # the camera moved


def test_render_clip_reflects_the_spec(tmp_path: Path) -> None:
    paths = {}
    variants = {
        "base": spec(),
        "shot": spec(shot_number=4, seed=9, camera="static"),
        "ga": spec(narration="가가가가 가가가가"),
        "han": spec(narration="한한한한 한한한한"),
    }
    for name, s in variants.items():
        paths[name] = tmp_path / f"{name}.mp4"
        render_clip(replace(s, seconds=0.25), paths[name])
    first = {name: decode(p)[0].astype(int) for name, p in paths.items()}
    assert np.abs(first["base"] - first["shot"]).mean() > 5
    # Hangul renders as glyphs: two different syllables give different pixels (boxes would not).
    assert np.abs(first["ga"] - first["han"]).max() > 60


def test_render_clip_with_character_references(tmp_path: Path) -> None:
    ref = tmp_path / "fox.png"
    ref.write_bytes(render_character_card("여우", "a fox", "storybook", seed=4, size=(64, 80)))
    with_refs = spec(characters=(("여우", ref), ("달", None)), seconds=0.25)
    render_clip(with_refs, tmp_path / "c.mp4")
    render_clip(replace(with_refs, characters=()), tmp_path / "d.mp4")
    assert not np.array_equal(decode(tmp_path / "c.mp4")[0], decode(tmp_path / "d.mp4")[0])


def test_camera_motion_parsing() -> None:
    assert camera_motion("slow pan left").dx < 0
    assert camera_motion("tilt up").dy < 0
    assert camera_motion("dolly in").zoom > 1
    assert camera_motion("zoom out").zoom < 1
    assert camera_motion("locked-off static").dy != 0  # static shots still drift


# --- probe / stitch ---------------------------------------------------------------------


def test_stitch_copy_concatenates_exactly(tmp_path: Path) -> None:
    clips = []
    for i, seconds in enumerate((1.0, 0.5, 0.75)):
        p = tmp_path / f"clip{i}.mp4"
        render_clip(spec(shot_number=i + 1, seconds=seconds, seed=i), p)
        clips.append(p)
    infos = [probe(p) for p in clips]
    assert all(infos[0].copy_compatible(i) for i in infos)
    out = tmp_path / "out" / "tale.mp4"
    report = stitch(clips, out)
    assert report.method == "copy" and report.clips == 3
    assert report.frames == sum(i.frames for i in infos) == 54
    assert abs(report.duration - 2.25) <= 1 / 24
    assert (report.width, report.height) == (90, 160)
    whole = decode(out)
    parts = [decode(p) for p in clips]
    assert len(whole) == 54
    at = 0
    for part in parts:  # stream copy: decoded pixels are identical, boundaries included
        assert np.array_equal(whole[at], part[0]) and np.array_equal(
            whole[at - 1 + len(part)], part[-1]
        )
        at += len(part)
    assert all(
        np.array_equal(x, y)
        for x, y in zip(whole, [f for part in parts for f in part], strict=True)
    )
    assert probe(out).copy_compatible(infos[0])
    assert frame_at(out, 1.0).size == (90, 160)
    assert np.array_equal(np.asarray(frame_at(out, 1.0)), parts[1][0])


def test_stitch_reencodes_mismatched_clips(tmp_path: Path) -> None:
    a, b = tmp_path / "a.mp4", tmp_path / "b.mp4"
    render_clip(spec(seconds=1.0), a)
    render_clip(spec(width=160, height=90, fps=12, seconds=1.0), b)
    report = stitch([a, b], tmp_path / "out.mp4")
    assert report.method == "reencode"
    assert (report.width, report.height) == (90, 160)
    assert report.frames == 48 and abs(report.duration - 2.0) <= 1 / 24
    info = probe(tmp_path / "out.mp4")
    assert (info.codec, info.fps, info.frames) == ("h264", Fraction(24), 48)
    assert len(decode(tmp_path / "out.mp4")) == 48


def test_stitch_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        stitch([], tmp_path / "out.mp4")
    with pytest.raises(FileNotFoundError):
        stitch([tmp_path / "missing.mp4"], tmp_path / "out.mp4")
    assert not (tmp_path / "out.mp4").exists()


# --- stills ----------------------------------------------------------------------------


def test_card_sheet_poster_are_pngs(tmp_path: Path) -> None:
    card = render_character_card("여우 (Fox)", "작은 붉은 여우. curious", "watercolor", seed=3)
    assert card == render_character_card(
        "여우 (Fox)", "작은 붉은 여우. curious", "watercolor", seed=3
    )
    assert card != render_character_card(
        "여우 (Fox)", "작은 붉은 여우. curious", "watercolor", seed=4
    )
    with Image.open(io.BytesIO(card)) as im:
        assert (im.format, im.size) == ("PNG", (512, 640))

    clip = tmp_path / "c.mp4"
    render_clip(spec(width=180, height=320, seconds=0.5), clip)
    frame = frame_at(clip, 0.2)
    entries = [StoryboardEntry(n, frame, "prompt " * 40, "내레이션 " * 30) for n in range(1, 6)]
    sheet = storyboard_sheet("달빛 아래의 여우", entries, columns=4)
    with Image.open(io.BytesIO(sheet)) as im:
        assert im.format == "PNG" and im.width >= 4 * 240 and im.height > 2 * 240
    with Image.open(io.BytesIO(poster(frame, "달빛 아래의 여우", "8 shots"))) as im:
        assert (im.format, im.size) == ("PNG", (180, 320))


def test_colour_conversion_ignores_buffer_alignment_and_keeps_colours(tmp_path: Path) -> None:
    from shared.media.encode import rgb_to_yuv420p

    rng = np.random.default_rng(7)
    frame = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    backing = np.zeros(16 * 16 * 3 + 1, np.uint8)
    shifted = backing[1:].reshape(16, 16, 3)  # a misaligned buffer with the same pixels
    shifted[...] = frame
    assert rgb_to_yuv420p(frame).tobytes() == rgb_to_yuv420p(shifted).tobytes()
    solid = np.full((32, 32, 3), (200, 40, 90), np.uint8)
    write_h264([solid] * 3, tmp_path / "c.mp4", fps=8, width=32, height=32)
    with av.open(str(tmp_path / "c.mp4")) as box:
        back = next(box.decode(video=0)).to_ndarray(format="rgb24")
    assert np.abs(back.astype(int).mean(axis=(0, 1)) - (200, 40, 90)).max() < 6
