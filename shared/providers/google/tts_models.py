"""The Gemini speech models Tale's narrator may use on Vertex AI, and their voices.

Checked on 2026-12-01 against:
- https://docs.cloud.google.com/gemini-enterprise-agent-platform/models/text-to-speech/overview
  (the Gemini 3.8 TTS models speak through ``generateContent``; single speaker: the text in
  ``parts[].text``, an optional style in ``parts[].speech_metadata.style``, the voice in
  ``speechConfig.voiceConfig.voice``; served in the ``global`` location and the ``us`` and
  ``eu`` multi-regions);
- https://docs.cloud.google.com/gemini-enterprise-agent-platform/models/text-to-speech/migration-guide
  (the 3.8 request schema: style in ``speech_metadata``, no longer written into the text, which
  is read verbatim; ``temperature``/``topP``/``topK`` refused with ``INVALID_ARGUMENT``; the
  default output of a unary request is a complete WAV file — 16-bit PCM, 24 kHz, mono —
  where the earlier models answered raw 16-bit PCM at 24 kHz, ``audio/L16;codec=pcm;rate=24000``;
  a streamed answer is still raw PCM);
- https://docs.cloud.google.com/gemini-enterprise-agent-platform/models/gemini/3-8-flash-lite-tts
  (8,192 input tokens, 16,384 output tokens; 30 prebuilt voices; 101 languages — Flash TTS 130);
- https://github.com/gunpal5/Google_GenerativeAI/wiki/Speech-Generation (the 3.1 preview and
  the 2.5 preview TTS models are scheduled to shut down on 2026-12-18);
- prices: https://github.com/BerriAI/litellm/discussions/42776 (launch pricing to 2026-12-31:
  Flash TTS $0.50 per million text tokens and $9.00 per million audio tokens, Flash-Lite TTS
  $0.50 and $6.00; doubling on 2027-01-01) and https://vercel.com/ai-gateway/models/gemini-3.8-flash-lite-tts
  — see ``shared/costs/prices.json``.

Every prebuilt voice speaks every language the model speaks (the voices are not per
language); Tale offers the same 30 in Korean, English, Japanese and Chinese, with a narrator's
voice first: ``Sulafat`` ("warm").
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.domain.errors import ModelUnavailable

CHECKED = "2026-12-01"
SOURCE = (
    "https://docs.cloud.google.com/gemini-enterprise-agent-platform/models/text-to-speech/overview"
)
SETTING = "TALE_TTS_MODEL"
#: Where the 3.8 TTS models are served (also ``us`` and ``eu``): not in regional locations.
LOCATIONS = ("global", "us", "eu")

#: The 30 prebuilt voices, with the character the documentation gives each.
PREBUILT: dict[str, str] = {
    "Sulafat": "warm",
    "Achernar": "soft",
    "Vindemiatrix": "gentle",
    "Kore": "firm",
    "Charon": "informative",
    "Aoede": "breezy",
    "Leda": "youthful",
    "Puck": "upbeat",
    "Zephyr": "bright",
    "Fenrir": "excitable",
    "Orus": "firm",
    "Callirrhoe": "easy-going",
    "Autonoe": "bright",
    "Enceladus": "breathy",
    "Iapetus": "clear",
    "Umbriel": "easy-going",
    "Algieba": "smooth",
    "Despina": "smooth",
    "Erinome": "clear",
    "Algenib": "gravelly",
    "Rasalgethi": "informative",
    "Laomedeia": "upbeat",
    "Alnilam": "firm",
    "Schedar": "even",
    "Gacrux": "mature",
    "Pulcherrima": "forward",
    "Achird": "friendly",
    "Zubenelgenubi": "casual",
    "Sadachbia": "lively",
    "Sadaltager": "knowledgeable",
}

#: Voices offered per story language, default first.
VOICES: dict[str, tuple[str, ...]] = {
    language: tuple(PREBUILT) for language in ("ko", "en", "ja", "zh")
}


@dataclass(frozen=True)
class SpeechModel:
    model_id: str
    input_price_key: str
    """The text input row in ``shared/costs/prices.json``."""
    output_price_key: str
    """The audio output row."""
    languages: int
    max_input_tokens: int = 8_192
    max_output_tokens: int = 16_384


MODELS: dict[str, SpeechModel] = {
    m.model_id: m
    for m in (
        SpeechModel(
            "gemini-3.8-flash-tts", "gemini-3.8-flash-tts-input", "gemini-3.8-flash-tts-audio", 130
        ),
        SpeechModel(
            "gemini-3.8-flash-lite-tts",
            "gemini-3.8-flash-lite-tts-input",
            "gemini-3.8-flash-lite-tts-audio",
            101,
        ),
    )
}

#: Earlier Gemini TTS models: another request schema (style written into the text, raw PCM),
#: and the previews shut down on 2026-12-18. Tale speaks only the 3.8 schema.
EARLIER: dict[str, tuple[str, str]] = {
    "gemini-3.1-flash-tts-preview": ("2026-12-18", "gemini-3.8-flash-lite-tts"),
    "gemini-2.5-flash-preview-tts": ("2026-12-18", "gemini-3.8-flash-tts"),
    "gemini-2.5-pro-preview-tts": ("2026-12-18", "gemini-3.8-flash-tts"),
    "gemini-2.5-flash-tts": ("", "gemini-3.8-flash-tts"),
    "gemini-2.5-pro-tts": ("", "gemini-3.8-flash-tts"),
    "gemini-2.5-flash-lite-preview-tts": ("", "gemini-3.8-flash-lite-tts"),
}


def unknown_reason(model_id: str) -> str:
    """Why ``model_id`` cannot be the narrator: an earlier model, or unknown."""
    if model_id in EARLIER:
        shutdown, replacement = EARLIER[model_id]
        when = f", shut down on {shutdown}" if shutdown else ""
        return (
            f"speech model {model_id} uses the earlier Gemini TTS request schema{when}; "
            f"use {replacement} ({SETTING})"
        )
    names = ", ".join(sorted(MODELS))
    return f"unknown speech model {model_id!r}; known models: {names} ({SETTING})"


def constraints(model_id: str) -> SpeechModel:
    """The speech model's entry; ``ModelUnavailable`` for an earlier or unknown one."""
    try:
        return MODELS[model_id]
    except KeyError:
        raise ModelUnavailable(unknown_reason(model_id)) from None


def voices(language: str) -> tuple[str, ...]:
    return VOICES.get(language, VOICES["en"])
