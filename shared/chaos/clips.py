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


def _yuv(rgb: np.ndarray) -> np.ndarray:
    """Mean Y, U and V of an RGB frame as the encoder converts it."""
    from shared.media.encode import rgb_to_yuv420p

    h, w, _ = rgb.shape
    flat = rgb_to_yuv420p(rgb).ravel().astype(np.float64)
    return np.array(
        [flat[: h * w].mean(), flat[h * w : h * w * 5 // 4].mean(), flat[h * w * 5 // 4 :].mean()]
    )


_COLOURS_YUV = np.array([_yuv(np.full((2, 2, 3), c, dtype=np.uint8)) for c in PALETTE])


def shot_of(yuv420p: np.ndarray, width: int, height: int) -> int:
    """The palette index nearest to a decoded YUV 4:2:0 frame's mean colour (comparing in
    YUV spares a colour conversion per frame)."""
    flat = yuv420p.ravel()
    size = width * height
    mean = np.array(
        [flat[:size].mean(), flat[size : size * 5 // 4].mean(), flat[size * 5 // 4 :].mean()]
    )
    return int(np.argmin(((_COLOURS_YUV - mean) ** 2).sum(axis=1)))


def decode_shots(path: Path) -> list[int]:
    """The shot index of every decoded frame of ``path`` (PyAV; raises on a broken file)."""
    import av

    with av.open(str(path)) as box:
        stream = box.streams.video[0]
        shots = []
        for frame in box.decode(stream):
            if frame.format.name != "yuv420p":
                frame = frame.reformat(format="yuv420p")
            shots.append(shot_of(frame.to_ndarray(), frame.width, frame.height))
        return shots
