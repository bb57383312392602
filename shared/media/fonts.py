"""Finding fonts that really draw the story's text, drawing with fallbacks, wrapping text.

Korean, Japanese and Chinese text must never come out as .notdef boxes. The main font must
draw Hangul (checked by rendering two different syllables: a font without Hangul draws the
same box, or nothing, for both). Lookup order: the ``preferred`` argument, ``$TALE_FONT``,
the known Debian paths below (Noto Sans CJK first: one font for Hangul, kana and Han in
simplified and traditional forms), then ``fc-match :lang=ko``.

Before a text is drawn, every character is checked against the font's character map
(fontTools reads the ``cmap``): a run the font has no glyph for is drawn with a fallback font
that has one (``draw_text``, ``text_length``, ``runs``) — the known fonts, the fonts beside
``$TALE_FONT`` (the function archive ships them together), then ``fc-match :charset=``. A
Noto CJK collection is opened on the face of the text's language (``language=``), so a kanji
takes its Japanese form, a hanzi its simplified or traditional one, and Hanja the Korean one.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

log = logging.getLogger(__name__)

ENV_VAR = "TALE_FONT"

_NANUM = Path("/usr/share/fonts/truetype/nanum")
_NOTO_DIRS = (
    Path("/usr/share/fonts/opentype/noto"),
    Path("/usr/share/fonts/truetype/noto"),
    Path("/usr/share/fonts/opentype/noto-cjk"),
    Path("/usr/share/fonts/noto-cjk"),
)

#: Regular-weight candidates, in order of preference. Tests may monkeypatch this. Noto Sans
#: CJK comes first: it draws Hangul, kana and Han (simplified and traditional) alike.
KNOWN_FONTS: tuple[Path, ...] = (
    *(d / "NotoSansCJK-Regular.ttc" for d in _NOTO_DIRS),
    _NANUM / "NanumGothic.ttf",
    _NANUM / "NanumBarunGothic.ttf",
    *(d / "NotoSansKR-Regular.otf" for d in _NOTO_DIRS),
)
#: Bold candidates, tried before KNOWN_FONTS when ``bold=True``.
KNOWN_BOLD_FONTS: tuple[Path, ...] = (
    *(d / "NotoSansCJK-Bold.ttc" for d in _NOTO_DIRS),
    _NANUM / "NanumGothicBold.ttf",
    _NANUM / "NanumBarunGothicBold.ttf",
    *(d / "NotoSansKR-Bold.otf" for d in _NOTO_DIRS),
)
#: Fonts that only fill gaps (Latin, symbols), after the ones above.
FALLBACK_FONTS: tuple[Path, ...] = (Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),)

_INSTALL_HINT = (
    "no font with Hangul found; install Debian's fonts-noto-cjk (Korean, Japanese and "
    "Chinese) or fonts-nanum (apt-get install fonts-noto-cjk), "
    f"or set {ENV_VAR}=/path/to/font.ttf"
)


class FontMissing(RuntimeError):
    """No usable font that draws Hangul could be found."""

    def __init__(self, rejected: tuple[str, ...] = ()) -> None:
        detail = "".join(f"; {r}" for r in rejected)
        super().__init__(_INSTALL_HINT + detail)
        self.rejected = rejected


def fc_match_font(bold: bool = False) -> Path | None:
    """Ask fontconfig for a Korean font; None when fc-match is absent or says nothing."""
    exe = shutil.which("fc-match")
    if exe is None:
        return None
    pattern = ":lang=ko:weight=bold" if bold else ":lang=ko"
    try:
        done = subprocess.run(
            [exe, "-f", "%{file}", pattern], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    out = done.stdout.strip()
    return Path(out) if done.returncode == 0 and out else None


def _glyph(font: ImageFont.FreeTypeFont, ch: str) -> bytes:
    img = Image.new("L", (48, 48))
    ImageDraw.Draw(img).text((4, 4), ch, font=font, fill=255)
    return img.tobytes()


@lru_cache(maxsize=64)
def hangul_problem(path: Path) -> str | None:
    """Why ``path`` cannot draw Hangul, or None when it can ('가' and '한' differ, both inked)."""
    if not path.is_file():
        return "does not exist"
    try:
        font = ImageFont.truetype(str(path), 32)
    except OSError as exc:
        return f"cannot be loaded ({exc})"
    ga, han = _glyph(font, "가"), _glyph(font, "한")
    if not any(ga) or not any(han) or ga == han:
        return "has no Hangul glyphs"
    return None


def _candidates(preferred: Path | None, env: str | None, bold: bool) -> list[tuple[str, Path]]:
    out: list[tuple[str, Path]] = []
    if preferred is not None:
        out.append(("preferred font", Path(preferred)))
    if env:
        if bold and "Regular" in Path(env).name:  # the bold one shipped beside it
            out.append((ENV_VAR, Path(env).with_name(Path(env).name.replace("Regular", "Bold"))))
        out.append((ENV_VAR, Path(env)))
    known = (*KNOWN_BOLD_FONTS, *KNOWN_FONTS) if bold else KNOWN_FONTS
    out.extend(("known font", p) for p in known)
    return out


@lru_cache(maxsize=32)
def _find(preferred: Path | None, env: str | None, bold: bool) -> Path:
    rejected: list[str] = []
    for origin, path in _candidates(preferred, env, bold):
        problem = hangul_problem(path)
        if problem is None:
            return path
        if origin != "known font":
            log.warning("%s %s %s; trying other fonts", origin, path, problem)
            rejected.append(f"{origin} {path} {problem}")
    matched = fc_match_font(bold)
    if matched is not None:
        problem = hangul_problem(matched)
        if problem is None:
            return matched
        rejected.append(f"fc-match's {matched} {problem}")
    raise FontMissing(tuple(rejected))


def find_font(preferred: Path | None = None, *, bold: bool = False) -> Path:
    """Path of a font that draws Hangul; raises FontMissing naming any rejected explicit font."""
    return _find(Path(preferred) if preferred is not None else None, os.environ.get(ENV_VAR), bold)


@lru_cache(maxsize=128)
def _load(path: Path, size: int, index: int = 0) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size, index=index)


#: The faces of a Noto Sans/Serif CJK collection (.ttc): the same characters, each language's
#: own glyph forms. ``zh-Hant``: traditional Chinese.
CJK_FACES = {"ja": 0, "ko": 1, "zh": 2, "zh-Hant": 3}


def face_index(path: Path, language: str | None) -> int:
    """The face of ``path`` for ``language``: a Noto CJK collection's language face, else 0."""
    if language is None or path.suffix.lower() != ".ttc" or "CJK" not in path.name:
        return 0
    return CJK_FACES.get(language, 0)


def load_font(
    size: int, *, bold: bool = False, preferred: Path | None = None, language: str | None = None
) -> ImageFont.FreeTypeFont:
    """A cached FreeType font of ``size`` px from find_font (bold falls back to regular).

    ``language`` (``ko``, ``ja``, ``zh``, ``zh-Hant``, ``en``; see ``text_language``) picks
    the face of a Noto CJK collection; other fonts have one face.
    """
    path = find_font(preferred, bold=bold)
    return _load(path, max(1, int(size)), face_index(path, language))


def clear_font_cache() -> None:
    """Forget every cached lookup (after changing $TALE_FONT or the candidate lists)."""
    _find.cache_clear()
    _load.cache_clear()
    hangul_problem.cache_clear()
    coverage.cache_clear()
    _fallback_for.cache_clear()
    _fc_match_char.cache_clear()


# --------------------------------------------------------------------------------------
# Glyph coverage and fallback
# --------------------------------------------------------------------------------------

#: Frequent characters written differently in traditional Chinese (the simplified form is
#: another character): enough of them in a text means its Han should take traditional forms.
_TRADITIONAL = frozenset(
    "們這個說來時會對裏為國後見過還麼開門東長頭馬鳥風爺媽蘭龍雲"
    "電車書學聽話問間讓覺邊發沒無變應現從動點種樣聲愛親歲夢燈魚樹橋鄉貓狗顆隻"
)
_SIMPLIFIED = frozenset(
    "们这个说来时会对里为国后见过还么开门东长头马鸟风爷妈兰龙云"
    "电车书学听话问间让觉边发没无变应现从动点种样声爱亲岁梦灯鱼树桥乡猫狗颗只"
)


def text_language(text: str) -> str:
    """The face to draw ``text`` with: ``ko``, ``ja``, ``zh``, ``zh-Hant`` or ``en``, by its
    script (``schemas.story.detect_language``; traditional Chinese by its frequent forms)."""
    from schemas.story import detect_language

    language: str = detect_language(text)
    if language == "zh":
        traditional = sum(1 for ch in text if ch in _TRADITIONAL)
        simplified = sum(1 for ch in text if ch in _SIMPLIFIED)
        if traditional > simplified:
            return "zh-Hant"
    return language


@lru_cache(maxsize=64)
def coverage(path: Path, index: int = 0) -> frozenset[int]:
    """The code points ``path`` (face ``index`` of a collection) has a glyph for: its cmap."""
    from fontTools.ttLib import TTFont  # only when text is drawn: fontTools is not small

    try:
        with TTFont(str(path), fontNumber=index, lazy=True) as font:
            return frozenset(font.getBestCmap() or {})
    except Exception as exc:  # fontTools raises many kinds on a damaged or foreign file
        log.warning("cannot read the character map of %s: %s", path, exc)
        return frozenset()


def needs_glyph(ch: str) -> bool:
    """Whether ``ch`` is drawn: not a space, a control or format character, nor a variation
    selector (those have no ink of their own)."""
    if ch.isspace():
        return False
    category = unicodedata.category(ch)
    return category not in ("Cc", "Cf", "Zs", "Zl", "Zp") and not (
        "\ufe00" <= ch <= "\ufe0f" or "\U000e0100" <= ch <= "\U000e01ef"
    )


def _covers(font: ImageFont.FreeTypeFont, ch: str) -> bool:
    return not needs_glyph(ch) or ord(ch) in coverage(Path(str(font.path)), font.index)


@lru_cache(maxsize=1024)
def _fc_match_char(code: int) -> Path | None:
    exe = shutil.which("fc-match")
    if exe is None:
        return None
    try:
        done = subprocess.run(
            [exe, "-f", "%{file}", f":charset={code:x}"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    out = done.stdout.strip()
    return Path(out) if done.returncode == 0 and out else None


def _fallback_paths(bold: bool) -> list[Path]:
    paths: list[Path] = []
    env = os.environ.get(ENV_VAR)
    if env and Path(env).parent.is_dir():  # the fonts shipped beside $TALE_FONT
        paths += sorted(
            p for p in Path(env).parent.iterdir() if p.suffix.lower() in (".ttf", ".otf", ".ttc")
        )
    paths += [*(KNOWN_BOLD_FONTS if bold else ()), *KNOWN_FONTS, *FALLBACK_FONTS]
    return [p for i, p in enumerate(paths) if p.is_file() and p not in paths[:i]]


@lru_cache(maxsize=4096)
def _fallback_for(code: int, bold: bool, language: str | None) -> tuple[Path, int] | None:
    for path in _fallback_paths(bold):
        index = face_index(path, language)
        if code in coverage(path, index):
            return path, index
    matched = _fc_match_char(code)
    if matched is not None and code in coverage(matched, 0):
        return matched, 0
    return None


def _font_for(
    font: ImageFont.FreeTypeFont, ch: str, language: str | None
) -> ImageFont.FreeTypeFont | None:
    """The font to draw ``ch`` with: ``font`` when it has the glyph, else a fallback of the
    same size that has it, else None."""
    if _covers(font, ch):
        return font
    bold = "bold" in str(font.path).lower()
    found = _fallback_for(ord(ch), bold, language)
    return _load(found[0], font.size, found[1]) if found else None


def runs(
    text: str, font: ImageFont.FreeTypeFont, *, language: str | None = None
) -> list[tuple[ImageFont.FreeTypeFont, str]]:
    """``text`` cut into runs, each with a font that has a glyph for every character in it:
    ``font`` where it can, a fallback where it lacks one. A character no font has stays with
    ``font`` (see ``missing_glyphs``)."""
    out: list[tuple[ImageFont.FreeTypeFont, str]] = []
    for ch in text:
        chosen = _font_for(font, ch, language) or font
        if out and out[-1][0] is chosen:
            out[-1] = (chosen, out[-1][1] + ch)
        else:
            out.append((chosen, ch))
    return out


def missing_glyphs(texts: Iterable[str], font: ImageFont.FreeTypeFont) -> str:
    """The characters of ``texts`` that neither ``font`` nor any fallback has a glyph for
    (each once, in order): what would still be drawn as a box."""
    missing: list[str] = []
    for text in texts:
        for ch in text:
            if ch not in missing and _font_for(font, ch, None) is None:
                missing.append(ch)
    return "".join(missing)


def text_length(text: str, font: ImageFont.FreeTypeFont) -> float:
    """The advance width of ``text`` in px, as ``draw_text`` draws it (with fallbacks)."""
    return sum(f.getlength(run) for f, run in runs(text, font))


def draw_text(
    draw: ImageDraw.ImageDraw,
    xy: tuple[float, float],
    text: str,
    font: ImageFont.FreeTypeFont,
    *,
    fill: object = None,
    anchor: str = "la",
    language: str | None = None,
) -> None:
    """``draw.text`` on one line, each run in a font that has its glyphs (``runs``).

    ``anchor`` is Pillow's two-letter anchor; the horizontal part (``l``, ``m``, ``r``)
    applies to the whole line.
    """
    pieces = runs(text, font, language=language)
    x, y = xy
    horizontal, vertical = anchor[:1], anchor[1:] or "a"
    total = sum(f.getlength(run) for f, run in pieces)
    if horizontal == "m":
        x -= total / 2
    elif horizontal == "r":
        x -= total
    for f, run in pieces:
        draw.text((x, y), run, font=f, fill=fill, anchor="l" + vertical)  # type: ignore[arg-type]
        x += f.getlength(run)


#: Characters a line never starts with in Japanese and Chinese (kinsoku): the character
#: before them moves to the next line with them.
_NO_LINE_START = frozenset(
    "、。，．,.！？!?：；:;」』）)】〉》”’ー…・ゝゞ々ぁぃぅぇぉっゃゅょァィゥェォッャュョ"
)


def _split_long(word: str, font: ImageFont.FreeTypeFont, max_width: int) -> list[str]:
    pieces: list[str] = []
    cur = ""
    for ch in word:
        if cur and text_length(cur + ch, font) > max_width:
            keep = len(cur) - 1  # where the next line starts: never at closing punctuation
            while ch in _NO_LINE_START and keep > 0 and cur[keep] in _NO_LINE_START:
                keep -= 1
            if ch in _NO_LINE_START and keep > 0:
                pieces.append(cur[:keep])
                cur = cur[keep:] + ch
            else:
                pieces.append(cur)
                cur = ch
        else:
            cur += ch
    if cur:
        pieces.append(cur)
    return pieces


def wrap_text(text: str, font: ImageFont.FreeTypeFont, max_width: int) -> list[str]:
    """Wrap ``text`` to lines no wider than ``max_width`` px.

    Breaks at spaces; a word that alone is too wide (long Korean runs, URLs) is broken
    between characters. Explicit newlines start new lines; empty paragraphs are kept.
    """
    lines: list[str] = []
    for para in text.splitlines() or [""]:
        cur = ""
        for word in para.split():
            trial = f"{cur} {word}" if cur else word
            if text_length(trial, font) <= max_width:
                cur = trial
                continue
            if cur:
                lines.append(cur)
            pieces = _split_long(word, font, max_width)
            lines.extend(pieces[:-1])
            cur = pieces[-1] if pieces else ""
        lines.append(cur)
    return lines


def fit_text(text: str, font: ImageFont.FreeTypeFont, max_width: int, max_lines: int) -> list[str]:
    """wrap_text, cut to ``max_lines``; a cut ends its last line with '…' (shortened to fit)."""
    lines = wrap_text(text, font, max_width)
    if max_lines <= 0:
        return []
    if len(lines) <= max_lines:
        return lines
    last = lines[max_lines - 1].rstrip()
    while last and text_length(last + "…", font) > max_width:
        last = last[:-1].rstrip()
    return [*lines[: max_lines - 1], last + "…"]
