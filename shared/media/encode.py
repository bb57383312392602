"""Deterministic H.264 MP4 writing with PyAV's libx264.

Identical frames give identical bytes: x264 runs on one thread, and the MP4 muxer
writes no wall-clock creation time unless asked to. Every clip is written with the
same settings, so clips of one size and rate share SPS/PPS (extradata) and can be
concatenated by stream copy (see stitch.py).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterable, Iterator
from pathlib import Path

import av
import numpy as np

CRF = 23
PRESET = "veryfast"


@contextlib.contextmanager
def atomic_path(out: Path, suffix: str = ".mp4") -> Iterator[Path]:
    """Yield a temp path beside ``out``; on success it replaces ``out``, on error it is removed."""
    out.parent.mkdir(parents=True, exist_ok=True)
    # Not mkstemp: its 0600 mode would stick to the published file.
    tmp = out.with_name(f".{out.stem}.{os.getpid()}.{secrets.token_hex(4)}.tmp{suffix}")
    try:
        yield tmp
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def rgb_to_yuv420p(rgb: np.ndarray) -> np.ndarray:
    """RGB → planar YUV 4:2:0 (BT.601, limited range) in integer arithmetic.

    Done here rather than by libswscale because swscale picks SIMD or C paths by the input
    buffer's memory alignment, and those round differently: the same frame could encode to
    different bytes from one run to the next.
    """
    h, w, _ = rgb.shape
    c = rgb.astype(np.uint16)  # the luma sum stays below 2**16
    r, g, b = c[..., 0], c[..., 1], c[..., 2]
    y = (66 * r + 129 * g + 25 * b + 128) >> 8
    y += 16
    quad = (c[0::2, 0::2] + c[1::2, 0::2] + c[0::2, 1::2] + c[1::2, 1::2]).astype(np.int32)
    r2, g2, b2 = quad[..., 0], quad[..., 1], quad[..., 2]  # 4 × the 2×2 mean
    u = ((-38 * r2 - 74 * g2 + 112 * b2 + 512) >> 10) + 128
    v = ((112 * r2 - 94 * g2 - 18 * b2 + 512) >> 10) + 128
    out = np.empty(h * w * 3 // 2, np.uint8)  # every byte is written below
    out[: h * w] = y.ravel()  # 16..235: no clipping needed
    out[h * w : h * w * 5 // 4] = u.ravel()  # 16..240
    out[h * w * 5 // 4 :] = v.ravel()
    return out.reshape(h * 3 // 2, w)


def write_h264(
    frames: Iterable[np.ndarray], out: Path, *, fps: int, width: int, height: int
) -> None:
    """Encode RGB uint8 frames (height × width × 3) to an H.264 (yuv420p) MP4 at ``out``.

    libx264, CRF 23, preset veryfast, single thread (deterministic), first frame a
    keyframe, ``+faststart``. The file appears at ``out`` only when complete.
    Raises ValueError for odd or non-positive sizes, a bad fps, a frame of the wrong
    shape, or no frames at all.
    """
    if width <= 0 or height <= 0 or width % 2 or height % 2:
        raise ValueError(f"H.264 yuv420p needs positive even width/height, got {width}×{height}")
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    shape = (height, width, 3)
    with atomic_path(out) as tmp:
        count = 0
        with av.open(str(tmp), mode="w", format="mp4", options={"movflags": "+faststart"}) as box:
            stream = box.add_stream("libx264", rate=int(fps))
            stream.width = width
            stream.height = height
            stream.pix_fmt = "yuv420p"
            stream.codec_context.thread_count = 1
            # mbtree off: x264's macroblock-tree rate control was seen to read uninitialised
            # memory on AVX-512 machines, so identical frames gave different bytes depending
            # on what the process had done before (a resumed run differed from a fresh one).
            stream.options = {
                "crf": str(CRF),
                "preset": PRESET,
                "threads": "1",
                "x264-params": "mbtree=0",
            }
            for frame in frames:
                if frame.shape != shape or frame.dtype != np.uint8:
                    raise ValueError(
                        f"frame {count}: expected uint8 {shape}, got {frame.dtype} {frame.shape}"
                    )
                vf = av.VideoFrame.from_ndarray(rgb_to_yuv420p(frame), format="yuv420p")
                vf.pts = count
                box.mux(stream.encode(vf))
                count += 1
            if count == 0:
                raise ValueError("no frames to encode")
            box.mux(stream.encode(None))
