"""Scenario B's narrator: the GPU worker voices each shot's narration (Bark, see
``tts_models``) in the tale's job, beside the video model, so no story text reaches a speech
service and no CPU function runs a model that needs a GPU. ``narrate_shot`` waits for the
worker's voice and records it; the voices offered are the model's presets."""

from __future__ import annotations

from shared.ports.voices import Speech, VoiceGenerator, default_first
from shared.providers.selfhosted import tts_models


class WorkerVoices(VoiceGenerator):
    provider = "self-hosted"
    deferred = True

    def __init__(self, model: str = "bark-small", defaults: dict[str, str] | None = None) -> None:
        self.model = model
        self.defaults = dict(defaults or {})

    def voices(self, language: str) -> tuple[str, ...]:
        return default_first(tts_models.voices(self.model, language), self.defaults.get(language))

    def synthesize(self, text: str, language: str, voice: str, *, tale_id: str = "") -> Speech:
        raise RuntimeError("scenario B voices narration in the GPU worker")
