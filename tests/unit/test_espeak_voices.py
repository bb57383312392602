"""The embedded default's narrator: espeak-ng (a Debian package install.sh installs) speaks
Korean, English, Japanese and Chinese to a WAV that decodes, of the length it reports. A
missing espeak-ng skips these tests, and fails them under ``CI=true``."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import wave

import numpy as np
import pytest

from shared.domain.errors import PermanentError
from shared.ports.voices import VoiceGenerator
from shared.providers.offline.kana import to_kana
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


def test_japanese_kanji_are_read_as_they_are_pronounced(espeak: EspeakVoices) -> None:
    """espeak-ng's Japanese voice reads kana only: for 「月」 it says "Chinese letter" in
    English. The line is rewritten in kana first (Janome), so every word is Japanese speech."""
    assert to_kana("月の兎は森で暮らした。Moonです、2026年") == (
        "ツキノウサギワモリデクラシタ。Moonデス、2026ネン"
    )
    assert to_kana("The fox ran home.") == "The fox ran home."

    def phonemes(text: str) -> str:
        exe = shutil.which("espeak-ng")
        assert exe is not None
        done = subprocess.run(
            [exe, "-v", "ja", "-q", "-x", "--stdin"], input=text.encode(), capture_output=True
        )
        return done.stdout.decode()

    assert "(en)" in phonemes(LINES["ja"])  # as it was: kanji named in English
    assert "(en)" not in phonemes(to_kana(LINES["ja"]))
    with_kanji = espeak.synthesize("森の奥で静かに暮らしていました。", "ja", "")
    in_kana = espeak.synthesize("モリノオクデシズカニクラシテイマシタ。", "ja", "")
    assert with_kanji.seconds == pytest.approx(in_kana.seconds, rel=0.1)
