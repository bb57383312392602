"""The final MP4: a video stream copied as it is, the soundtrack in AAC, captions in mov_text.

The video's packets are remuxed untouched (never re-encoded for audio's sake). The soundtrack
is encoded by FFmpeg's native AAC encoder (``shared.media.aac``: stereo, 48 kHz, 128 kb/s, one
encoder per core; a mono mix is written to both channels) and the captions become a
``mov_text`` (3GPP timed text) track, the subtitle format MP4 players read. Packets of the
three streams are written interleaved by time, with ``+faststart``.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator, Sequence
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import av
import numpy as np

from shared.media import aac
from shared.media.audio import RATE
from shared.media.captions import Cue
from shared.media.encode import atomic_path
from shared.media.probe import HEADERS_ONLY

if TYPE_CHECKING:
    Packet = av.Packet[Any]  # generic in PyAV's stubs only

_MS = Fraction(1, 1000)
#: ISO 639-2 codes of the story languages (MP4 tracks carry their language).
ISO639_2 = {"ko": "kor", "en": "eng", "ja": "jpn", "zh": "zho"}
#: The 3GPP TextSampleEntry body (TS 26.245 §5.16): no display flags, centred at the bottom,
#: transparent background, default box, one style (font 1, 18 px, white) and a font table
#: naming font 1 "Sans-Serif".
_TX3G = (
    struct.pack(">IBB4B4HHHHBB4B", 0, 1, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 18, *[255] * 4)
    + struct.pack(">I4sHHB", 8 + 2 + 3 + 10, b"ftab", 1, 1, 10)
    + b"Sans-Serif"
)


def mux(
    video: Path,
    out: Path,
    *,
    audio: np.ndarray | Sequence[Packet] | None = None,
    cues: Sequence[Cue] = (),
    language: str = "",
) -> None:
    """Write ``out`` (atomic): the first video stream of ``video`` copied, ``audio`` (float32
    (channels, samples) at ``RATE``, or the AAC packets already made by ``aac.encode`` or
    ``aac.splice``) as AAC, ``cues`` as a mov_text track."""
    lang = ISO639_2.get(language, "und")
    with atomic_path(out) as tmp, av.open(str(video), options=HEADERS_ONLY) as src:
        ist = src.streams.video[0]
        with av.open(str(tmp), "w", format="mp4", options={"movflags": "+faststart"}) as dst:
            ost = dst.add_stream_from_template(ist)
            others: list[tuple[float, Packet]] = []
            if audio is not None:
                ast = dst.add_stream("aac", rate=RATE)
                aac.configure(ast)
                ast.metadata["language"] = lang
                packets = aac.encode(audio) if isinstance(audio, np.ndarray) else list(audio)
                for packet in packets:
                    packet.stream = ast
                others += _timed(packets)
            if cues:
                with _text_template() as template:
                    sst = dst.add_stream_from_template(template.streams.subtitles[0])
                sst.codec_context.extradata = _TX3G
                sst.time_base = _MS
                sst.metadata["language"] = lang
                others += _timed(_text(cues, sst))
            others.sort(key=lambda item: item[0])  # stable: audio before text at equal times
            done = 0
            for at, packet in _video(src, ist, ost):
                while done < len(others) and others[done][0] <= at:
                    dst.mux(others[done][1])
                    done += 1
                dst.mux(packet)
            for _, packet in others[done:]:
                dst.mux(packet)


def _video(
    src: av.container.InputContainer, ist: av.VideoStream, ost: av.VideoStream
) -> Iterator[tuple[float, Packet]]:
    if ist.time_base is None:
        raise ValueError(f"video stream {ist.index} has no time base")
    tb = float(ist.time_base)
    for packet in src.demux(ist):
        stamp = packet.dts if packet.dts is not None else packet.pts
        if stamp is None:
            continue  # the demuxer's final empty packet
        packet.stream = ost
        yield stamp * tb, packet


def _timed(packets: list[Packet]) -> list[tuple[float, Packet]]:
    timed = []
    for packet in packets:
        assert packet.time_base is not None and packet.dts is not None
        timed.append((packet.dts * float(packet.time_base), packet))
    return timed


def _text(cues: Sequence[Cue], stream: av.stream.Stream) -> list[Packet]:
    """One mov_text sample per cue (a 16-bit length, then UTF-8); the muxer fills the gaps
    between cues with empty samples."""
    packets = []
    for cue in sorted(cues, key=lambda c: c.start):
        body = cue.text.encode("utf-8")
        packet = av.Packet(struct.pack(">H", len(body)) + body)
        packet.pts = packet.dts = round(cue.start * 1000)
        packet.duration = max(1, round(cue.end * 1000) - packet.pts)
        packet.time_base = _MS
        packet.stream = stream
        packets.append(packet)
    return packets


def _text_template() -> av.container.InputContainer:
    """An input stream to copy a mov_text stream from: PyAV cannot open FFmpeg's mov_text
    encoder (it wants an ASS header), so the stream is templated from a tiny MP4 written in
    memory and given its sample description (``_TX3G``) by hand."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as box:
        stream = box.add_mux_stream("mov_text")
        stream.time_base = _MS
        packet = av.Packet(b"\x00\x00")
        packet.pts = packet.dts = 0
        packet.duration = 1
        packet.time_base = _MS
        packet.stream = stream
        box.mux(packet)
    buffer.seek(0)
    return av.open(buffer, "r")
