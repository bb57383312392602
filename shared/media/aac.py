"""AAC encoding of a soundtrack, split over the CPU's cores, silence not encoded.

FFmpeg's native AAC encoder runs on one core and was the most expensive step of the final
cut (about half its time). Two things make it cheaper without changing what is heard:

- Digital silence (between narrations, when no music or clip sound plays under them) is not
  run through the encoder: a frame of silence between frames of silence always encodes to
  the same six bytes, which are repeated there.
- What has sound is cut into contiguous spans, spread over the cores; each span is encoded
  by its own encoder in its own thread (PyAV releases the GIL while FFmpeg encodes) and the
  packets are spliced into one stream.

A narrated minute (8 shots, a third of it speech): 0.46 s with one encoder over everything,
0.31 s without the silence, 0.19 s on two cores (``bench/bench_stitch.py``'s inputs).

The same two facts let a narration be encoded on its own, ahead of the cut (``island``), and
placed later on a soundtrack that is silent around it (``splice``): see
``shared.media.narration``.

The splice is seamless because each encoder sees ``ROLL`` samples of real signal on either
side of its span: before it, so that the first packet kept is not the encoder's priming
frame and its psychoacoustic state has settled; after it, so that the last packet kept is
not a flush of zeros and its look-ahead (block switching) saw what follows. Packets are kept
by presentation time: span *k*'s encoder contributes exactly the packets whose 1024-sample
frame starts inside span *k*. An AAC frame's MDCT overlaps its neighbours, so the decoder
adds the last frame of one encoder to the first frame of the next; both encoded the same
signal there, and the error at a seam measures as the codec's own (``tests/unit/test_aac.py``:
a tone with noise, and clicks right at the seam that make the encoder switch to short
blocks; measured on narration too, at its loudest frame and its sharpest onset: the seam's
error was 0.95× and 1.01× a single encoder's).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from typing import TYPE_CHECKING, Any, NamedTuple

import av
import numpy as np

from shared.media.audio import DENORMAL_GUARD, RATE, cores

if TYPE_CHECKING:
    Packet = av.Packet[Any]  # generic in PyAV's stubs only

FRAME = 1024
"""Samples per AAC frame (AAC-LC)."""
ROLL = 4 * FRAME
"""Signal an encoder sees beyond each side of its span (85 ms at 48 kHz)."""
MIN_SPAN_S = 8.0
"""A soundtrack is split only into spans at least this long (the rolls cost 2 × 85 ms of
encoding each, and a thread's start is not free)."""
MAX_WORKERS = 4
BIT_RATE = 128_000
#: "fast": FFmpeg's documentation calls it better and much faster than the default at high
#: bit rates (a narrated minute here: 0.55 s, the default coder 1.31 s). No mid/side stereo:
#: its search costs a quarter more (0.44 s without it), and at 128 kb/s each channel has bits
#: enough without it. Turning off intensity stereo, PNS and TNS as well would save only 8 %
#: more (measured), not worth TNS's protection of speech onsets against pre-echo.
OPTIONS = {"aac_coder": "fast", "aac_ms": "0"}


def workers() -> int:
    """How many encoders run at once: the usable cores, at most ``MAX_WORKERS``."""
    return min(MAX_WORKERS, cores())


def spans(samples: int, parts: int) -> list[tuple[int, int]]:
    """``[start, stop)`` sample ranges covering ``samples``, at most ``parts`` of them, each at
    least ``MIN_SPAN_S`` long, every boundary on an AAC frame."""
    longest = int(samples // (MIN_SPAN_S * RATE))
    count = max(1, min(parts, longest))
    frames = -(-samples // FRAME)
    cuts = [round(frames * k / count) * FRAME for k in range(count)] + [samples]
    return [(cuts[k], cuts[k + 1]) for k in range(count) if cuts[k] < cuts[k + 1]]


def encoder() -> av.AudioCodecContext:
    """An AAC-LC encoder for stereo at ``RATE`` (the settings ``configure`` gives a stream)."""
    context = av.CodecContext.create("aac", "w")
    assert isinstance(context, av.AudioCodecContext)
    context.sample_rate = RATE
    context.layout = "stereo"
    context.format = "fltp"
    context.bit_rate = BIT_RATE
    context.options = dict(OPTIONS)
    context.open()
    return context


def configure(stream: av.AudioStream) -> None:
    """Give an output stream (``add_stream("aac", rate=RATE)``) the encoder's settings, so
    that the extradata the muxer writes describes the packets ``encode`` returns."""
    stream.layout = "stereo"
    stream.bit_rate = BIT_RATE
    stream.codec_context.options = dict(OPTIONS)


def encode(samples: np.ndarray, parts: int | None = None, *, whole: bool = False) -> list[Packet]:
    """Every AAC packet of ``samples`` (float32 (channels, samples) at ``RATE``; mono is
    written to both channels), in order, timestamps in ``1/RATE`` from 0 (the first packet
    is the priming frame, at -1024). ``parts``: how many encoders run at once at most
    (default: the cores).

    Stretches of digital silence (exact zeros: between narrations when there is no music
    nor clip sound) are not run through the encoder: every frame of silence encodes to the
    same few bytes (``silent_packet``), which are repeated there. Only the stretches with
    sound are encoded, each with ``ROLL`` of its surrounding silence, split further into
    spans of at least ``MIN_SPAN_S`` to keep every core busy. ``whole``: one encoder over
    everything instead (what FFmpeg alone writes; for comparisons).
    """
    total = samples.shape[1]
    if total == 0:
        return []
    tasks = [Task(0, total, -FRAME, total + FRAME)] if whole else plan(samples, parts or workers())
    if len(tasks) <= 1:
        pieces = [_encode(samples, *task) for task in tasks]
    else:
        with ThreadPoolExecutor(
            min(len(tasks), parts or workers()), thread_name_prefix="aac"
        ) as pool:
            pieces = list(pool.map(lambda task: _encode(samples, *task), tasks))
    return splice(total, [p for piece in pieces for p in piece])


def splice(total: int, packets: Sequence[Packet]) -> list[Packet]:
    """The whole stream of a soundtrack ``total`` samples long: ``packets`` (each presented
    at its pts, in samples, on the 1024-sample grid from -1024) where there are some, the
    packet of silence everywhere else."""
    found = {int(p.pts or 0): p for p in packets}
    last = (-(-total // FRAME) - 1) * FRAME
    whole = []
    for pts in range(-FRAME, last + FRAME, FRAME):
        packet = found.get(pts)
        if packet is None:
            packet = _silence(pts, FRAME)
        whole.append(packet)
    whole[-1].duration = total - last
    return whole


def island(sound: np.ndarray) -> tuple[list[bytes], int]:
    """``sound`` (a narration: mono or stereo at ``RATE``, silence before and after it)
    encoded on its own: the packets that carry it, and how many of them come before its
    first sample. Placed with its first sample on a frame boundary of a soundtrack that is
    silent around it (``splice``), they decode as an encoder running over the whole would
    have written them there: the encoder saw ``ROLL`` of silence on either side."""
    frames = -(-sound.shape[1] // FRAME)
    roll = ROLL // FRAME
    padded = np.zeros((sound.shape[0], (frames + 2 * roll) * FRAME), np.float32)
    padded[:, ROLL : ROLL + sound.shape[1]] = sound
    before = min(_BEFORE, roll)
    keep = ((roll - before) * FRAME, (roll + frames + _AFTER) * FRAME)
    packets = _encode(padded, 0, padded.shape[1], *keep)
    return [bytes(packet) for packet in packets], before


def _sounding_frames(samples: np.ndarray) -> np.ndarray:
    """Per AAC frame of the input (1024 samples, the last one padded), whether any sample
    is not exactly zero."""
    channels, total = samples.shape
    full = total // FRAME
    found: np.ndarray = np.any(
        samples[:, : full * FRAME].reshape(channels, full, FRAME), axis=(0, 2)
    )
    if full * FRAME < total:
        found = np.append(found, np.any(samples[:, full * FRAME :]))
    return found


#: Packets kept before and after a stretch of sound: the packet of frame *f* already holds
#: frame *f + 1*'s signal (its MDCT window spans both), and block switching starts a frame
#: before an onset and ends a frame after; one more frame on each side for margin.
_BEFORE, _AFTER = 3, 2


class Task(NamedTuple):
    """One encoder's work, in samples of the whole: it encodes ``[begin, end)`` and
    contributes the packets presented in ``[keep_from, keep_to)``."""

    begin: int
    end: int
    keep_from: int
    keep_to: int


def plan(samples: np.ndarray, parts: int) -> list[Task]:
    """The encoders ``encode`` runs for ``samples`` (stereo), at most ``parts`` at a time."""
    return _tasks(_sounding_frames(samples), samples.shape[1], parts)


def _tasks(sound: np.ndarray, total: int, parts: int) -> list[Task]:
    frames = sound.size
    gap = 2 * ROLL // FRAME + _BEFORE + _AFTER  # shorter silences are cheaper to encode
    stretches: list[list[int]] = []
    for f in np.flatnonzero(sound).tolist():
        lo, hi = max(-1, f - _BEFORE), min(frames, f + 1 + _AFTER)
        if stretches and lo - stretches[-1][1] < gap:
            stretches[-1][1] = hi
        else:
            stretches.append([lo, hi])
    if not stretches:
        return []
    tasks = []
    for lo, hi in stretches:
        if lo * FRAME <= ROLL:
            lo = -1  # near the start: this encoder's priming frame is the stream's
        count = len(spans((hi - max(lo, 0)) * FRAME, parts))
        cuts = [lo + round((hi - lo) * k / count) for k in range(count + 1)]
        for a, b in itertools.pairwise(cuts):
            keep_from, keep_to = a * FRAME, b * FRAME
            begin = max(0, keep_from - ROLL)
            end = min(total, keep_to + ROLL)
            tasks.append(Task(begin, end, keep_from, keep_to if end < total else total + FRAME))
    return tasks


@functools.cache
def silent_packet() -> bytes:
    """What the encoder writes for a frame of silence between frames of silence (a long
    window, every band zero): taken from the encoder itself, not written down."""
    silence = np.zeros((2, 8 * FRAME), np.float32)
    packets = _encode(silence, 0, silence.shape[1], 0, silence.shape[1])
    return bytes(packets[4])


def packet(data: bytes, pts: int, duration: int = FRAME) -> Packet:
    """An AAC packet of ``data`` presented at ``pts`` (samples)."""
    made = av.Packet(data)
    made.pts = made.dts = pts
    made.duration = duration
    made.time_base = Fraction(1, RATE)
    return made


def _silence(pts: int, duration: int) -> Packet:
    return packet(silent_packet(), pts, duration)


def _encode(
    samples: np.ndarray, begin: int, end: int, keep_from: int, keep_to: int
) -> list[Packet]:
    """Encode ``samples[:, begin:end]`` (mono is written to both channels) with a fresh
    encoder; the packets whose presentation time (in samples of the whole) lies in
    ``[keep_from, keep_to)``."""
    # the encoder's filters slow down on exact silence too
    span = np.broadcast_to(samples[:, begin:end], (2, end - begin)) + DENORMAL_GUARD
    context = encoder()
    packets: list[Packet] = []

    def take(found: list[Packet]) -> None:
        for packet in found:
            assert packet.pts is not None and packet.dts is not None
            packet.pts += begin
            packet.dts += begin
            if keep_from <= packet.pts < keep_to:
                packets.append(packet)

    for at in range(begin, end, RATE):
        part = np.ascontiguousarray(span[:, at - begin : min(end, at + RATE) - begin])
        frame = av.AudioFrame.from_ndarray(part, format="fltp", layout="stereo")
        frame.sample_rate = RATE
        frame.pts = at - begin
        frame.time_base = Fraction(1, RATE)
        take(context.encode(frame))
    take(context.encode(None))
    return packets
