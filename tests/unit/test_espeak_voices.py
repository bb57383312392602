"""The embedded default's narrator: espeak-ng (a Debian package install.sh installs) speaks
Korean, English, Japanese and Chinese to a WAV that decodes, of the length it reports. A
missing espeak-ng skips these tests, and fails them under ``CI=true``."""

from __future__ import annotations

import io
import os
import shutil
import wave

import numpy as np
import pytest

from shared.domain.errors import PermanentError
from shared.ports.voices import VoiceGenerator
from shared.providers.offline.voices import VOICES, EspeakVoices
from tests.peers import missing_peer

LINES = {
    "ko": "보름달이 뜬 밤, 토끼가 떡을 찧었어요.",
    "en": "The fox ran home before the storm.",
    "ja": "月の夜、うさぎは餅をつきました。",
    "zh": "月亮升起来了，兔子在捣药。",
}


@pytest.fixture(scope="module")
def espeak() -> EspeakVoices:
    if shutil.which("espeak-ng") is None:
        reason = "espeak-ng is not installed (install.sh installs it: apt-get install espeak-ng)"
        missing_peer(reason)
    return EspeakVoices()


def samples(wav: bytes) -> tuple[int, int, np.ndarray]:
    with wave.open(io.BytesIO(wav), "rb") as w:
        assert w.getsampwidth() == 2
        data = np.frombuffer(w.readframes(w.getnframes()), "<i2")
        return w.getnchannels(), w.getframerate(), data


@pytest.mark.parametrize("language", sorted(LINES))
def test_each_language_is_spoken_to_a_decodable_wav(espeak: EspeakVoices, language: str) -> None:
    speech = espeak.synthesize(LINES[language], language, "")
    channels, rate, data = samples(speech.wav)
    assert channels == 1 and rate > 0
    assert speech.seconds == pytest.approx(len(data) / rate)
    assert 1.0 < speech.seconds < 10.0
    rms = float(np.sqrt(np.mean(data.astype(np.float64) ** 2)))
    assert rms > 300  # speech, not silence
    assert speech.units == {
        "characters": float(len(LINES[language])),
        "audio_seconds": pytest.approx(speech.seconds),
    }


def test_every_listed_voice_speaks_and_an_unknown_one_is_refused(espeak: EspeakVoices) -> None:
    assert isinstance(espeak, VoiceGenerator) and espeak.placeholder
    for language, voices in VOICES.items():
        for voice in voices:
            assert espeak.synthesize(LINES[language], language, voice).seconds > 0.5
    with pytest.raises(PermanentError, match="no voice 'Kore'"):
        espeak.synthesize("Hello.", "en", "Kore")


def test_text_is_never_read_as_an_option(espeak: EspeakVoices) -> None:
    speech = espeak.synthesize("--version -w /tmp/not-here.wav", "en", "")
    assert speech.seconds > 0.5 and not os.path.exists("/tmp/not-here.wav")
