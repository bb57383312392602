"""Narration from a Gemini speech model on Vertex AI (scenario A's voice).

One ``generateContent`` call per shot (``responseModalities: ["AUDIO"]``): the narration as
the part's text, read verbatim, a narrator's style in ``speech_metadata.style``, the voice in
``speechConfig.voiceConfig.voice`` (``tts_models``: the 3.8 request schema). No sampling
parameters are sent (the 3.8 models refuse them). The answer is audio inline: a WAV file
(16-bit PCM, 24 kHz, mono) from a unary call, or raw 16-bit PCM (``audio/L16;rate=24000``,
``audio/pcm``) — which is wrapped into a WAV here. The models are served in the ``global``
location, so the composition root gives this adapter a client for ``TALE_TTS_LOCATION``.

Usage: ``input_tokens`` and ``audio_tokens`` from the answer's ``usageMetadata`` (what Google
bills), plus ``characters`` and ``audio_seconds``.

Errors (``client.classify``): throttling (429), 5xx and timeouts are ``TransientError`` (the
SDK has retried them already; the delivery is retried later); a 400 or a refused text is
``PermanentError``; a model Vertex AI does not serve (404) is ``ModelUnavailable``, which names
``TALE_TTS_MODEL`` and alerts the operators. A retried call after a lost answer may be billed
twice; at well under a cent a line that is accepted (a paid video start is never retried).
"""

from __future__ import annotations

import io
import re
import wave

from google import genai
from google.genai import types

from shared.domain.errors import PermanentError
from shared.ports.voices import Speech, VoiceGenerator, default_first
from shared.providers.google import tts_models
from shared.providers.google.client import SDK_ERRORS, classify

__all__ = ["PROVIDER", "STYLE", "GeminiVoices", "pcm_to_wav"]

PROVIDER = "gemini-tts"
#: How the narrator reads (``speech_metadata.style``), whatever the language.
STYLE = "a warm, calm storyteller reading a picture book aloud, unhurried and clear"
SAMPLE_RATE = 24_000
_REFUSED = {
    types.FinishReason.SAFETY,
    types.FinishReason.PROHIBITED_CONTENT,
    types.FinishReason.BLOCKLIST,
    types.FinishReason.SPII,
}
_RATE = re.compile(r"rate=(\d+)")


class GeminiVoices(VoiceGenerator):
    provider = PROVIDER

    def __init__(
        self,
        client: genai.Client,
        model: str,
        *,
        defaults: dict[str, str] | None = None,
    ) -> None:
        """``defaults``: a default voice per language (settings), replacing the table's."""
        self.client = client
        self.model = model
        self.defaults = dict(defaults or {})

    def voices(self, language: str) -> tuple[str, ...]:
        return default_first(tts_models.voices(language), self.defaults.get(language))

    def synthesize(self, text: str, language: str, voice: str, *, tale_id: str = "") -> Speech:
        tts_models.constraints(self.model)  # an earlier or unknown model: ModelUnavailable
        offered = self.voices(language)
        chosen = voice or offered[0]
        if chosen not in offered:
            raise PermanentError(f"no voice {chosen!r} for {language}; offered: {offered}")
        config = types.GenerateContentConfig(
            response_modalities=["AUDIO"],
            speech_config=types.SpeechConfig(voice_config=types.VoiceConfig(voice=chosen)),
        )
        part = types.Part(text=text, speech_metadata=types.SpeechMetadata(style=STYLE))
        try:
            response = self.client.models.generate_content(
                model=self.model,
                contents=[types.Content(role="user", parts=[part])],
                config=config,
            )
        except SDK_ERRORS as exc:
            raise classify(
                exc, model=self.model, provider=PROVIDER, setting=tts_models.SETTING
            ) from exc
        wav = _wav_of(response)
        seconds = _seconds(wav)
        units: dict[str, float] = {"characters": float(len(text)), "audio_seconds": seconds}
        units.update(_tokens(response.usage_metadata))
        return Speech(wav, seconds, units)


def _wav_of(response: types.GenerateContentResponse) -> bytes:
    """The answer's audio as one mono WAV; ``PermanentError`` for a refusal or no audio."""
    feedback = response.prompt_feedback
    if feedback is not None and feedback.block_reason is not None:
        detail = feedback.block_reason_message or feedback.block_reason.value
        raise PermanentError(f"the speech model refused the narration: {detail}")
    pieces: list[tuple[str, bytes]] = []
    for candidate in response.candidates or []:
        for part in (candidate.content.parts or []) if candidate.content else []:
            if part.inline_data is not None and part.inline_data.data:
                pieces.append((part.inline_data.mime_type or "", part.inline_data.data))
        if not pieces and candidate.finish_reason in _REFUSED:
            detail = candidate.finish_message or candidate.finish_reason.value
            raise PermanentError(f"the speech model refused the narration: {detail}")
        if pieces:
            break
    if not pieces:
        raise PermanentError("the speech model returned no audio (no reason given)")
    if len(pieces) == 1 and _is_wav(*pieces[0]):
        return _checked_wav(pieces[0][1])
    frames, rate = b"", SAMPLE_RATE
    for mime, data in pieces:
        if _is_wav(mime, data):
            with wave.open(io.BytesIO(_checked_wav(data)), "rb") as w:
                frames += w.readframes(w.getnframes())
                rate = w.getframerate()
            continue
        if not mime.lower().startswith(("audio/l16", "audio/pcm")):
            raise PermanentError(f"the speech model answered {mime or 'unknown'} audio, not PCM")
        found = _RATE.search(mime)
        rate = int(found.group(1)) if found else SAMPLE_RATE
        frames += data
    return pcm_to_wav(frames, rate)


def _is_wav(mime: str, data: bytes) -> bool:
    return (data[:4] == b"RIFF" and data[8:12] == b"WAVE") or "wav" in mime.lower()


def _checked_wav(data: bytes) -> bytes:
    try:
        with wave.open(io.BytesIO(data), "rb") as w:
            if w.getsampwidth() != 2 or w.getnchannels() != 1:
                return pcm_to_wav(_mono16(w), w.getframerate())
    except (wave.Error, EOFError) as exc:
        raise PermanentError(f"the speech model returned an unreadable WAV ({exc})") from exc
    return data


def _mono16(w: wave.Wave_read) -> bytes:
    import numpy as np

    raw = w.readframes(w.getnframes())
    width, channels = w.getsampwidth(), w.getnchannels()
    if width == 1:
        samples = (np.frombuffer(raw, np.uint8).astype(np.int16) - 128) << 8
    elif width == 2:
        samples = np.frombuffer(raw, "<i2")
    else:
        samples = (np.frombuffer(raw, "<i4") >> 16).astype(np.int16)
    return bytes(samples.reshape(-1, channels).mean(axis=1).astype("<i2").tobytes())


def pcm_to_wav(pcm: bytes, rate: int = SAMPLE_RATE) -> bytes:
    """Raw signed 16-bit little-endian mono PCM as a WAV file."""
    if len(pcm) % 2:
        pcm = pcm[:-1]
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)
    return out.getvalue()


def _seconds(wav: bytes) -> float:
    with wave.open(io.BytesIO(wav), "rb") as w:
        frames, rate = w.getnframes(), w.getframerate()
    return frames / float(rate)


def _tokens(metadata: types.GenerateContentResponseUsageMetadata | None) -> dict[str, float]:
    """What Google bills: the text in, the audio out."""
    if metadata is None:
        return {}
    units: dict[str, float] = {}
    if metadata.prompt_token_count:
        units["input_tokens"] = float(metadata.prompt_token_count)
    if metadata.candidates_token_count:
        units["audio_tokens"] = float(metadata.candidates_token_count)
    return units
