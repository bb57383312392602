"""Real audio files of a sine tone, for the music upload's tests: a WAV written with the
``wave`` module, and MP3, AAC (ADTS), M4A, Ogg/Opus, FLAC and WebM written by PyAV's own
encoders."""

from __future__ import annotations

import io
import wave
from typing import cast

import av
import numpy as np

#: The PyAV container and encoder of each format a test writes.
ENCODED = {
    "mp3": ("mp3", "libmp3lame"),
    "aac": ("adts", "aac"),
    "m4a": ("ipod", "aac"),
    "ogg": ("ogg", "libopus"),
    "flac": ("flac", "flac"),
    "webm": ("webm", "libopus"),
}


def tone(seconds: float, hz: float, rate: int) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def wav_tone(seconds: float, hz: float = 220.0, rate: int = 22_050, width: int = 2) -> bytes:
    """A mono WAV (``width`` bytes a sample: 1 is 8-bit, for long files that stay small)."""
    samples = tone(seconds, hz, rate)
    if width == 1:
        pcm = ((samples * 127) + 128).astype(np.uint8).tobytes()
    else:
        pcm = (samples * 32767).astype("<i2").tobytes()
    out = io.BytesIO()
    with wave.open(out, "wb") as track:
        track.setnchannels(1)
        track.setsampwidth(width)
        track.setframerate(rate)
        track.writeframes(pcm)
    return out.getvalue()


def encoded_tone(kind: str, seconds: float, hz: float = 220.0, layout: str = "stereo") -> bytes:
    """A tone as ``kind`` (a key of ``ENCODED``), encoded by PyAV."""
    container, codec = ENCODED[kind]
    rate = 48_000 if codec == "libopus" else 44_100
    channels = 2 if layout == "stereo" else 1
    data = np.tile(tone(seconds, hz, rate), (channels, 1))
    out = io.BytesIO()
    with av.open(out, "w", format=container) as box:
        stream = cast(av.AudioStream, box.add_stream(codec, rate=rate))
        stream.layout = layout
        for start in range(0, data.shape[1], 1024):
            part = np.ascontiguousarray(data[:, start : start + 1024])
            frame = av.AudioFrame.from_ndarray(part, format="fltp", layout=layout)
            frame.sample_rate = rate
            frame.pts = start
            for packet in stream.encode(frame):
                box.mux(packet)
        for packet in stream.encode(None):
            box.mux(packet)
    return out.getvalue()
