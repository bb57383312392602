"""GeminiVoices through the real google-genai client, its HTTP layer answered as Vertex AI does.

The stand-in answers ``…/locations/global/publishers/google/models/<model>:generateContent``
with bodies shaped as documented for the Gemini 3.8 TTS models: the audio inline in
``candidates[].content.parts[].inlineData`` (``mimeType`` ``audio/wav`` for a unary call, or
the earlier models' raw ``audio/L16;codec=pcm;rate=24000``), ``usageMetadata`` with the
prompt's and the audio's token counts; errors as ``{"error": {"code", "message", "status"}}``.
"""

from __future__ import annotations

import base64
import io
import json
import wave
from collections.abc import Callable
from typing import Any

import httpx
import numpy as np
import pytest
from google.oauth2.credentials import Credentials

from shared.domain.errors import ModelUnavailable, PermanentError, TransientError
from shared.ports.voices import VoiceGenerator
from shared.providers.google import tts_models
from shared.providers.google.client import make_client
from shared.providers.google.voices import STYLE, GeminiVoices, pcm_to_wav

PROJECT = "tale-test"
MODEL = "gemini-3.8-flash-tts"
ENDPOINT = (
    f"https://aiplatform.googleapis.com/v1beta1/projects/{PROJECT}/locations/global"
    f"/publishers/google/models/{MODEL}:generateContent"
)


def tone(seconds: float, rate: int = 24_000) -> bytes:
    """Raw 16-bit mono PCM: a 220 Hz tone."""
    t = np.arange(int(seconds * rate)) / rate
    return (np.sin(2 * np.pi * 220 * t) * 8000).astype("<i2").tobytes()


def answer(data: bytes, mime: str = "audio/wav", *, usage: bool = True) -> httpx.Response:
    body: dict[str, Any] = {
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [
                        {"inlineData": {"mimeType": mime, "data": base64.b64encode(data).decode()}}
                    ],
                },
                "finishReason": "STOP",
            }
        ],
        "modelVersion": MODEL,
    }
    if usage:
        body["usageMetadata"] = {
            "promptTokenCount": 14,
            "candidatesTokenCount": 150,
            "totalTokenCount": 164,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 14}],
            "candidatesTokensDetails": [{"modality": "AUDIO", "tokenCount": 150}],
        }
    return httpx.Response(200, json=body)


def error(code: int, status: str, message: str = "try again") -> httpx.Response:
    return httpx.Response(
        code, json={"error": {"code": code, "message": message, "status": status}}
    )


class Vertex:
    """Answers from a script (the last step repeats) and records every request."""

    def __init__(self, *script: httpx.Response | Exception) -> None:
        self.script = list(script)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(step, Exception):
            raise step
        return step

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests]


def voices_for(
    fake: Callable[[httpx.Request], httpx.Response], model: str = MODEL, **kw: Any
) -> GeminiVoices:
    client = make_client(
        PROJECT,
        "global",
        retry_attempts=3,
        httpx_client=httpx.Client(transport=httpx.MockTransport(fake)),
        credentials=Credentials(token="test"),  # type: ignore[no-untyped-call]
        initial_delay_s=0.001,
        max_delay_s=0.002,
        jitter_s=0,
    )
    return GeminiVoices(client, model, **kw)


def decoded(wav: bytes) -> tuple[int, int, int, float]:
    with wave.open(io.BytesIO(wav), "rb") as w:
        return w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes() / 24_000


def test_is_a_voice_generator() -> None:
    assert isinstance(voices_for(Vertex(answer(b""))), VoiceGenerator)


def test_the_request_is_the_documented_single_speaker_call() -> None:
    fake = Vertex(answer(pcm_to_wav(tone(1.5))))
    voices_for(fake).synthesize("달이 뜬 밤, 토끼가 왔다.", "ko", "Kore", tale_id="t1")
    (request,) = fake.requests
    assert str(request.url) == ENDPOINT
    body = fake.bodies[0]
    assert body["contents"] == [
        {
            "role": "user",
            "parts": [{"text": "달이 뜬 밤, 토끼가 왔다.", "speechMetadata": {"style": STYLE}}],
        }
    ]
    config = body["generationConfig"]
    assert config == {
        "responseModalities": ["AUDIO"],
        "speechConfig": {"voiceConfig": {"voice": "Kore"}},
    }  # no temperature, topP or topK: the 3.8 models refuse them


def test_a_wav_answer_is_kept_and_its_usage_recorded() -> None:
    wav = pcm_to_wav(tone(2.0))
    speech = voices_for(Vertex(answer(wav))).synthesize("The moon rose.", "en", "")
    assert speech.wav == wav
    assert speech.seconds == pytest.approx(2.0)
    assert decoded(speech.wav)[:3] == (1, 2, 24_000)
    assert speech.units == {
        "characters": 14.0,
        "audio_seconds": pytest.approx(2.0),
        "input_tokens": 14.0,
        "audio_tokens": 150.0,
    }


@pytest.mark.parametrize("mime", ["audio/L16;codec=pcm;rate=24000", "audio/pcm;rate=24000"])
def test_raw_pcm_is_wrapped_into_a_wav(mime: str) -> None:
    pcm = tone(1.25)
    speech = voices_for(Vertex(answer(pcm, mime, usage=False))).synthesize("月が出た。", "ja", "")
    channels, width, rate, seconds = decoded(speech.wav)
    assert (channels, width, rate) == (1, 2, 24_000)
    assert seconds == pytest.approx(1.25)
    with wave.open(io.BytesIO(speech.wav), "rb") as w:
        assert w.readframes(w.getnframes()) == pcm
    assert "audio_tokens" not in speech.units


def test_the_pcm_sample_rate_comes_from_the_mime_type() -> None:
    speech = voices_for(Vertex(answer(tone(1.0, 16_000), "audio/L16;rate=16000"))).synthesize(
        "月亮出来了。", "zh", ""
    )
    with wave.open(io.BytesIO(speech.wav), "rb") as w:
        assert w.getframerate() == 16_000
    assert speech.seconds == pytest.approx(1.0)


def test_voices_are_the_tables_with_the_configured_default_first() -> None:
    voices = voices_for(Vertex(answer(b"")), defaults={"ko": "Kore"})
    assert voices.voices("ko")[0] == "Kore"
    assert voices.voices("en")[0] == "Sulafat"
    assert set(voices.voices("ja")) == set(tts_models.PREBUILT) == set(voices.voices("zh"))
    assert len(tts_models.PREBUILT) == 30


def test_an_unknown_voice_or_an_earlier_model_is_refused_before_any_call() -> None:
    fake = Vertex(answer(pcm_to_wav(tone(1.0))))
    with pytest.raises(PermanentError, match="no voice 'Nobody'"):
        voices_for(fake).synthesize("Hi.", "en", "Nobody")
    with pytest.raises(ModelUnavailable, match=r"earlier Gemini TTS.*TALE_TTS_MODEL"):
        voices_for(fake, "gemini-2.5-flash-preview-tts").synthesize("Hi.", "en", "")
    assert fake.requests == []


@pytest.mark.parametrize(
    ("response", "kind", "calls"),
    [
        (error(429, "RESOURCE_EXHAUSTED", "quota"), TransientError, 3),
        (error(503, "UNAVAILABLE"), TransientError, 3),
        (httpx.ReadTimeout("slow"), TransientError, 3),
        (error(400, "INVALID_ARGUMENT", "temperature is not supported"), PermanentError, 1),
    ],
    ids=["429", "503", "timeout", "400"],
)
def test_errors_after_the_sdks_retries(
    response: httpx.Response | Exception, kind: type[Exception], calls: int
) -> None:
    fake = Vertex(response)
    with pytest.raises(kind) as raised:
        voices_for(fake).synthesize("The moon rose.", "en", "")
    assert not isinstance(raised.value, ModelUnavailable)
    assert len(fake.requests) == calls


def test_a_model_vertex_does_not_serve_is_model_unavailable_for_the_operator() -> None:
    fake = Vertex(
        error(404, "NOT_FOUND", f"Publisher Model `{MODEL}` was not found or your project does")
    )
    with pytest.raises(ModelUnavailable, match="TALE_TTS_MODEL") as raised:
        voices_for(fake).synthesize("The moon rose.", "en", "")
    assert isinstance(raised.value, PermanentError)
    assert len(fake.requests) == 1


def test_a_transient_burst_is_retried_by_the_sdk() -> None:
    fake = Vertex(error(429, "RESOURCE_EXHAUSTED"), answer(pcm_to_wav(tone(1.0))))
    speech = voices_for(fake).synthesize("The moon rose.", "en", "")
    assert speech.seconds == pytest.approx(1.0)
    assert len(fake.requests) == 2


@pytest.mark.parametrize(
    "body",
    [
        {"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}},
        {"candidates": [{"content": {"role": "model", "parts": []}, "finishReason": "SAFETY"}]},
    ],
    ids=["blocked-prompt", "safety-finish"],
)
def test_a_refused_narration_is_permanent(body: dict[str, Any]) -> None:
    with pytest.raises(PermanentError, match="refused the narration"):
        voices_for(Vertex(httpx.Response(200, json=body))).synthesize("x", "en", "")


def test_an_answer_without_audio_is_permanent() -> None:
    body = {"candidates": [{"content": {"role": "model", "parts": [{"text": "no"}]}}]}
    with pytest.raises(PermanentError, match="no audio"):
        voices_for(Vertex(httpx.Response(200, json=body))).synthesize("x", "en", "")


def test_the_speech_table_is_dated_sourced_priced_and_the_default_is_current() -> None:
    from datetime import date

    from shared.config import Settings
    from shared.costs.prices import load_prices

    assert date.fromisoformat(tts_models.CHECKED) == date(2026, 12, 1)
    assert tts_models.SOURCE.startswith("https://")
    assert Settings().tts_model in tts_models.MODELS
    assert not set(tts_models.MODELS) & set(tts_models.EARLIER)
    assert all(new in tts_models.MODELS for _, new in tts_models.EARLIER.values())
    prices = load_prices()
    ids = {p.id for p in prices.prices}
    for model in tts_models.MODELS.values():
        assert {model.input_price_key, model.output_price_key} <= ids, model.model_id
        for unit in ("input_tokens", "audio_tokens", "characters", "audio_seconds"):
            assert prices.usd("gemini-tts", model.model_id, unit, 1) is not None


def test_tale_doctor_checks_the_speech_model_against_the_table() -> None:
    from shared.config import Settings
    from shared.providers.google.doctor import table_findings

    (ok,) = [f for f in table_findings(Settings()) if f.role == "voices"]
    assert ok.ok and ok.model == "gemini-3.8-flash-tts"
    earlier = Settings(tts_model="gemini-3.1-flash-tts-preview")
    (bad,) = [f for f in table_findings(earlier) if f.role == "voices"]
    assert not bad.ok and "shut down on 2026-12-18" in bad.detail
    assert "gemini-3.8-flash-lite-tts" in bad.detail
