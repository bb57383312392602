"""The soundtrack of the final cut: narration per shot, the clips' own sound, optional music.

Per shot, the narration starts ``LEAD_S`` after the cut and must end ``TAIL_S`` before the
next one; speech that is longer is sped up (FFmpeg's ``atempo``, pitch kept) by at most
``MAX_TEMPO``, and beyond that the shot is refused (``NarrationTooLong``) rather than let its
voice run into the next shot. The video model's own audio (Veo with audio) stays where its
clip is and is ducked by ``DUCK_DB`` while narration plays, as is the music bed (an uploaded
track, looped to the length of the cut). The mix is brought to ``TARGET_LUFS`` integrated
with a true peak at most ``TRUE_PEAK_DB``: a measured linear gain, then, only when the peaks
would pass the ceiling, a look-ahead limiter and a second measurement to trim the gain.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from shared.media.audio import (
    RATE,
    Loudness,
    db,
    decode_audio,
    measure,
    run_filters,
    seconds_to_samples,
    silence,
)

MAX_TEMPO = 1.25
"""The most a narration is sped up to fit its shot (beyond it, speech sounds hurried)."""
LEAD_S = 0.15
TAIL_S = 0.15
DUCK_DB = -12.0
ATTACK_S = 0.08
RELEASE_S = 0.3
TARGET_LUFS = -14.0
"""What YouTube plays Shorts at; louder uploads are turned down, quieter ones are not raised."""
TRUE_PEAK_DB = -1.0
_LIMIT_DB = -2.0  # the limiter's sample-peak ceiling: room for inter-sample peaks and AAC
_PEAK_ROOM_DB = TRUE_PEAK_DB - 0.5  # the true peak a plain gain may reach (AAC adds a little)
VOICE_RMS_DB = -20.0  # every narration's speech level before the mix (shots sound alike)
VOICE_CREST_DB = 12.0  # its peaks limited to this far above that level (as voice-over is)
MUSIC_RMS_DB = -30.0  # the music bed, under the voice before ducking
_EDGE_S = 0.005  # fades at a clip's edges: no click at a cut


class NoAudio(ValueError):
    """A narration or music file with no audio stream."""


class NarrationTooLong(ValueError):
    """A shot's narration does not fit its shot even at ``MAX_TEMPO``."""

    def __init__(self, shot: int, seconds: float, room: float) -> None:
        super().__init__(
            f"shot {shot + 1}: its narration lasts {seconds:.2f} s, but the shot has room for "
            f"{room:.2f} s (up to {room * MAX_TEMPO:.2f} s sped up {MAX_TEMPO:g}×); "
            "shorten the shot's narration"
        )
        self.shot = shot
        self.seconds = seconds
        self.room = room


@dataclass(frozen=True)
class ShotAudio:
    """One shot of the final cut: where it is (seconds), its narration and its clip."""

    start: float
    end: float
    voice: Path | None = None
    clip: Path | None = None


@dataclass(frozen=True)
class Placement:
    """Where a shot's narration sounds in the final cut, and how much it was sped up."""

    start: float
    end: float
    tempo: float


@dataclass(frozen=True)
class Soundtrack:
    samples: np.ndarray | None
    """float32 (channels, samples) at ``RATE``: exactly the cut's length; None when it was
    spliced from narrations prepared ahead (``shared.media.narration``), never held whole."""
    narration: tuple[Placement | None, ...]
    loudness: Loudness
    """Of the whole (silence: -70 LUFS)."""
    clips_with_audio: int
    music: bool
    limited: bool
    """The peak limiter had to act."""


def mix(
    shots: Sequence[ShotAudio],
    duration: float,
    music: Path | None = None,
) -> Soundtrack:
    """The soundtrack of a cut ``duration`` seconds long made of ``shots`` (in order).

    Raises ``NarrationTooLong`` for a narration that cannot fit its shot, ``NoAudio`` for a
    narration or music file without audio.
    """
    speeches = [speech(s.voice, i) if s.voice else None for i, s in enumerate(shots)]
    total = seconds_to_samples(duration)
    clip_audio = [decode_audio(s.clip) if s.clip is not None else None for s in shots]
    music_audio = decode_audio(music) if music is not None else None
    if music is not None and music_audio is None:
        raise NoAudio("the music file has no audio")
    sources = [a for a in (*clip_audio, music_audio) if a is not None]
    channels = max((a.shape[0] for a in sources), default=1)
    voice = silence(total, channels)
    bed = silence(total, channels)
    placements: list[Placement | None] = []
    for index, shot in enumerate(shots):
        spoken_here = speeches[index]
        placement = (
            _place_voice(index, shot, spoken_here, voice) if spoken_here is not None else None
        )
        placements.append(placement)
        audio = clip_audio[index]
        if audio is not None:
            _add(bed, _edges(_fit_length(audio, shot.end - shot.start)), shot.start)
    if music_audio is not None and total:
        _add(bed, _music_bed(music_audio, total), 0.0)
    spoken = [p for p in placements if p is not None]
    if sources:  # a clip's own sound or music: under the voice
        voice += bed * _duck_gain(total, spoken)
    samples, loudness, limited = normalise(voice)
    return Soundtrack(
        samples=samples,
        narration=tuple(placements),
        loudness=loudness,
        clips_with_audio=sum(a is not None for a in clip_audio),
        music=music_audio is not None,
        limited=limited,
    )


def speech(voice: Path, index: int) -> np.ndarray | None:
    """Shot ``index``'s narration ready to place: mono, without the synthesiser's leading and
    trailing silence, at ``VOICE_RMS_DB`` with its peaks limited; None when it is silent.
    Raises ``NoAudio`` for a file without audio."""
    spoken = decode_audio(voice, channels=1)
    if spoken is None:
        raise NoAudio(f"shot {index + 1}: the narration file has no audio")
    spoken = _trim_silence(spoken)
    if spoken.shape[1] == 0:
        return None
    return _limit(_level(spoken, VOICE_RMS_DB), VOICE_RMS_DB + VOICE_CREST_DB)


def fit(speech: np.ndarray, room: float, index: int) -> tuple[np.ndarray, float]:
    """``speech`` made to last at most ``room`` seconds: as it is, or sped up by at most
    ``MAX_TEMPO``; with the tempo. Raises ``NarrationTooLong`` beyond that."""
    seconds = speech.shape[1] / RATE
    if seconds <= room:
        return speech, 1.0
    tempo = seconds / room if room > 0 else math.inf
    if tempo > MAX_TEMPO:
        raise NarrationTooLong(index, seconds, max(0.0, room))
    faster, _ = run_filters(speech, [("atempo", f"{tempo:.6f}")])
    return faster[:, : seconds_to_samples(room)], tempo


def _place_voice(index: int, shot: ShotAudio, speech: np.ndarray, track: np.ndarray) -> Placement:
    speech, tempo = fit(speech, (shot.end - shot.start) - LEAD_S - TAIL_S, index)
    start = shot.start + LEAD_S
    _add(track, np.broadcast_to(speech, (track.shape[0], speech.shape[1])), start)
    return Placement(start, start + speech.shape[1] / RATE, tempo)


def _add(track: np.ndarray, part: np.ndarray, at: float) -> None:
    start = seconds_to_samples(at)
    stop = min(track.shape[1], start + part.shape[1])
    if stop > start:
        track[:, start:stop] += part[:, : stop - start]


def _fit_length(audio: np.ndarray, seconds: float) -> np.ndarray:
    n = seconds_to_samples(seconds)
    if audio.shape[1] >= n:
        return audio[:, :n]
    return np.concatenate([audio, silence(n - audio.shape[1], audio.shape[0])], axis=1)


def _edges(audio: np.ndarray) -> np.ndarray:
    n = min(seconds_to_samples(_EDGE_S), audio.shape[1] // 2)
    if n:
        ramp = np.linspace(0.0, 1.0, n, dtype=np.float32)
        audio = audio.copy()
        audio[:, :n] *= ramp
        audio[:, -n:] *= ramp[::-1]
    return audio


def _trim_silence(speech: np.ndarray, floor_db: float = -50.0) -> np.ndarray:
    """Without the leading and trailing near-silence (synthesisers pad their output)."""
    level = np.abs(speech).max(axis=0) if speech.size else speech
    peak = float(level.max()) if level.size else 0.0
    if peak <= 0:
        return speech[:, :0]
    loud = np.flatnonzero(level > peak * db(floor_db))
    guard = seconds_to_samples(0.02)
    return speech[:, max(0, loud[0] - guard) : loud[-1] + guard + 1]


def _level(audio: np.ndarray, rms_db: float) -> np.ndarray:
    """``audio`` scaled so that its active part (20 ms windows within 40 dB of the loudest)
    has an RMS of ``rms_db`` dBFS."""
    window = seconds_to_samples(0.02)
    frames = audio.shape[1] // window
    if frames == 0:
        return audio
    power = (audio[:, : frames * window] ** 2).mean(axis=0).reshape(frames, window).mean(axis=1)
    active = power[power > power.max() * db(-40.0) ** 2]
    rms = math.sqrt(float(active.mean())) if active.size else 0.0
    return audio * np.float32(db(rms_db) / rms) if rms > 0 else audio


def _limit(audio: np.ndarray, ceiling_db: float) -> np.ndarray:
    """Peaks above ``ceiling_db`` dBFS held down by FFmpeg's look-ahead ``alimiter`` (5 ms
    attack, 50 ms release, delay compensated); the same length back."""
    if not audio.size or float(np.abs(audio).max()) <= db(ceiling_db):
        return audio
    args = f"limit={db(ceiling_db):.6f}:attack=5:release=50:level=0:latency=1"
    out, _ = run_filters(audio, [("alimiter", args)])
    return _fit_length(out, audio.shape[1] / RATE)


def _music_bed(music: np.ndarray, total: int) -> np.ndarray:
    """The track levelled, looped to ``total`` samples, faded in (1 s) and out (2 s)."""
    music = _level(music, MUSIC_RMS_DB)
    if music.shape[1] == 0:
        return silence(total, music.shape[0])
    reps = -(-total // music.shape[1])
    bed = np.tile(music, (1, reps))[:, :total].copy()
    fade_in, fade_out = min(total, RATE), min(total, 2 * RATE)
    bed[:, :fade_in] *= np.linspace(0.0, 1.0, fade_in, dtype=np.float32)
    bed[:, total - fade_out :] *= np.linspace(1.0, 0.0, fade_out, dtype=np.float32)
    return bed


def _duck_gain(total: int, spoken: Sequence[Placement]) -> np.ndarray:
    """1 where nobody speaks, ``DUCK_DB`` while narration plays, with linear ramps around."""
    gain = np.ones(total, np.float32)
    floor = db(DUCK_DB)
    attack, release = seconds_to_samples(ATTACK_S), seconds_to_samples(RELEASE_S)
    for p in spoken:
        s, e = seconds_to_samples(p.start), seconds_to_samples(p.end)
        lo, hi = max(0, s - attack), min(total, e + release)
        if hi <= lo:
            continue
        at = np.arange(lo, hi)
        ramp = np.interp(at, [s - attack, s, e, e + release], [1.0, floor, floor, 1.0])
        gain[lo:hi] = np.minimum(gain[lo:hi], ramp.astype(np.float32))
    return gain


def normalise(samples: np.ndarray) -> tuple[np.ndarray, Loudness, bool]:
    """``samples`` at ``TARGET_LUFS`` with true peaks at most ``TRUE_PEAK_DB``; with the
    result's loudness and whether the limiter acted. Silence stays silence.

    A linear gain when the peaks allow it (the narration's peaks are limited before the mix,
    so they usually do); otherwise gain and limiter, measured and corrected up to three times
    (limiting lowers the loudness a little).
    """
    before = measure(samples)
    if before.integrated <= -70.0:
        return samples, before, False
    gain = TARGET_LUFS - before.integrated
    if before.true_peak + gain <= _PEAK_ROOM_DB:
        out = samples * np.float32(db(gain))
        return out, Loudness(TARGET_LUFS, before.true_peak + gain), False
    out, now = samples, before
    for _ in range(3):
        out = _limit(samples * np.float32(db(gain)), _LIMIT_DB)
        now = measure(out)
        if abs(TARGET_LUFS - now.integrated) <= 0.2:
            break
        gain += TARGET_LUFS - now.integrated
    return out, now, True
