"""No empty boxes: every character Tale draws has a glyph in the font it is drawn with.

Checked against the fonts' character maps (fontTools reads the cmap), not by looking: the
examples, every message of every catalogue, and a placeholder frame, a storyboard sheet, a
poster and a character card drawn with kanji, hanzi (simplified and traditional), kana and
Hangul — every run each of them drew is in a font whose cmap has all of its characters. A font
without CJK (DejaVu) as the main font still draws them, through the fallback.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from shared.i18n import LANGUAGES, catalogue
from shared.media import fonts
from shared.media.cards import render_character_card
from shared.media.clips import ClipSpec, _Scene
from shared.media.sheets import StoryboardEntry, poster, storyboard_sheet
from tests.conftest import EXAMPLES
from tests.peers import missing_peer

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
MIXED = "漢字かなカナ한글简体字繁體字「」。、！？“”《》·…"


def require(path: Path, package: str) -> None:
    if not path.is_file():
        reason = f"{path} is missing (apt-get install {package}; install.sh does)"
        missing_peer(reason)


@pytest.fixture(autouse=True)
def cjk_font() -> Iterator[None]:
    require(Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"), "fonts-noto-cjk")
    fonts.clear_font_cache()
    yield
    fonts.clear_font_cache()


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[tuple[ImageFont.FreeTypeFont, str]]:
    """Every (font, run) that ``draw_text`` draws while the test runs."""
    seen: list[tuple[ImageFont.FreeTypeFont, str]] = []
    original = fonts.runs

    def spy(
        text: str, font: ImageFont.FreeTypeFont, *, language: str | None = None
    ) -> list[tuple[ImageFont.FreeTypeFont, str]]:
        out = original(text, font, language=language)
        if any(font is not f for f, _ in out) or text:
            seen.extend(out)
        return out

    monkeypatch.setattr(fonts, "runs", spy)
    return seen


def uncovered(pairs: list[tuple[ImageFont.FreeTypeFont, str]]) -> set[str]:
    """Characters drawn with a font whose cmap lacks them (what would be a .notdef box)."""
    bad = set()
    for font, run in pairs:
        cmap = fonts.coverage(Path(str(font.path)), font.index)
        bad |= {ch for ch in run if fonts.needs_glyph(ch) and ord(ch) not in cmap}
    return bad


def all_texts() -> list[str]:
    stories = [p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.glob("*.txt"))]
    messages = [text for lang in LANGUAGES for text in catalogue(lang).values()]
    return [*stories, *messages, MIXED]


@pytest.mark.parametrize("bold", [False, True])
def test_every_example_and_message_has_a_glyph(bold: bool) -> None:
    font = fonts.load_font(20, bold=bold)
    assert fonts.missing_glyphs(all_texts(), font) == ""


def test_a_font_without_cjk_falls_back_per_character() -> None:
    require(DEJAVU, "fonts-dejavu-core")
    latin = ImageFont.truetype(str(DEJAVU), 24)
    pieces = fonts.runs("Hi 漢字かな한글", latin)
    assert pieces[0][0] is latin and pieces[0][1] == "Hi "
    assert all(f is not latin for f, run in pieces[1:] if run.strip())
    assert uncovered(pieces) == set()
    assert fonts.missing_glyphs(all_texts(), latin) == ""


def test_the_fallback_draws_glyphs_not_boxes() -> None:
    """DejaVu alone draws one and the same box for any CJK character; with the fallback each
    character gets its own shape."""
    require(DEJAVU, "fonts-dejavu-core")
    latin = ImageFont.truetype(str(DEJAVU), 32)

    def ink(ch: str, fallback: bool) -> bytes:
        img = Image.new("L", (48, 48))
        d = ImageDraw.Draw(img)
        if fallback:
            fonts.draw_text(d, (4, 4), ch, latin, fill=255)
        else:
            d.text((4, 4), ch, font=latin, fill=255)
        return img.tobytes()

    box = ink("\ue000", fallback=False)  # a private-use character: the .notdef box
    assert ink("漢", fallback=False) == box  # what happened before the fallback
    shapes = {ink(ch, fallback=True) for ch in "漢字かな한글简體"}
    assert box not in shapes and len(shapes) == 8


def test_a_frame_a_sheet_a_poster_and_a_card_draw_every_character(
    drawn: list[tuple[ImageFont.FreeTypeFont, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    require(DEJAVU, "fonts-dejavu-core")
    monkeypatch.setenv(fonts.ENV_VAR, "")
    for language, preferred in (("ja", None), ("zh", None), ("ko", None), ("en", DEJAVU)):
        fonts.clear_font_cache()
        drawn.clear()
        # DejaVu has no Hangul, so it is never the main font: find_font skips it
        spec = ClipSpec(
            width=90,
            height=160,
            fps=8,
            seconds=0.25,
            shot_number=1,
            shot_total=2,
            title=f"題名 {MIXED}",
            camera="slow pan left",
            prompt=f"A fox. Action: {MIXED}",
            narration=MIXED * 2,
            characters=(("ハナ", None), ("小兰", None), ("서연", None)),
            font=preferred,
            language=language,
        )
        frame = _Scene(spec, 2).frame(0)
        assert frame.shape == (160, 90, 3)
        still = Image.fromarray(np.asarray(frame))
        storyboard_sheet(MIXED, [StoryboardEntry(1, still, MIXED, MIXED, "0:00–0:04")])
        poster(still, MIXED, MIXED)
        render_character_card("小蘭", "a child", "storybook", seed=1, size=(128, 160))
        text = "".join(run for _, run in drawn)
        assert set(MIXED) - {" "} <= set(text), language
        assert uncovered(drawn) == set(), language


def test_cjk_faces_follow_the_script() -> None:
    path = fonts.find_font()
    if "CJK" not in path.name:
        pytest.skip(f"the main font is {path.name}, not a Noto CJK collection")
    assert fonts.load_font(20, language="ja").index == 0
    assert fonts.load_font(20, language="ko").index == 1
    assert fonts.load_font(20, language="zh").index == 2
    assert fonts.load_font(20, language="zh-Hant").index == 3
    assert fonts.text_language("從前，有一個小女孩叫小蘭。") == "zh-Hant"
    assert fonts.text_language("从前，有一个小女孩叫小兰。") == "zh"
    assert fonts.text_language("ハナは走った。") == "ja"


def test_japanese_and_chinese_lines_do_not_start_with_closing_punctuation() -> None:
    font = fonts.load_font(16, language="zh")
    text = "元宵节的晚上，小兰提着一盏红灯笼，站在家门口等爷爷回来。“爷爷怎么还不回来呢？”"
    for width in range(60, 200, 7):
        lines = fonts.wrap_text(text, font, width)
        assert "".join(lines) == text
        assert not any(line[0] in "，。！？”、" for line in lines[1:]), (width, lines)
