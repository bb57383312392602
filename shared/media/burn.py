"""Captions burned into the frames, inside the safe area of a Shorts player.

YouTube Shorts draws its interface over the video: the title, channel and subscribe button
over roughly the bottom quarter of a 9:16 frame (about 480 of 1,920 px), and the like /
comment / share column along the right edge (youraithumbnailgenerator.com, "YouTube Shorts
Safe Zones: The Complete Guide"; shortsfire.com, "Shorts Safe Zones: Keep Your Text Visible",
keeps text inside the centre 80 % of the width). So the caption box stays above the bottom
``SAFE_BOTTOM`` of the frame, clear of the right ``SAFE_RIGHT`` and of a ``SAFE_LEFT`` margin.
Burning re-encodes the video (the only path that does); the text is drawn with a font that
has the story's script (``fonts.find_font``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw

from shared.media.captions import Cue
from shared.media.encode import write_h264
from shared.media.fonts import fit_text, load_font
from shared.media.probe import probe

SAFE_BOTTOM = 0.25
SAFE_RIGHT = 0.15
SAFE_LEFT = 0.05
MAX_LINES = 3  # a cue has at most 2 lines; a narrow frame may wrap one more
_FONT_SCALE = 0.055  # text size as a share of the frame's width
_BOX_ALPHA = 170


@dataclass(frozen=True)
class Box:
    """A rectangle of the frame in pixels: [left, right) × [top, bottom)."""

    left: int
    top: int
    right: int
    bottom: int


def safe_area(width: int, height: int) -> Box:
    """Where captions may go: all of the frame but the Shorts interface's bottom and right."""
    return Box(
        round(width * SAFE_LEFT),
        0,
        round(width * (1 - SAFE_RIGHT)),
        round(height * (1 - SAFE_BOTTOM)),
    )


@dataclass(frozen=True)
class Caption:
    """A cue drawn once: an RGBA patch and where it goes."""

    box: Box
    patch: np.ndarray
    """uint8 (h, w, 4)."""


def render(
    text: str, width: int, height: int, font: Path | None = None, language: str | None = None
) -> Caption:
    """The caption patch of ``text`` for a width × height frame: white text on a translucent
    dark box, centred in the safe area's width, its bottom on the safe area's bottom.
    ``language`` picks the face of a CJK collection (a Chinese story's 直 is drawn as Chinese
    writes it, not as Japanese does)."""
    area = safe_area(width, height)
    size = max(8, round(width * _FONT_SCALE))
    face = load_font(size, bold=True, preferred=font, language=language)
    pad = max(2, size // 3)
    line_h = round(size * 1.25)
    lines = fit_text(text.replace("\n", " "), face, area.right - area.left - 2 * pad, MAX_LINES)
    text_w = max((round(face.getlength(line)) for line in lines), default=0)
    box_w = min(area.right - area.left, text_w + 2 * pad)
    box_h = min(area.bottom - area.top, len(lines) * line_h + 2 * pad)
    left = area.left + (area.right - area.left - box_w) // 2
    box = Box(left, area.bottom - box_h, left + box_w, area.bottom)
    patch = Image.new("RGBA", (box_w, box_h), (0, 0, 0, _BOX_ALPHA))
    draw = ImageDraw.Draw(patch)
    stroke = max(1, size // 14)
    for n, line in enumerate(lines):
        draw.text(
            (box_w // 2, pad + n * line_h),
            line,
            font=face,
            fill=(255, 255, 255, 255),
            anchor="ma",
            stroke_width=stroke,
            stroke_fill=(0, 0, 0, 255),
        )
    return Caption(box, np.asarray(patch, dtype=np.uint8))


def draw(frame: np.ndarray, caption: Caption) -> np.ndarray:
    """``frame`` (RGB uint8) with ``caption`` composited; pixels outside its box untouched."""
    out = frame.copy()
    b = caption.box
    region = out[b.top : b.bottom, b.left : b.right].astype(np.uint16)
    alpha = caption.patch[..., 3:4].astype(np.uint16)
    rgb = caption.patch[..., :3].astype(np.uint16)
    out[b.top : b.bottom, b.left : b.right] = (
        (rgb * alpha + region * (255 - alpha)) // 255
    ).astype(np.uint8)
    return out


def burn(
    video: Path,
    cues: Sequence[Cue],
    out: Path,
    font: Path | None = None,
    language: str | None = None,
) -> None:
    """``video`` re-encoded (H.264, same size and rate) with every cue drawn on the frames
    it covers, in the face of the story's ``language``."""
    info = probe(video)
    fps = max(1, round(float(info.fps))) if info.fps else 24
    width, height = info.width, info.height

    @lru_cache(maxsize=4)
    def caption(index: int) -> Caption:
        return render(cues[index].text, width, height, font, language)

    def frames() -> Iterator[np.ndarray]:
        with av.open(str(video)) as box:
            for k, frame in enumerate(box.decode(box.streams.video[0])):
                rgb = frame.to_ndarray(format="rgb24")
                t = k / fps
                active = next((i for i, c in enumerate(cues) if c.start <= t < c.end), None)
                yield rgb if active is None else draw(rgb, caption(active))

    write_h264(frames(), out, fps=fps, width=width, height=height)
