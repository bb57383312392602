"""The open speech models scenario B's GPU worker may narrate with, and their voices.

Checked on 2026-12-01. Tale needs one model that speaks Korean, English, Japanese and
Chinese, that ``transformers`` loads from a folder (``from_pretrained``), and whose licence
allows a paid service:

- **Bark** (``suno/bark-small``, ``suno/bark``; https://huggingface.co/suno/bark-small): MIT
  licence (commercial use allowed since 2023-05-01, https://pypi.org/project/bark/0.1.5/),
  13 languages including ko, en, ja and zh, ``BarkModel`` + ``BarkProcessor`` in transformers
  (``transformers.models.bark``), 24 kHz output, voice presets ``v2/<lang>_speaker_<0-9>``
  (``speaker_embeddings/`` in the repository). A generative text-to-audio model: it may drift
  from the text, so the worker seeds it per shot (the same line is read the same way again).
  **Chosen.** It needs a GPU: on the CPU, the bark-small architecture (405 M parameters, built
  from its config with random weights) took 1.2 s per semantic and coarse token on 2 cores —
  8 seconds of speech is about 400 semantic and 1,200 coarse tokens, i.e. half an hour — so it
  runs in the GPU worker, beside the video model, and never in a CPU function.
- MMS-TTS (``facebook/mms-tts-*``, VITS; small and fast on a CPU): CC-BY-NC 4.0 — no
  commercial use — and no Mandarin checkpoint (https://huggingface.co/facebook/mms-tts-eng/discussions/10).
  Rejected.
- SeamlessM4T v2 (speech out in ~35 languages): CC-BY-NC 4.0. Rejected.

Voices are the model's presets for the story's language; Tale names them without the ``v2/``
prefix (``ko_speaker_0``), which a submission's ``voice`` can carry.
"""

from __future__ import annotations

from dataclasses import dataclass

CHECKED = "2026-12-01"
SOURCE = "https://huggingface.co/suno/bark-small"
SETTING = "TALE_GPU_VOICE"
LANGUAGES = ("ko", "en", "ja", "zh")


@dataclass(frozen=True)
class SpeechModel:
    model_id: str
    repository: str
    licence: str
    sample_rate: int = 24_000
    speakers: int = 10
    """Presets per language: ``v2/<lang>_speaker_<0..speakers-1>``."""
    default_speaker: dict[str, int] | None = None
    """The narrator per language (default: speaker 0)."""

    def voices(self, language: str) -> tuple[str, ...]:
        """Tale's names of the presets for ``language``, the default first."""
        lang = language if language in LANGUAGES else "en"
        first = (self.default_speaker or {}).get(lang, 0)
        order = [first, *(n for n in range(self.speakers) if n != first)]
        return tuple(f"{lang}_speaker_{n}" for n in order)


def preset(voice: str) -> str:
    """The model's preset name for one of Tale's voice names (``ko_speaker_0`` →
    ``v2/ko_speaker_0``)."""
    return f"v2/{voice}"


MODELS: dict[str, SpeechModel] = {
    m.model_id: m
    for m in (
        SpeechModel("bark-small", "suno/bark-small", "MIT", default_speaker={"en": 6}),
        SpeechModel("bark", "suno/bark", "MIT", default_speaker={"en": 6}),
    )
}


def model(model_id: str) -> SpeechModel | None:
    return MODELS.get(model_id)


def voices(model_id: str, language: str) -> tuple[str, ...]:
    """The voices of ``model_id`` for ``language`` (Bark's small model's for an unknown id)."""
    return (MODELS.get(model_id) or MODELS["bark-small"]).voices(language)
