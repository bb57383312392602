"""AAC encoding of a soundtrack, split over the CPU's cores.

FFmpeg's native AAC encoder runs on one core and is the most expensive step of the final cut
(about half its time). A soundtrack is cut into contiguous spans, one per core; each span is
encoded by its own encoder in its own thread (PyAV releases the GIL while FFmpeg encodes) and
the packets are spliced into one stream.

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

import os
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import av
import numpy as np

from shared.media.audio import DENORMAL_GUARD, RATE

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
    """The cores this process may use (Cloud Functions gives a 4 GiB function two vCPUs),
    at most ``MAX_WORKERS``."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(MAX_WORKERS, cores))


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


def encode(samples: np.ndarray, parts: int | None = None) -> list[Packet]:
    """Every AAC packet of ``samples`` (float32 (channels, samples) at ``RATE``; mono is
    written to both channels), in order, timestamps in ``1/RATE`` from 0 (the first packet
    is the priming frame, at -1024). ``parts``: how many encoders at most (default: the
    cores)."""
    if samples.shape[0] == 1:
        samples = np.repeat(samples, 2, axis=0)
    samples = samples + DENORMAL_GUARD  # the encoder's filters slow down on exact silence too
    ranges = spans(samples.shape[1], parts or workers())
    if len(ranges) == 1:
        return _encode(samples, 0, samples.shape[1], keep=(-FRAME, samples.shape[1]))
    with ThreadPoolExecutor(len(ranges), thread_name_prefix="aac") as pool:
        pieces = pool.map(lambda span: _span(samples, *span), ranges)
        return [packet for piece in pieces for packet in piece]


def _span(samples: np.ndarray, start: int, stop: int) -> list[Packet]:
    total = samples.shape[1]
    first = -FRAME if start == 0 else start  # the whole's priming frame belongs to span 0
    last = total if stop == total else stop  # and its flushed tail to the last span
    return _encode(samples, max(0, start - ROLL), min(total, stop + ROLL), keep=(first, last))


def _encode(samples: np.ndarray, begin: int, end: int, keep: tuple[int, int]) -> list[Packet]:
    """Encode ``samples[:, begin:end]`` with a fresh encoder; the packets whose presentation
    time (in samples of the whole) lies in ``[keep[0], keep[1])``, or from ``keep[0]`` on
    when ``end`` is the end of the whole."""
    context = encoder()
    tail = end == samples.shape[1]
    packets: list[Packet] = []

    def take(found: list[Packet]) -> None:
        for packet in found:
            assert packet.pts is not None and packet.dts is not None
            packet.pts += begin
            packet.dts += begin
            if packet.pts >= keep[0] and (tail or packet.pts < keep[1]):
                packets.append(packet)

    for at in range(begin, end, RATE):
        part = np.ascontiguousarray(samples[:, at : min(end, at + RATE)], dtype=np.float32)
        frame = av.AudioFrame.from_ndarray(part, format="fltp", layout="stereo")
        frame.sample_rate = RATE
        frame.pts = at - begin
        frame.time_base = Fraction(1, RATE)
        take(context.encode(frame))
    take(context.encode(None))
    return packets
