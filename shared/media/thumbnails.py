"""A clip's thumbnail: one frame from its middle, scaled down, as PNG."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from shared.media.probe import frame_at, probe


def thumbnail_png(clip: Path, width: int = 320) -> bytes:
    """The frame at the middle of ``clip`` (as the storyboard sheet shows it), ``width``
    pixels wide at most, keeping the aspect ratio."""
    frame = frame_at(clip, probe(clip).duration / 2)
    if frame.width > width:
        frame = frame.resize(
            (width, max(1, round(frame.height * width / frame.width))), Image.Resampling.LANCZOS
        )
    buffer = io.BytesIO()
    frame.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
