"""Tiny real clips for the chaos provider, and reading them back.

Every frame of shot *n*'s clip is one flat colour of a palette, so a decoded frame says which
shot it came from: the stitched video's frames, mapped back to shot numbers, must read
``0,0,…,1,1,…`` — every shot present, whole and in order. Clips are H.264 written by
``shared.media.encode.write_h264`` (the renderer's own settings), so the stitcher takes the
same stream-copy path as for the offline renderer's clips.
"""

from __future__ import annotations

import tempfile
import threading
from functools import cache
from pathlib import Path

import numpy as np

from shared.providers.offline.videos import frame_size

#: Far-apart colours (YUV 4:2:0 at CRF 23 keeps flat colours within a few levels).
PALETTE: tuple[tuple[int, int, int], ...] = (
    (230, 40, 40),
    (40, 200, 60),
    (40, 70, 230),
    (240, 220, 40),
    (220, 50, 220),
    (40, 220, 220),
    (250, 140, 20),
    (130, 40, 200),
    (250, 250, 250),
    (20, 20, 20),
    (140, 200, 40),
    (200, 120, 120),
    (40, 120, 120),
    (120, 120, 40),
    (120, 40, 80),
    (160, 160, 230),
)
HEIGHT = 32
FPS = 4

_lock = threading.Lock()


@cache
def _clip_bytes(index: int, frames: int, width: int, height: int, fps: int) -> bytes:
    from shared.media.encode import write_h264

    colour = np.array(PALETTE[index % len(PALETTE)], dtype=np.uint8)
    frame = np.broadcast_to(colour, (height, width, 3)).copy()
    with tempfile.TemporaryDirectory(prefix="tale-chaos-clip-") as tmp:
        out = Path(tmp) / "clip.mp4"
        write_h264((frame for _ in range(frames)), out, fps=fps, width=width, height=height)
        return out.read_bytes()


def clip_bytes(index: int, seconds: float, aspect_ratio: str, *, height: int = HEIGHT) -> bytes:
    """The MP4 of shot ``index`` (flat palette colour), ``seconds`` long at ``FPS``."""
    width, even_height = frame_size(aspect_ratio, height)
    with _lock:  # one encoder at a time; the result is cached per shape
        return _clip_bytes(index, round(seconds * FPS), width, even_height, FPS)


def shot_of(frame: np.ndarray) -> int:
    """The palette index nearest to a decoded RGB frame's mean colour."""
    mean = frame.reshape(-1, 3).mean(axis=0)
    distances = [float(np.sum((mean - np.array(c)) ** 2)) for c in PALETTE]
    return int(np.argmin(distances))


def decode_shots(path: Path) -> list[int]:
    """The shot index of every decoded frame of ``path`` (PyAV; raises on a broken file)."""
    import av

    with av.open(str(path)) as box:
        stream = box.streams.video[0]
        return [shot_of(f.to_ndarray(format="rgb24")) for f in box.decode(stream)]
