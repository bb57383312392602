"""Offline placeholder clips: real H.264 whose frames visibly reflect the shot.

Stands in for a video model. Each frame shows the shot number, camera, narration,
prompt and character reference thumbnails over a seed-coloured background that moves
as the camera says (pan, tilt, zoom, orbit, handheld, or a slow drift), with a subject
disc and a time bar. Static layers are drawn once per clip; per-frame work is a crop
(or resize, for zooms) of a precomputed background and a few masked pastes in C.
"""

from __future__ import annotations

import colorsys
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps

from shared.i18n import message
from shared.media.encode import write_h264
from shared.media.fonts import draw_text, fit_text, load_font, text_language

PLACEHOLDER_LABEL = "offline placeholder — not a model render"
"""The label in English; a clip shows it in its story's language (``media.clip.placeholder``)."""


@dataclass(frozen=True)
class ClipSpec:
    """What one placeholder clip shows. ``shot_number`` is 1-based, as shown on screen."""

    width: int
    height: int
    fps: int
    seconds: float
    shot_number: int
    shot_total: int
    title: str
    camera: str
    prompt: str
    narration: str
    characters: tuple[tuple[str, Path | None], ...] = ()
    seed: int = 0
    font: Path | None = None
    language: str = ""
    """The story's language, for the labels (empty: read from the title and narration)."""


def labels_language(language: str, *texts: str) -> str:
    """The language of a frame's labels: ``language``, else the script of ``texts``."""
    return language or text_language("".join(texts)).split("-")[0]


@dataclass(frozen=True)
class CameraMotion:
    """Background motion over a clip: pan/tilt in margins (-1..1), zoom factor at the end."""

    dx: float = 0.0
    dy: float = 0.0
    zoom: float = 1.0
    shake: float = 0.0


def camera_motion(camera: str) -> CameraMotion:
    """Map a free-text camera direction ("slow pan left", "dolly in", ...) to a motion."""
    c = camera.lower()
    dx = dy = shake = 0.0
    zoom = 1.0
    if "pan" in c or "truck" in c:
        dx = -1.0 if "left" in c else 1.0
    if any(k in c for k in ("tilt", "crane", "pedestal", "boom")):
        dy = -1.0 if "up" in c else 1.0
    if any(k in c for k in ("zoom in", "push", "dolly in", "close")):
        zoom = 1.35
    elif any(k in c for k in ("zoom out", "pull", "dolly out", "reveal")):
        zoom = 1 / 1.35
    if any(k in c for k in ("orbit", "arc", "track", "follow")):
        dx, dy = dx or 1.0, dy or 0.35
    if "handheld" in c or "shak" in c:
        shake = 1.0
    if (dx, dy, zoom, shake) == (0.0, 0.0, 1.0, 0.0):
        dy = 0.25  # static/locked shots still drift a little, so time is visible
    return CameraMotion(dx, dy, zoom, shake)


def hsv_rgb(h: float, s: float, v: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
    return round(r * 255), round(g * 255), round(b * 255)


def _background(w: int, h: int, hue: float) -> Image.Image:
    """Smooth two-colour gradient with soft diagonal bands and rings (cheap for x264)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    top, bottom = np.array(hsv_rgb(hue, 0.55, 0.55)), np.array(hsv_rgb(hue + 0.12, 0.75, 0.22))
    mix = (yy / max(h - 1, 1))[..., None]
    img = top * (1 - mix) + bottom * mix
    period = max(w, h) / 7
    bands = np.sin((xx + yy) * (2 * math.pi / period)) * 16
    rings = np.cos(np.hypot(xx - w * 0.3, yy - h * 0.35) * (2 * math.pi / (period * 1.7))) * 10
    img += (bands + rings)[..., None]
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")


def _disc(radius: int, hue: float) -> tuple[Image.Image, Image.Image]:
    """Antialiased subject disc (RGB, mask)."""
    big = radius * 8 + 8
    mask = Image.new("L", (big, big))
    draw = ImageDraw.Draw(mask)
    draw.ellipse((4, 4, big - 4, big - 4), fill=255)
    rgb = Image.new("RGB", (big, big), hsv_rgb(hue + 0.5, 0.35, 0.95))
    ImageDraw.Draw(rgb).ellipse(
        (big // 4, big // 4, big * 3 // 4, big * 3 // 4), fill=hsv_rgb(hue + 0.5, 0.7, 0.7)
    )
    size = (radius * 2 + 2, radius * 2 + 2)
    return rgb.resize(size, Image.Resampling.LANCZOS), mask.resize(size, Image.Resampling.LANCZOS)


_Section = tuple[list[str], ImageFont.FreeTypeFont, tuple[int, int, int]]


def _lh(font: ImageFont.FreeTypeFont) -> int:
    return round(font.size * 1.25)


class _Scene:
    """Everything precomputed for one clip; ``frame(i)`` composes frame i cheaply."""

    def __init__(self, spec: ClipSpec, frames: int) -> None:
        w, h = spec.width, spec.height
        self.spec, self.frames = spec, frames
        self.u = u = min(w, h)
        hue = ((spec.seed * 0.6180339887) + spec.shot_number * 0.113) % 1.0
        self.motion = camera_motion(spec.camera)
        self.margin = m = max(4, round(u * 0.15))
        self.bg = _background(w + 2 * m, h + 2 * m, hue)
        self.disc, self.disc_mask = _disc(max(3, round(u * 0.08)), hue)
        self.bar_colour = hsv_rgb(hue + 0.5, 0.6, 1.0)
        self.bar_h = max(2, round(h * 0.008))
        self.layers: list[tuple[tuple[int, int], Image.Image, Image.Image]] = []
        # the face of a CJK font for the story's script; labels in the story's language
        self.face = text_language(spec.title + spec.narration)
        self.lang = labels_language(spec.language, spec.title, spec.narration)
        self._draw_static(hue)

    def _font(self, frac: float, bold: bool = False) -> ImageFont.FreeTypeFont:
        return load_font(
            max(7, round(self.u * frac)), bold=bold, preferred=self.spec.font, language=self.face
        )

    def _font_px(self, size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
        return load_font(size, bold=bold, preferred=self.spec.font, language=self.face)

    def _panel(self, y0: int, sections: list[_Section], pad: int, gap: int, bottom: bool) -> int:
        """Draw a translucent full-width panel of text sections as a layer; return its height.

        A bottom panel ends at the time bar and closes with the amber placeholder label.
        """
        w = self.spec.width
        f_label = self._font(0.04, bold=True)
        said = message(self.lang, "media.clip.placeholder")
        label = fit_text(said, f_label, w - 2 * pad, 2) if bottom else []
        height = 2 * pad + sum(_lh(f) * len(lines) + gap for lines, f, _ in sections) - gap
        height += (_lh(f_label) * len(label) + pad) if label else 0
        if bottom:
            y0 = self.spec.height - self.bar_h - height
        layer = Image.new("RGBA", (w, max(1, height)), (10, 10, 18, 165))
        d = ImageDraw.Draw(layer)
        y = pad
        for lines, font, colour in sections:
            for line in lines:
                draw_text(d, (pad, y), line, font, fill=colour, language=self.face)
                y += _lh(font)
            y += gap
        if label:
            y += pad - gap
            d.rectangle((0, y - pad // 2, w, height), fill=(250, 196, 40, 235))
            for line in label:
                draw_text(d, (pad, y), line, f_label, fill=(20, 20, 20), language=self.face)
                y += _lh(f_label)
        self.layers.append(((0, y0), layer.convert("RGB"), layer.getchannel("A")))
        return height

    def _draw_static(self, hue: float) -> None:
        spec, u = self.spec, self.u
        w, h = spec.width, spec.height
        pad = max(2, round(u * 0.035))
        inner = w - 2 * pad
        f_title, f_shot = self._font(0.05), self._font(0.12, bold=True)
        f_cam, f_narr, f_prompt = self._font(0.045), self._font(0.055), self._font(0.038)
        top: list[_Section] = [
            (fit_text(spec.title, f_title, inner, 1), f_title, (225, 225, 235)),
            (
                [
                    message(
                        self.lang, "media.clip.shot", number=spec.shot_number, total=spec.shot_total
                    )
                ],
                f_shot,
                hsv_rgb(hue + 0.5, 0.45, 1),
            ),
            (
                fit_text(
                    message(self.lang, "media.clip.camera", camera=spec.camera), f_cam, inner, 2
                ),
                f_cam,
                (200, 220, 255),
            ),
        ]
        self.top_h = self._panel(0, top, pad, 0, bottom=False)
        narr_lines = max(1, int(h * 0.2 / _lh(f_narr)))
        prompt_lines = max(1, int(h * 0.1 / _lh(f_prompt)))
        lower: list[_Section] = [
            (fit_text(spec.narration, f_narr, inner, narr_lines), f_narr, (255, 255, 255)),
            (fit_text(spec.prompt, f_prompt, inner, prompt_lines), f_prompt, (170, 180, 200)),
        ]
        self.bottom_y = h - self.bar_h - self._panel(0, lower, pad, pad, bottom=True)
        self._draw_characters(self.top_h, self.bottom_y, pad)

    def _draw_characters(self, y: int, y_max: int, pad: int) -> None:
        """Reference thumbnails with names in a row between the top and bottom panels."""
        chars = self.spec.characters
        if not chars:
            return
        w = self.spec.width
        n = len(chars)
        f_name = self._font(0.035)
        name_h = round(f_name.size * 1.3)
        room = y_max - y - name_h - 2 * pad
        thumb = max(8, min(round(self.u * 0.2), (w - pad * (n + 1)) // n, room))
        f_initial = self._font_px(max(7, thumb // 2), bold=True)
        layer = Image.new("RGBA", (w, thumb + name_h + pad * 2), (0, 0, 0, 0))
        d = ImageDraw.Draw(layer)
        for i, (name, ref) in enumerate(chars):
            x = pad + i * (thumb + pad)
            if x + thumb > w:
                break
            d.rectangle((x - 1, pad - 1, x + thumb, pad + thumb + name_h), fill=(10, 10, 18, 190))
            if ref is not None:
                with Image.open(ref) as im:
                    pic = im.convert("RGB")
                fit = ImageOps.fit(
                    pic, (thumb, thumb), Image.Resampling.BILINEAR, centering=(0.5, 0.2)
                )
                layer.paste(fit, (x, pad))
            else:
                d.rectangle((x, pad, x + thumb - 1, pad + thumb - 1), fill=(70, 70, 90, 255))
                draw_text(
                    d,
                    (x + thumb // 2, pad + thumb // 2),
                    name[:1],
                    f_initial,
                    anchor="mm",
                    language=self.face,
                )
            short = fit_text(name, f_name, thumb, 1)
            draw_text(
                d,
                (x, pad + thumb),
                short[0] if short else "",
                f_name,
                fill=(255, 255, 255),
                language=self.face,
            )
        self.layers.append(((0, y), layer.convert("RGB"), layer.getchannel("A")))

    def frame(self, i: int) -> np.ndarray:
        spec, mo, m = self.spec, self.motion, self.margin
        w, h = spec.width, spec.height
        t = i / max(1, self.frames - 1)
        s = 2 * t - 1  # -1 .. 1
        jx = mo.shake * m * 0.08 * math.sin(i * 1.7) * math.cos(i * 0.63)
        jy = mo.shake * m * 0.08 * math.sin(i * 1.13 + 1.0)
        cx = m + w / 2 + mo.dx * m * 0.9 * s + jx
        cy = m + h / 2 + mo.dy * m * 0.9 * s + jy
        z = 1.0
        if mo.zoom == 1.0:
            x0, y0 = round(cx - w / 2), round(cy - h / 2)
            img = self.bg.crop((x0, y0, x0 + w, y0 + h))
        else:
            z = mo.zoom**t if mo.zoom > 1 else (1 / mo.zoom) ** (1 - t)
            hw, hh = w / (2 * z), h / (2 * z)
            box = (cx - hw, cy - hh, cx + hw, cy + hh)
            img = self.bg.resize((w, h), Image.Resampling.NEAREST, box=box)
        # Subject disc: moves against the camera and wanders, so even static shots move;
        # it grows/shrinks with a zoom.
        disc, mask = self.disc, self.disc_mask
        if z != 1.0:
            side = max(2, round(disc.width * z))
            disc = disc.resize((side, side), Image.Resampling.BILINEAR)
            mask = mask.resize((side, side), Image.Resampling.BILINEAR)
        r = disc.width // 2
        mid_top, mid_bottom = self.top_h + r, max(self.top_h + r, self.bottom_y - r)
        px = w / 2 - mo.dx * w * 0.3 * s + math.sin(t * 4.0) * w * 0.1
        py = (mid_top + mid_bottom) / 2 - mo.dy * (mid_bottom - mid_top) * 0.4 * s
        py += math.sin(t * 2.5 + 0.5) * (mid_bottom - mid_top) * 0.15
        img.paste(disc, (round(px) - r, round(py) - r), mask)
        for offset, layer, alpha in self.layers:
            img.paste(layer, offset, alpha)
        fill = round(w * (i + 1) / self.frames)
        img.paste((40, 40, 48), (0, h - self.bar_h, w, h))
        if fill:
            img.paste(self.bar_colour, (0, h - self.bar_h, fill, h))
        return np.asarray(img)


def render_clip(spec: ClipSpec, out: Path) -> None:
    """Write the placeholder clip for ``spec`` to ``out`` (H.264 MP4, round(seconds*fps) frames).

    Deterministic: the same spec gives the same bytes.
    """
    if spec.fps <= 0 or spec.seconds <= 0:
        raise ValueError(f"need fps > 0 and seconds > 0, got {spec.fps} fps, {spec.seconds} s")
    frames = max(1, round(spec.seconds * spec.fps))
    scene = _Scene(spec, frames)
    rgb = (scene.frame(i) for i in range(frames))
    write_h264(rgb, out, fps=spec.fps, width=spec.width, height=spec.height)
