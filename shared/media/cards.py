"""Offline character reference cards: a drawn figure plus name, description and style."""

from __future__ import annotations

import io
import random
from pathlib import Path

from PIL import Image, ImageDraw

from shared.i18n import message
from shared.media.clips import hsv_rgb
from shared.media.fonts import draw_text, fit_text, load_font, text_language

CARD_LABEL = "offline placeholder"
"""The label in English; a card shows it in its story's language (``media.card.placeholder``)."""


def render_character_card(
    name: str,
    description: str,
    style: str,
    *,
    seed: int,
    size: tuple[int, int] = (512, 640),
    font: Path | None = None,
    language: str = "",
) -> bytes:
    """PNG bytes of a character card; the same arguments give the same bytes.

    The figure (head, hair, body, arms, legs) takes its colours and proportions from
    ``seed``, so different characters look different and one character stays stable. The
    labels are in ``language`` (the story's; empty: the name's script), and every character of
    the name is drawn from a font that has its glyph.
    """
    w, h = size
    if w < 16 or h < 16:
        raise ValueError(f"card size too small: {size}")
    rnd = random.Random(seed)
    hue = rnd.random()
    u = min(w, h)
    img = Image.new("RGB", (w, h), hsv_rgb(hue, 0.25, 0.95))
    d = ImageDraw.Draw(img)
    for y in range(0, h, 4):  # soft vertical gradient
        d.rectangle((0, y, w, y + 3), fill=hsv_rgb(hue, 0.25 + 0.35 * y / h, 0.95 - 0.3 * y / h))

    # Figure in the upper half of the card.
    fig_h = h * 0.46
    cx = w / 2
    head_r = u * rnd.uniform(0.085, 0.11)
    head_cy = h * 0.06 + head_r
    body_w = u * rnd.uniform(0.16, 0.26)
    body_top, body_bottom = head_cy + head_r * 1.05, h * 0.06 + fig_h * 0.72
    skin = hsv_rgb(rnd.uniform(0.03, 0.1), rnd.uniform(0.25, 0.6), rnd.uniform(0.45, 0.95))
    cloth = hsv_rgb(hue + 0.5 + rnd.uniform(-0.1, 0.1), 0.65, 0.75)
    hair = hsv_rgb(rnd.random(), rnd.uniform(0.2, 0.8), rnd.uniform(0.15, 0.6))
    legs = hsv_rgb(hue + 0.6, 0.4, 0.35)
    limb = max(2, round(u * 0.035))
    foot_y = h * 0.06 + fig_h
    for side in (-1, 1):
        d.line(
            (cx + side * body_w * 0.3, body_bottom, cx + side * body_w * 0.4, foot_y),
            fill=legs,
            width=limb,
        )
    arm_y = body_top + (body_bottom - body_top) * 0.15
    wave = rnd.uniform(-0.25, 0.35) * fig_h
    d.line((cx - body_w / 2, arm_y, cx - body_w * 1.1, arm_y + fig_h * 0.25), fill=skin, width=limb)
    d.line((cx + body_w / 2, arm_y, cx + body_w * 1.1, arm_y + wave), fill=skin, width=limb)
    d.rounded_rectangle(
        (cx - body_w / 2, body_top, cx + body_w / 2, body_bottom), radius=body_w * 0.25, fill=cloth
    )
    d.ellipse((cx - head_r, head_cy - head_r, cx + head_r, head_cy + head_r), fill=skin)
    d.chord(
        (cx - head_r * 1.05, head_cy - head_r * 1.1, cx + head_r * 1.05, head_cy + head_r * 0.6),
        180,
        360,
        fill=hair,
    )
    eye = max(1, round(head_r * 0.12))
    ey = head_cy + head_r * 0.1
    for ex in (cx - head_r * 0.35, cx + head_r * 0.35):
        d.ellipse((ex - eye, ey - eye, ex + eye, ey + eye), fill=(20, 20, 30))

    # Text block.
    pad = max(4, round(u * 0.05))
    inner = w - 2 * pad
    face = text_language(name) if not language or language == "zh" else language
    lang = language or face.split("-")[0]
    f_name = load_font(max(8, round(u * 0.09)), bold=True, preferred=font, language=face)
    f_desc = load_font(max(7, round(u * 0.042)), preferred=font, language=face)
    f_small = load_font(max(7, round(u * 0.034)), preferred=font, language=face)
    y = round(foot_y + pad)
    d.rectangle((0, y - pad // 2, w, h), fill=(18, 18, 26))
    for line in fit_text(name, f_name, inner, 1):
        draw_text(d, (pad, y), line, f_name, fill=(255, 255, 255), language=face)
        y += round(f_name.size * 1.2)
    label_h = round(f_small.size * 1.3) + pad
    style_h = round(f_small.size * 1.25) * 2
    room = h - label_h - style_h - y - pad
    desc_lines = max(1, room // round(f_desc.size * 1.25))
    for line in fit_text(description, f_desc, inner, desc_lines):
        draw_text(d, (pad, y), line, f_desc, fill=(225, 225, 235), language=face)
        y += round(f_desc.size * 1.25)
    y = h - label_h - style_h
    for line in fit_text(message(lang, "media.card.style", style=style), f_small, inner, 2):
        draw_text(d, (pad, y), line, f_small, fill=(170, 190, 220), language=face)
        y += round(f_small.size * 1.25)
    d.rectangle((0, h - label_h, w, h), fill=(250, 196, 40))
    label = message(lang, "media.card.placeholder")
    draw_text(d, (pad, h - label_h + pad // 2), label, f_small, fill=(20, 20, 20), language=face)

    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False)
    return buf.getvalue()
