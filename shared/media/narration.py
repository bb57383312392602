"""Narration prepared in the shot's own stage, so that the final cut only splices it.

Everything a shot's narration needs before the final cut depends on that shot alone: decoded
and trimmed, fitted into the shot (``soundtrack.fit``), brought to ``TARGET_LUFS`` with its
true peak under the ceiling (``soundtrack.normalise``), and encoded to AAC on its own with
silence around it (``aac.island``). ``narrate_shot`` does it when it voices the shot, beside
the other shots' stages; the stitcher then places each shot's packets on the soundtrack's
frame grid and fills the rest with the packet of silence (``aac.splice``): no decoding,
mixing, measuring or encoding left at the end, when the user is waiting for the video.

Each narration alone is at -14 LUFS, and narrations never overlap (each keeps inside its
shot, with silence between), so the whole soundtrack measures -14 LUFS too (the gated
blocks of the whole are the narrations' blocks), and its true peak is the highest of theirs.

This holds only for a soundtrack of narration and silence. With the clips' own sound (Veo
with audio) or music under the voice, or a clip shorter than the shot it was planned as,
the final cut mixes from the voices instead (``soundtrack.mix``).

A prepared narration is an M4A file (AAC, playable as it is) whose ``comment`` tag holds
what the stitcher needs (JSON): where the voice starts among the packets, how long it is,
its tempo and loudness.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import av
import numpy as np

from shared.media import aac
from shared.media.audio import RATE, Loudness, seconds_to_samples
from shared.media.encode import atomic_path
from shared.media.soundtrack import (
    LEAD_S,
    TAIL_S,
    Placement,
    Soundtrack,
    fit,
    normalise,
    speech,
)

if TYPE_CHECKING:
    Packet = av.Packet[Any]  # generic in PyAV's stubs only

FORMAT = "tale-narration/1"
_MARGIN_S = 0.4  # a loudness meter's block
SLACK_S = aac.FRAME / RATE
"""Room kept free in a shot: a narration starts on the first AAC frame boundary at or after
``LEAD_S`` into its shot, up to one frame (21 ms) later than a mixed one."""


@dataclass(frozen=True)
class Prepared:
    """One shot's narration, encoded and ready to splice."""

    samples: int
    """The voice's length at ``RATE`` (0: the voice was silent; nothing to place)."""
    before: int
    """Packets before the one whose frame starts with the voice's first sample."""
    tempo: float
    loudness: Loudness
    limited: bool
    packets: tuple[bytes, ...]


def room(shot_seconds: float) -> float:
    """How long a narration may last in a shot planned ``shot_seconds`` long."""
    return shot_seconds - LEAD_S - TAIL_S - SLACK_S


def prepare(voice: Path, shot_seconds: float, index: int, out: Path) -> Prepared:
    """Prepare shot ``index``'s voiced narration (any audio file) for a shot planned
    ``shot_seconds`` long and write it to ``out`` (atomic). Raises ``NarrationTooLong`` and
    ``NoAudio`` as the mixer does."""
    spoken = speech(voice, index)
    if spoken is None:
        prepared = Prepared(0, 0, 1.0, Loudness(-70.0, -math.inf), False, ())
    else:
        fitted, tempo = fit(spoken, room(shot_seconds), index)
        # measured with the silence it will have around it in the cut: the blocks of the
        # loudness meter that straddle its edges count as they will in the whole
        pad = seconds_to_samples(_MARGIN_S)
        levelled, loudness, limited = normalise(np.pad(fitted, ((0, 0), (pad, pad))))
        packets, before = aac.island(levelled[:, pad:-pad])
        prepared = Prepared(fitted.shape[1], before, tempo, loudness, limited, tuple(packets))
    _write(prepared, out)
    return prepared


def load(path: Path) -> Prepared:
    """A prepared narration written by ``prepare``. Raises ``ValueError`` for any other
    file (another format's version included)."""
    try:
        with av.open(str(path)) as box:
            meta = json.loads(box.metadata.get("comment", "{}"))
            packets = (
                tuple(bytes(p) for p in box.demux(box.streams.audio[0]) if p.size)
                if box.streams.audio
                else ()
            )
    except (av.FFmpegError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not a prepared narration ({exc})") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{path}: not a prepared narration in {FORMAT}")
    peak = meta["true_peak"]
    return Prepared(
        samples=int(meta["samples"]),
        before=int(meta["before"]),
        tempo=float(meta["tempo"]),
        loudness=Loudness(float(meta["integrated"]), -math.inf if peak is None else peak),
        limited=bool(meta["limited"]),
        packets=packets,
    )


def _write(prepared: Prepared, out: Path) -> None:
    meta = {
        "format": FORMAT,
        "samples": prepared.samples,
        "before": prepared.before,
        "tempo": prepared.tempo,
        "integrated": prepared.loudness.integrated,
        "true_peak": prepared.loudness.true_peak
        if math.isfinite(prepared.loudness.true_peak)
        else None,
        "limited": prepared.limited,
    }
    with atomic_path(out) as tmp, av.open(str(tmp), "w", format="mp4") as box:
        box.metadata["comment"] = json.dumps(meta)
        stream = box.add_stream("aac", rate=RATE)
        aac.configure(stream)
        box.start_encoding()  # the file is written even with no packet (a silent voice)
        for k, data in enumerate(prepared.packets):
            packet = aac.packet(data, k * aac.FRAME)
            packet.stream = stream
            box.mux(packet)


def splice(
    prepared: Sequence[Prepared | None],
    bounds: Sequence[tuple[float, float]],
    duration: float,
) -> tuple[Soundtrack, list[Packet]] | None:
    """The soundtrack of a cut ``duration`` seconds long whose shots lie at ``bounds``, each
    with its prepared narration (None: not voiced): every narration placed on the first
    frame boundary at or after ``LEAD_S`` into its shot, silence elsewhere. None when a
    narration does not fit the clip its shot got (a clip shorter than planned): then the
    mixer fits it from the voice."""
    total = seconds_to_samples(duration)
    placements: list[Placement | None] = []
    packets: list[Packet] = []
    taken = 0  # the first sample no packet placed so far presents
    for shot, (start, end) in zip(prepared, bounds, strict=True):
        if shot is None or shot.samples == 0:
            placements.append(None)
            continue
        at = -(-seconds_to_samples(start + LEAD_S) // aac.FRAME) * aac.FRAME
        first = at - shot.before * aac.FRAME
        if at + shot.samples > min(total, seconds_to_samples(end - TAIL_S)) or first < taken:
            return None
        packets += [aac.packet(data, first + k * aac.FRAME) for k, data in enumerate(shot.packets)]
        taken = first + len(shot.packets) * aac.FRAME
        placements.append(Placement(at / RATE, (at + shot.samples) / RATE, shot.tempo))
    voiced = [s for s in prepared if s is not None and s.samples]
    soundtrack = Soundtrack(
        samples=None,
        narration=tuple(placements),
        loudness=_together([s.loudness for s in voiced], [s.samples for s in voiced]),
        clips_with_audio=0,
        music=False,
        limited=any(s.limited for s in voiced),
    )
    return soundtrack, aac.splice(total, packets)


def _together(parts: Sequence[Loudness], lengths: Sequence[int]) -> Loudness:
    """The loudness of narrations that never overlap, each measured alone: their mean power
    weighted by length (the whole's gated blocks are theirs), and the highest true peak."""
    if not parts:
        return Loudness(-70.0, -math.inf)
    power = sum(n * 10 ** (p.integrated / 10) for p, n in zip(parts, lengths, strict=True))
    return Loudness(10 * math.log10(power / sum(lengths)), max(p.true_peak for p in parts))
