"""The narrator of scenario B: Bark (``transformers``' ``BarkModel`` + ``BarkProcessor``)
loaded once per task from a local folder laid out as ``suno/bark-small`` is — ``config.json``,
``generation_config.json``, the weights, the tokenizer, and ``speaker_embeddings_path.json``
with the voice presets under ``speaker_embeddings/`` — nothing fetched from a hub.

fp16 on CUDA, fp32 on the CPU (the tests run a tiny random Bark there; the real model needs
a GPU: ``shared.providers.selfhosted.tts_models``). Each line is generated with a seed of its
own (tale, shot, revision), so a retried task reads it the same way, and comes back as a mono
16-bit WAV at the model's rate (24 kHz).
"""

from __future__ import annotations

import io
import logging
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from shared.domain.errors import PermanentError

__all__ = ["BarkSpeech", "SpeechPipeline", "Spoken", "load_speech_pipeline", "to_wav"]

log = logging.getLogger(__name__)

#: Bark's semantic tokens per second of speech (its generation config's ``semantic_rate_hz``).
SEMANTIC_RATE_HZ = 49.9


@dataclass(frozen=True)
class Spoken:
    wav: bytes
    seconds: float


class SpeechPipeline(Protocol):
    name: str

    def speak(self, text: str, preset: str, seed: int, max_seconds: float) -> Spoken: ...


@dataclass
class BarkSpeech:
    name: str
    """The model's name for usage and audit records (the weights folder's name)."""
    model: Any
    processor: Any
    device: str
    sample_rate: int

    @property
    def presets(self) -> tuple[str, ...]:
        embeddings = getattr(self.processor, "speaker_embeddings", None) or {}
        return tuple(k for k in embeddings if k != "repo_or_path")

    def speak(self, text: str, preset: str, seed: int, max_seconds: float) -> Spoken:
        """``text`` read in the voice ``preset`` (``v2/ko_speaker_0``), at most about
        ``max_seconds`` long: Bark's semantic tokens (about 50 a second of speech) are capped
        there, so a line that rambles is cut instead of running on for its 14-second span."""
        import torch

        if preset not in self.presets:
            raise PermanentError(f"{self.name} has no voice preset {preset!r}")
        inputs = self.processor(text, voice_preset=preset, return_tensors="pt")
        inputs = inputs.to(self.device)
        semantic = self.model.generation_config.semantic_config
        rate = float(semantic.get("semantic_rate_hz", SEMANTIC_RATE_HZ))
        torch.manual_seed(seed)
        with torch.inference_mode():
            audio = self.model.generate(
                **inputs, do_sample=True, semantic_max_new_tokens=max(1, int(max_seconds * rate))
            )
        samples = audio[0].float().cpu().numpy()
        return Spoken(to_wav(samples, self.sample_rate), len(samples) / self.sample_rate)


def load_speech_pipeline(path: Path, device: str) -> BarkSpeech:
    """Bark from ``path`` (a local folder) on ``device``."""
    import torch
    from transformers import BarkModel, BarkProcessor

    dtype = torch.float16 if device.startswith("cuda") else torch.float32
    processor = BarkProcessor.from_pretrained(str(path))
    model = BarkModel.from_pretrained(str(path), dtype=dtype).to(device).eval()
    rate = int(getattr(model.generation_config, "sample_rate", 24_000))
    log.info("speech model %s loaded on %s (%s)", path.name, device, dtype)
    return BarkSpeech(path.name, model, processor, device, rate)


def to_wav(samples: np.ndarray, rate: int) -> bytes:
    """Float samples in [-1, 1] as a mono 16-bit WAV (clipped, never wrapped around)."""
    pcm = (np.clip(np.nan_to_num(samples), -1.0, 1.0) * 32767).astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return out.getvalue()
