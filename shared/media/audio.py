"""PCM audio through PyAV's own FFmpeg: decoding to one format, filter chains, loudness, AAC.

Every signal here is float32 ``(channels, samples)`` at ``RATE``: mono (1 channel) or stereo
(2). FFmpeg's filters run in-process (``av.filter.Graph``), so the soundtrack needs no ffmpeg
binary, just as the video does not.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.filter
import numpy as np

RATE = 48_000
"""Sample rate of every soundtrack (what YouTube recommends for uploads)."""
_CHUNK = RATE  # samples per frame pushed through a filter graph or an encoder
DENORMAL_GUARD = np.float32(1e-9)
"""Added to what enters a filter (-180 dBFS): after exact silence, recursive filters (the
loudness meter's K-weighting, a limiter's envelope) decay into subnormal numbers, which the
CPU computes about a hundred times slower (seen: 0.62 s instead of 0.15 s to measure a
narrated minute)."""
_LAYOUTS = {1: "mono", 2: "stereo"}


def cores() -> int:
    """The cores this process may use (Cloud Functions gives a 4 GiB function two vCPUs)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def layout(channels: int) -> str:
    if channels not in _LAYOUTS:
        raise ValueError(f"mono or stereo only, got {channels} channels")
    return _LAYOUTS[channels]


def silence(samples: int, channels: int = 1) -> np.ndarray:
    return np.zeros((channels, max(0, samples)), np.float32)


def seconds_to_samples(seconds: float) -> int:
    return round(seconds * RATE)


def decode_audio(path: Path, channels: int | None = None) -> np.ndarray | None:
    """The first audio stream of ``path`` at ``RATE`` (``channels``: 1 or 2, default the
    stream's own, capped at 2), from the start of the file (a late first frame is preceded by
    silence); None when the file has no audio stream."""
    with av.open(str(path), options=_probe_options(path)) as box:
        if not box.streams.audio:
            return None
        stream = box.streams.audio[0]
        wanted = channels or min(2, max(1, stream.codec_context.channels or 1))
        resampler = av.AudioResampler(format="fltp", layout=layout(wanted), rate=RATE)
        chunks: list[np.ndarray] = []
        lead = 0
        for frame in box.decode(stream):
            if not chunks and frame.time:
                lead = max(0, seconds_to_samples(frame.time))
            chunks.extend(f.to_ndarray() for f in resampler.resample(frame))
        chunks.extend(f.to_ndarray() for f in resampler.resample(None))
    if not chunks:
        return silence(0, wanted)
    return np.concatenate([silence(lead, wanted), *chunks], axis=1).astype(np.float32)


def _probe_options(path: Path) -> dict[str, str]:
    """Opening options for ``path``: a WAV file's header says all there is to know, so its
    stream is not probed by decoding (FFmpeg's default read 5 MB of it: 7 ms a narration
    instead of 0.4 ms); other formats keep the default probing."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
    except OSError:
        return {}
    if head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        return {"probesize": "4096", "analyzeduration": "0"}
    return {}


def _frames(samples: np.ndarray) -> Iterator[av.AudioFrame]:
    name = layout(samples.shape[0])
    for start in range(0, samples.shape[1], _CHUNK):
        part = np.ascontiguousarray(samples[:, start : start + _CHUNK], dtype=np.float32)
        frame = av.AudioFrame.from_ndarray(part, format="fltp", layout=name)
        frame.sample_rate = RATE
        frame.pts = start
        frame.time_base = Fraction(1, RATE)
        yield frame


def run_filters(
    samples: np.ndarray, chain: Sequence[tuple[str, str]]
) -> tuple[np.ndarray, dict[str, str]]:
    """``samples`` through FFmpeg filters (``[("atempo", "1.2")]``), back at ``RATE`` with the
    same channels; with the metadata of the last output frame that carried any (``ebur128``
    puts its running measurements there)."""
    channels = samples.shape[0]
    name = layout(channels)
    graph = av.filter.Graph()
    nodes = [
        graph.add_abuffer(
            format="fltp", sample_rate=RATE, layout=name, time_base=Fraction(1, RATE)
        ),
        *(graph.add(filter_name, args) for filter_name, args in chain),
        graph.add("aformat", f"sample_fmts=fltp:sample_rates={RATE}:channel_layouts={name}"),
        graph.add("abuffersink"),
    ]
    graph.link_nodes(*nodes).configure()
    out: list[np.ndarray] = []
    meta: dict[str, str] = {}

    def drain() -> None:
        nonlocal meta
        while True:
            try:
                frame = graph.pull()
            except (av.BlockingIOError, av.EOFError):
                return
            assert isinstance(frame, av.AudioFrame)
            out.append(frame.to_ndarray())
            if frame.metadata:  # the frames flushed at the end may carry none
                meta = dict(frame.metadata)

    for frame in _frames(samples + DENORMAL_GUARD):
        graph.push(frame)
        drain()
    graph.push(None)
    drain()
    result = np.concatenate(out, axis=1) if out else silence(0, channels)
    return result.astype(np.float32, copy=False), meta


@dataclass(frozen=True)
class Loudness:
    """EBU R 128 / ITU-R BS.1770 measurements of a whole signal."""

    integrated: float
    """LUFS; -70 (the absolute gate) for silence."""
    true_peak: float
    """dBTP (the 4× oversampled peak); -inf for silence."""


def _sounding(samples: np.ndarray) -> np.ndarray:
    """``samples`` less the 100 ms units of the meter's block grid that lie more than 400 ms
    from any sound: every 400 ms block holding sound keeps all its units, and blocks of
    silence are gated out of the measurement anyway, so it does not change; it only costs
    less (a narrated minute is half silence)."""
    step = RATE // 10
    units = -(-samples.shape[1] // step)
    audible = np.zeros(units * step, bool)
    audible[: samples.shape[1]] = samples.any(axis=0)
    sound: np.ndarray = np.any(audible.reshape(units, step), axis=1)
    keep = sound.copy()
    for d in range(1, 5):
        keep[d:] |= sound[:-d]
        keep[:-d] |= sound[d:]
    if keep.all():
        return samples
    return samples[:, np.repeat(keep, step)[: samples.shape[1]]]


def measure(samples: np.ndarray) -> Loudness:
    """Integrated loudness and true peak, by FFmpeg's ``ebur128`` filter. Mono counts as
    dual mono (one channel heard from both speakers: 3 dB louder than one channel alone),
    as it is once written as the stereo track of the video."""
    if samples.shape[1] == 0 or not np.any(samples):
        return Loudness(-70.0, -math.inf)
    args = "metadata=1:peak=true" + (":dualmono=true" if samples.shape[0] == 1 else "")
    _, meta = run_filters(_sounding(samples), [("ebur128", args)])
    integrated = float(meta.get("lavfi.r128.I", "-70"))
    peak = float(meta.get("lavfi.r128.true_peak", "0"))
    return Loudness(
        integrated if math.isfinite(integrated) else -70.0,
        20 * math.log10(peak) if peak > 0 else -math.inf,
    )


def db(gain_db: float) -> float:
    """The linear factor of a gain in dB."""
    return float(10 ** (gain_db / 20))
