"""The final cut of a tale from local files: the clips stitched, the soundtrack mixed, the
captions timed and written into (or onto) the video.

The video is stream-copied when the clips allow (``stitch``) and stays copied whatever the
soundtrack and soft captions are; only burned-in captions re-encode it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from shared.media.burn import burn
from shared.media.captions import Cue, shot_cues
from shared.media.mux import mux
from shared.media.narration import Prepared, load, splice
from shared.media.soundtrack import LEAD_S, TAIL_S, ShotAudio, Soundtrack, mix
from shared.media.stitch import StitchReport, stitch

if TYPE_CHECKING:
    import av

    Packet = av.Packet[Any]  # generic in PyAV's stubs only

CaptionMode = Literal["off", "soft", "burned"]


@dataclass(frozen=True)
class ShotInput:
    clip: Path
    narration: str = ""
    voice: Path | None = None
    """The voiced narration (WAV); None: nothing voiced (no text, or the voice is off)."""
    prepared: Path | None = None
    """The narration as ``narration.prepare`` left it for this shot, when it did."""


@dataclass(frozen=True)
class FinalCut:
    video: StitchReport
    """The stitched video (method, size, frames, the shots' bounds in the cut)."""
    soundtrack: Soundtrack
    cues: tuple[Cue, ...]
    captions: CaptionMode


def final_cut(
    shots: Sequence[ShotInput],
    out: Path,
    work: Path,
    *,
    language: str,
    captions: CaptionMode = "soft",
    music: Path | None = None,
    font: Path | None = None,
    fetch_voices: Callable[[], object] | None = None,
) -> FinalCut:
    """Write ``out`` (MP4: H.264, AAC, and a mov_text track when captions are soft); ``work``
    is a scratch folder. ``fetch_voices``: called once before the soundtrack is mixed from
    the voices, when the shots' ``voice`` files are not there yet (the stitch stage fetches
    them only when splicing the prepared narrations cannot do). Raises ``NarrationTooLong``
    for a voice that cannot fit its shot."""
    video = work / "video.mp4"
    report = stitch([s.clip for s in shots], video)
    spliced = _spliced(shots, report, music)
    if spliced is None and fetch_voices is not None:
        fetch_voices()
    soundtrack, audio = spliced or _mixed(shots, report, music)
    cues: list[Cue] = []
    for index, (shot, (start, end)) in enumerate(zip(shots, report.bounds, strict=True)):
        placed = soundtrack.narration[index]
        window = (placed.start, placed.end) if placed else (start + LEAD_S, end - TAIL_S)
        cues.extend(shot_cues(index, shot.narration, language, *window))
    if captions == "burned" and cues:
        burned = work / "burned.mp4"
        burn(video, cues, burned, font, language)
        video = burned
    mux(
        video,
        out,
        audio=audio,
        cues=cues if captions == "soft" else (),
        language=language,
    )
    return FinalCut(report, soundtrack, tuple(cues), captions)


def _spliced(
    shots: Sequence[ShotInput], report: StitchReport, music: Path | None
) -> tuple[Soundtrack, list[Packet]] | None:
    """The soundtrack spliced from the shots' prepared narrations, when it is narration and
    silence alone and every voice was prepared and fits the clip it got."""
    if music is not None or any(report.with_audio):
        return None
    prepared: list[Prepared | None] = []
    for shot in shots:
        if shot.voice is None:
            prepared.append(None)
        elif shot.prepared is None:
            return None
        else:
            try:
                prepared.append(load(shot.prepared))
            except ValueError:
                return None  # not readable as one (another version): mix from the voice
    return splice(prepared, report.bounds, report.duration)


def _mixed(
    shots: Sequence[ShotInput], report: StitchReport, music: Path | None
) -> tuple[Soundtrack, np.ndarray | None]:
    soundtrack = mix(
        [
            ShotAudio(start, end, voice=s.voice, clip=s.clip if sounds else None)
            for s, (start, end), sounds in zip(shots, report.bounds, report.with_audio, strict=True)
        ],
        report.duration,
        music,
    )
    return soundtrack, soundtrack.samples
