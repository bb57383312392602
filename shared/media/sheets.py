"""Storyboard contact sheets and posters (PNG bytes)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageOps

from shared.media.fonts import draw_text, fit_text, load_font, text_language

BACKGROUND = (18, 18, 26)


@dataclass(frozen=True)
class StoryboardEntry:
    """One shot on a sheet: its 1-based number, a representative frame and its texts."""

    number: int
    image: Image.Image
    prompt: str
    narration: str
    timing: str = ""
    """When the shot's narration sounds in the cut (e.g. ``0:08.2–0:13.9 · 1.10×``)."""


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def storyboard_sheet(
    title: str,
    entries: Sequence[StoryboardEntry],
    *,
    columns: int = 4,
    font: Path | None = None,
    cell_width: int = 240,
    language: str | None = None,
) -> bytes:
    """PNG of a grid: each cell holds the frame, "#n" with the narration's timing in the cut,
    the narration and the prompt (wrapped, cut).

    Cells are ``cell_width`` px wide; frames keep their aspect ratio (that of the first
    entry sets the cell's picture height). The title runs across the top. Every character is
    drawn from a font that has its glyph; a CJK font takes the face of ``language`` (``ko``,
    ``ja``, ``zh``, ``zh-Hant``; default: the title and narration's script).
    """
    if columns < 1:
        raise ValueError(f"columns must be >= 1, got {columns}")
    cols = max(1, min(columns, len(entries) or 1))
    rows = max(1, -(-len(entries) // cols))
    pad = 12
    aspect = entries[0].image.height / entries[0].image.width if entries else 16 / 9
    pic_h = max(1, round(cell_width * aspect))
    face = language or text_language(title + "".join(e.narration for e in entries))
    f_title = load_font(30, bold=True, preferred=font, language=face)
    f_num = load_font(18, bold=True, preferred=font, language=face)
    f_narr = load_font(14, preferred=font, language=face)
    f_prompt = load_font(12, preferred=font, language=face)
    narr_lines, prompt_lines = 4, 3
    text_h = 24 + narr_lines * 18 + 6 + prompt_lines * 15 + 6
    cell_h = pic_h + text_h
    width = pad + cols * (cell_width + pad)
    title_lines = fit_text(title, f_title, width - 2 * pad, 2)
    header = pad + len(title_lines) * 38 + pad
    height = header + rows * (cell_h + pad)
    sheet = Image.new("RGB", (width, height), BACKGROUND)
    d = ImageDraw.Draw(sheet)
    y = pad
    for line in title_lines:
        draw_text(d, (pad, y), line, f_title, fill=(255, 255, 255), language=face)
        y += 38
    for i, entry in enumerate(entries):
        x0 = pad + (i % cols) * (cell_width + pad)
        y0 = header + (i // cols) * (cell_h + pad)
        pic = ImageOps.pad(entry.image.convert("RGB"), (cell_width, pic_h), color=(0, 0, 0))
        sheet.paste(pic, (x0, y0))
        d.rectangle((x0, y0 + pic_h, x0 + cell_width - 1, y0 + cell_h - 1), fill=(32, 32, 44))
        ty = y0 + pic_h + 4
        draw_text(d, (x0 + 6, ty), f"#{entry.number}", f_num, fill=(250, 196, 40))
        if entry.timing:
            draw_text(
                d,
                (x0 + cell_width - 6, ty + 3),
                fit_text(entry.timing, f_prompt, cell_width - 60, 1)[0],
                f_prompt,
                fill=(140, 200, 250),
                anchor="ra",
            )
        ty += 24
        for line in fit_text(entry.narration, f_narr, cell_width - 12, narr_lines):
            draw_text(d, (x0 + 6, ty), line, f_narr, fill=(235, 235, 240), language=face)
            ty += 18
        ty = y0 + pic_h + 24 + narr_lines * 18 + 6
        for line in fit_text(entry.prompt, f_prompt, cell_width - 12, prompt_lines):
            draw_text(d, (x0 + 6, ty), line, f_prompt, fill=(160, 170, 190), language=face)
            ty += 15
    return _png(sheet)


def poster(
    frame: Image.Image,
    title: str,
    subtitle: str = "",
    *,
    font: Path | None = None,
    language: str | None = None,
) -> bytes:
    """PNG of ``frame`` with a darkened band across its lower part carrying the title (every
    character from a font that has its glyph; ``language`` as for ``storyboard_sheet``)."""
    img = frame.convert("RGB")
    w, h = img.size
    u = min(w, h)
    pad = max(4, round(u * 0.05))
    face = language or text_language(title)
    f_title = load_font(max(10, round(u * 0.09)), bold=True, preferred=font, language=face)
    f_sub = load_font(max(8, round(u * 0.045)), preferred=font, language=face)
    t_lh, s_lh = round(f_title.size * 1.2), round(f_sub.size * 1.3)
    title_lines = fit_text(title, f_title, w - 2 * pad, 3)
    sub_lines = fit_text(subtitle, f_sub, w - 2 * pad, 2) if subtitle else []
    band_h = min(h, 2 * pad + t_lh * len(title_lines) + s_lh * len(sub_lines))
    band_y = max(0, round(h * 0.78) - band_h // 2)
    band_y = min(band_y, h - band_h)
    overlay = Image.new("RGBA", (w, band_h), (0, 0, 0, 215))
    img.paste(overlay.convert("RGB"), (0, band_y), overlay.getchannel("A"))
    d = ImageDraw.Draw(img)
    y = band_y + pad
    for line in title_lines:
        draw_text(d, (w // 2, y), line, f_title, fill=(255, 255, 255), anchor="ma", language=face)
        y += t_lh
    for line in sub_lines:
        draw_text(d, (w // 2, y), line, f_sub, fill=(220, 220, 230), anchor="ma", language=face)
        y += s_lh
    return _png(img)
