"""espeak-ng: the embedded default's voice — a real formant synthesiser, a placeholder for a
speech model (robotic, but every word is there, in the story's language).

It speaks no slower than the reading budget (``shared.domain.reading``): a line that fits its
shot on paper fits it in sound. espeak-ng's own pace differs by language — its Mandarin voice
takes each character as a word, its Japanese voice reads kana only (``kana.to_kana``
rewrites a Japanese line as it is pronounced first) — so a line that comes out slower than
the budget is spoken again, faster, at the rate that matches it (up to
``MAX_WORDS_PER_MINUTE``)."""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

from shared.domain.errors import PermanentError
from shared.domain.reading import reading_seconds
from shared.ports.voices import Speech, VoiceGenerator, default_first
from shared.providers.offline.kana import to_kana

#: espeak-ng voices per language, default first (``espeak-ng --voices=<lang>`` lists more).
VOICES: dict[str, tuple[str, ...]] = {
    "en": ("en-us", "en-gb"),
    "ko": ("ko",),
    "ja": ("ja",),
    "zh": ("cmn", "yue"),
}
WORDS_PER_MINUTE = 165
#: The fastest rate a line is spoken at to keep to the reading budget (espeak-ng speeds up
#: past 450 words a minute with its sonic library).
MAX_WORDS_PER_MINUTE = 900


class EspeakVoices(VoiceGenerator):
    provider = "espeak-ng"
    model = "espeak-ng"
    placeholder = True

    def __init__(
        self,
        binary: str = "espeak-ng",
        timeout_s: float = 60.0,
        defaults: dict[str, str] | None = None,
    ) -> None:
        """``defaults``: a default voice per language (settings), replacing the table's."""
        self.binary = binary
        self.timeout_s = timeout_s
        self.defaults = dict(defaults or {})

    def voices(self, language: str) -> tuple[str, ...]:
        return default_first(VOICES.get(language, VOICES["en"]), self.defaults.get(language))

    def synthesize(self, text: str, language: str, voice: str, *, tale_id: str = "") -> Speech:
        offered = self.voices(language)
        chosen = voice or offered[0]
        if chosen not in offered:
            raise PermanentError(f"no voice {chosen!r} for {language}; offered: {offered}")
        exe = shutil.which(self.binary)
        if exe is None:
            raise RuntimeError(
                "espeak-ng is not installed (install.sh installs it: apt-get install espeak-ng)"
            )
        spoken = to_kana(text) if language == "ja" else text  # its Japanese voice reads kana
        data, seconds = self._speak(exe, chosen, spoken, WORDS_PER_MINUTE)
        budget = reading_seconds(text, language)
        if budget > 0 and seconds > budget:
            rate = min(MAX_WORDS_PER_MINUTE, int(WORDS_PER_MINUTE * seconds / budget * 1.05) + 1)
            data, seconds = self._speak(exe, chosen, spoken, rate)
        return Speech(data, seconds, {"characters": float(len(text)), "audio_seconds": seconds})

    def _speak(self, exe: str, voice: str, text: str, rate: int) -> tuple[bytes, float]:
        with tempfile.TemporaryDirectory(prefix="tale-voice-") as tmp:
            out = Path(tmp) / "speech.wav"
            subprocess.run(  # the text goes on stdin: never parsed as an option
                [exe, "-v", voice, "-s", str(rate), "-w", str(out), "--stdin"],
                input=text.encode("utf-8"),
                check=True,
                capture_output=True,
                timeout=self.timeout_s,
            )
            data = out.read_bytes()
        with wave.open(io.BytesIO(data)) as wav:
            return data, wav.getnframes() / float(wav.getframerate())
