"""Concatenating shot clips into one MP4: stream copy when possible, re-encode otherwise.

Clips written by encode.write_h264 with one size and rate share codec parameters, so
their packets can be remuxed into one stream without touching pixels ("copy"). Any
mismatch (size, rate, profile, SPS/PPS) falls back to decoding everything and
encoding once at the first clip's size and rate ("reencode").
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av
import numpy as np

from shared.media.encode import atomic_path, write_h264
from shared.media.probe import HEADERS_ONLY, VideoInfo, probe


@dataclass(frozen=True)
class StitchReport:
    """How the output was made and what it holds (probed from the written file)."""

    method: Literal["copy", "reencode"]
    clips: int
    frames: int
    duration: float
    width: int
    height: int
    bounds: tuple[tuple[float, float], ...] = ()
    """Where each clip starts and ends in the output (seconds): the shot boundaries of the cut."""
    with_audio: tuple[bool, ...] = ()
    """Which clips have their own audio (not copied here: the soundtrack mixes it)."""


def stitch(clips: Sequence[Path], out: Path) -> StitchReport:
    """Concatenate ``clips`` in order into ``out`` (atomic; H.264 MP4, +faststart).

    Raises ValueError for an empty list and FileNotFoundError for a missing clip.
    """
    if not clips:
        raise ValueError("stitch needs at least one clip")
    paths = [Path(c) for c in clips]
    for p in paths:
        if not p.is_file():
            raise FileNotFoundError(f"clip not found: {p}")
    # no frame decoded to probe: SPS and PPS (extradata) say whether the clips can be joined;
    # only a codec without extradata needs a decoded frame's pixel format
    infos = [probe(p, pixels=False) for p in paths]
    if any(i.extradata is None for i in infos):
        infos = [probe(p) for p in paths]
    method: Literal["copy", "reencode"]
    if all(infos[0].copy_compatible(i) for i in infos[1:]):
        method = "copy"
        cuts = _copy(paths, out)
    else:
        method = "reencode"
        cuts = _reencode(paths, infos, out)
    done = probe(out, pixels=False)
    bounds = tuple(itertools.pairwise(cuts))
    return StitchReport(
        method,
        len(paths),
        done.frames,
        done.duration,
        done.width,
        done.height,
        bounds,
        tuple(i.has_audio for i in infos),
    )


def _copy(paths: list[Path], out: Path) -> list[float]:
    """Remux every clip's packets into one stream, shifting timestamps clip by clip; returns
    the cut points (seconds: 0, the end of each clip).

    Timestamps are carried in the first clip's time base; each clip is shifted so its
    start lands where the previous one ended (max pts + duration), which keeps pts and
    dts increasing across boundaries even with B-frames (negative leading dts).
    """
    cuts = [0.0]
    with atomic_path(out) as tmp, av.open(str(paths[0]), options=HEADERS_ONLY) as first:
        template = first.streams.video[0]
        ref_tb = _time_base(template)
        with av.open(str(tmp), "w", format="mp4", options={"movflags": "+faststart"}) as dst:
            ost = dst.add_stream_from_template(template)
            offset = 0
            for path in paths:
                offset = _append(path, dst, ost, ref_tb, offset)
                cuts.append(float(offset * ref_tb))
    return cuts


def _time_base(stream: av.VideoStream) -> Fraction:
    if stream.time_base is None:
        raise ValueError(f"video stream {stream.index} has no time base")
    return stream.time_base


def _append(
    path: Path,
    dst: av.container.OutputContainer,
    ost: av.VideoStream,
    ref_tb: Fraction,
    offset: int,
) -> int:
    """Mux one clip's packets at ``offset`` (in ``ref_tb``); returns the offset after it."""

    def to_ref(value: int, tb: Fraction) -> int:
        return value if tb == ref_tb else round(value * tb / ref_tb)

    with av.open(str(path), options=HEADERS_ONLY) as src:
        ist = src.streams.video[0]
        tb = _time_base(ist)
        start = to_ref(ist.start_time, tb) if ist.start_time is not None else None
        end = offset
        for packet in src.demux(ist):
            if packet.pts is None:
                continue
            pts = to_ref(packet.pts, tb)
            if start is None:
                start = pts
            shift = offset - start
            dts = to_ref(packet.dts, tb) if packet.dts is not None else pts
            dur = to_ref(packet.duration or 0, tb)
            packet.pts, packet.dts = pts + shift, dts + shift
            packet.duration = dur
            packet.time_base = ref_tb
            packet.stream = ost
            dst.mux(packet)
            end = max(end, pts + shift + dur)
        return end


def _reencode(paths: list[Path], infos: list[VideoInfo], out: Path) -> list[float]:
    first = infos[0]
    width, height = first.width // 2 * 2, first.height // 2 * 2
    fps = max(1, round(float(first.fps))) if first.fps else 24
    cuts, frames_so_far = [0.0], 0
    for info in infos:
        frames_so_far += max(1, round(info.duration * fps))  # as _resampled yields
        cuts.append(frames_so_far / fps)

    def frames() -> Iterator[np.ndarray]:
        for path, info in zip(paths, infos, strict=True):
            yield from _resampled(path, info, fps, width, height)

    write_h264(frames(), out, fps=fps, width=width, height=height)
    return cuts


def _fit(frame: av.VideoFrame, width: int, height: int) -> np.ndarray:
    """RGB array of ``frame`` scaled to fit width × height, letterboxed in black."""
    if (frame.width, frame.height) == (width, height):
        return frame.to_ndarray(format="rgb24")
    scale = min(width / frame.width, height / frame.height)
    sw, sh = max(1, round(frame.width * scale)), max(1, round(frame.height * scale))
    small = frame.reformat(width=sw, height=sh, format="rgb24").to_ndarray()
    canvas = np.zeros((height, width, 3), np.uint8)
    y0, x0 = (height - sh) // 2, (width - sw) // 2
    canvas[y0 : y0 + sh, x0 : x0 + sw] = small
    return canvas


def _resampled(
    path: Path, info: VideoInfo, fps: int, width: int, height: int
) -> Iterator[np.ndarray]:
    """round(duration × fps) frames of one clip; output time k/fps takes the nearest input frame."""
    n_out = max(1, round(info.duration * fps))
    k = 0
    prev: np.ndarray | None = None
    prev_t = 0.0
    with av.open(str(path)) as box:
        start: float | None = None
        for frame in box.decode(box.streams.video[0]):
            t = frame.time if frame.time is not None else prev_t
            if start is None:
                start = t
            rel = t - start
            current = _fit(frame, width, height)
            if prev is None:
                prev, prev_t = current, rel
                continue
            midpoint = (prev_t + rel) / 2
            while k < n_out and k / fps < midpoint:
                yield prev
                k += 1
            prev, prev_t = current, rel
    while k < n_out and prev is not None:
        yield prev
        k += 1
