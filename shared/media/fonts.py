"""Finding a font that really draws Hangul, and wrapping text to a pixel width.

Korean narration must never come out as .notdef boxes, so every candidate font is
checked by rendering two different syllables: a font without Hangul draws the same
box (or nothing) for both. Lookup order: the ``preferred`` argument, ``$TALE_FONT``,
the known Debian paths below, then ``fc-match :lang=ko``.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
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

#: Regular-weight candidates, in order of preference. Tests may monkeypatch this.
KNOWN_FONTS: tuple[Path, ...] = (
    _NANUM / "NanumGothic.ttf",
    _NANUM / "NanumBarunGothic.ttf",
    *(
        d / name
        for d in _NOTO_DIRS
        for name in ("NotoSansCJK-Regular.ttc", "NotoSansKR-Regular.otf")
    ),
)
#: Bold candidates, tried before KNOWN_FONTS when ``bold=True``.
KNOWN_BOLD_FONTS: tuple[Path, ...] = (
    _NANUM / "NanumGothicBold.ttf",
    _NANUM / "NanumBarunGothicBold.ttf",
    *(d / name for d in _NOTO_DIRS for name in ("NotoSansCJK-Bold.ttc", "NotoSansKR-Bold.otf")),
)

_INSTALL_HINT = (
    "no font with Hangul found; install Debian's fonts-nanum or fonts-noto-cjk "
    f"(apt-get install fonts-nanum), or set {ENV_VAR}=/path/to/font.ttf"
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
def _load(path: Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size)


def load_font(
    size: int, *, bold: bool = False, preferred: Path | None = None
) -> ImageFont.FreeTypeFont:
    """A cached FreeType font of ``size`` px from find_font (bold falls back to regular)."""
    return _load(find_font(preferred, bold=bold), max(1, int(size)))


def clear_font_cache() -> None:
    """Forget every cached lookup (after changing $TALE_FONT or the candidate lists)."""
    _find.cache_clear()
    _load.cache_clear()
    hangul_problem.cache_clear()


def _split_long(word: str, font: ImageFont.FreeTypeFont, max_width: int) -> list[str]:
    pieces: list[str] = []
    cur = ""
    for ch in word:
        if cur and font.getlength(cur + ch) > max_width:
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
            if font.getlength(trial) <= max_width:
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
    while last and font.getlength(last + "…") > max_width:
        last = last[:-1].rstrip()
    return [*lines[: max_lines - 1], last + "…"]
