"""The final cut of a tale from local files: the clips stitched, the soundtrack mixed, the
captions timed and written into (or onto) the video.

The video is stream-copied when the clips allow (``stitch``) and stays copied whatever the
soundtrack and soft captions are; only burned-in captions re-encode it.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from shared.media.audio import cores
from shared.media.burn import burn
from shared.media.captions import Cue, shot_cues
from shared.media.mux import mux
from shared.media.soundtrack import LEAD_S, TAIL_S, ShotAudio, Soundtrack, mix, speech
from shared.media.stitch import StitchReport, stitch

CaptionMode = Literal["off", "soft", "burned"]


@dataclass(frozen=True)
class ShotInput:
    clip: Path
    narration: str = ""
    voice: Path | None = None
    """The voiced narration (WAV); None: nothing voiced (no text, or the voice is off)."""


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
) -> FinalCut:
    """Write ``out`` (MP4: H.264, AAC, and a mov_text track when captions are soft); ``work``
    is a scratch folder. Raises ``NarrationTooLong`` for a voice that cannot fit its shot."""
    video = work / "video.mp4"
    with ThreadPoolExecutor(cores(), thread_name_prefix="final-cut") as pool:
        # the video is remuxed while the narrations are decoded and levelled (all mostly in
        # FFmpeg, which releases the GIL)
        stitched = pool.submit(stitch, [s.clip for s in shots], video)
        voiced = [pool.submit(speech, s.voice, i) if s.voice else None for i, s in enumerate(shots)]
        speeches = [job.result() if job else None for job in voiced]
        report = stitched.result()
    soundtrack = mix(
        [
            ShotAudio(start, end, voice=s.voice, clip=s.clip if sounds else None)
            for s, (start, end), sounds in zip(shots, report.bounds, report.with_audio, strict=True)
        ],
        report.duration,
        music,
        speeches,
    )
    cues: list[Cue] = []
    for index, (shot, (start, end)) in enumerate(zip(shots, report.bounds, strict=True)):
        placed = soundtrack.narration[index]
        window = (placed.start, placed.end) if placed else (start + LEAD_S, end - TAIL_S)
        cues.extend(shot_cues(index, shot.narration, language, *window))
    if captions == "burned" and cues:
        burned = work / "burned.mp4"
        burn(video, cues, burned, font)
        video = burned
    mux(
        video,
        out,
        audio=soundtrack.samples,
        cues=cues if captions == "soft" else (),
        language=language,
    )
    return FinalCut(report, soundtrack, tuple(cues), captions)
