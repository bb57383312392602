"""Reading video facts and frames back with PyAV."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image


@dataclass(frozen=True)
class VideoInfo:
    """The first video stream of a file."""

    codec: str
    width: int
    height: int
    pix_fmt: str
    fps: Fraction
    frames: int
    duration: float
    profile: str | None
    extradata: bytes | None
    has_audio: bool = False
    """The file has an audio stream too (a video model's own sound)."""

    def copy_compatible(self, other: VideoInfo) -> bool:
        """True when packets of ``other`` can be muxed into a stream made from this one.

        Same codec, size, pixel format, frame rate, profile and extradata (SPS/PPS).
        """
        return (
            self.codec == other.codec
            and (self.width, self.height) == (other.width, other.height)
            and self.pix_fmt == other.pix_fmt
            and self.fps == other.fps
            and self.profile == other.profile
            and self.extradata == other.extradata
        )


#: Opening options for a file that is only demuxed: FFmpeg's probe does not decode a frame
#: (an H.264 frame at 720×1280: 3 of the 4 ms an open takes). What is lost is what only a
#: decoded frame tells: the pixel format is not known.
HEADERS_ONLY = {"skip_frame": "all"}


def _open_input(path: Path, options: dict[str, str] | None = None) -> av.container.InputContainer:
    if not Path(path).is_file():
        raise FileNotFoundError(f"no such video: {path}")
    return av.open(str(path), mode="r", options=options)


def probe(path: Path, *, pixels: bool = True) -> VideoInfo:
    """Facts about the first video stream; frames are counted by demuxing if not recorded.
    ``pixels=False``: no frame is decoded, and ``pix_fmt`` is ``""`` (what decides whether
    clips can be joined by stream copy is in their extradata, SPS and PPS, anyway).

    Raises FileNotFoundError for a missing file and ValueError for a file with no video.
    """
    with _open_input(path, None if pixels else HEADERS_ONLY) as box:
        if not box.streams.video:
            raise ValueError(f"{path}: no video stream")
        stream = box.streams.video[0]
        cc = stream.codec_context
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = Fraction(rate) if rate else Fraction(0)
        frames = int(stream.frames or 0)
        first: int | None = None
        end: int | None = None
        if not frames or not stream.duration:
            frames = 0
            for packet in box.demux(stream):
                if packet.pts is None:
                    continue
                frames += 1
                first = packet.pts if first is None else min(first, packet.pts)
                stop = packet.pts + (packet.duration or 0)
                end = stop if end is None else max(end, stop)
        tb = stream.time_base or Fraction(0)
        if stream.duration:
            duration = float(stream.duration * tb)
        elif first is not None and end is not None:
            duration = float((end - first) * tb)
        elif box.duration:
            duration = box.duration / av.time_base
        else:
            duration = float(frames / fps) if fps else 0.0
        extradata = cc.extradata
        return VideoInfo(
            codec=cc.name,
            width=cc.width,
            height=cc.height,
            pix_fmt=cc.pix_fmt or "",
            fps=fps,
            frames=frames,
            duration=float(duration),
            profile=cc.profile,
            extradata=bytes(extradata) if extradata else None,
            has_audio=bool(box.streams.audio),
        )


def frame_at(path: Path, seconds: float) -> Image.Image:
    """The RGB frame whose presentation time is nearest to ``seconds`` (decodes from start)."""
    with _open_input(path) as box:
        stream = box.streams.video[0]
        best: av.VideoFrame | None = None
        best_gap = float("inf")
        for frame in box.decode(stream):
            t = frame.time
            if t is None:
                continue
            gap = abs(t - seconds)
            if gap < best_gap:
                best, best_gap = frame, gap
            elif t > seconds:
                break  # frames come out in presentation order; past the target, gaps only grow
        if best is None:
            raise ValueError(f"{path}: no decodable video frame")
        image: Image.Image = best.to_image()  # type: ignore[no-untyped-call]
        return image.convert("RGB")
