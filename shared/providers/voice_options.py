"""Which narrator voices the configured scenario offers, checked at submission.

A submission's ``options.voice`` must be one of the scenario's voices for the story's
language, empty (the language's default) or ``none`` (no narration) — refused otherwise with
``UnknownVoice`` (HTTP 422, CLI exit 2) before anything is paid. Each scenario's voices are a
static table beside its adapter (espeak-ng's, the Gemini speech models', the GPU worker's
Bark presets); this module only dispatches and imports the table it needs lazily, so the API
never builds a provider client (or loads its SDK) to list voices.

``GET /v1/estimate`` checks its ``voice`` the same way, before the story's language may be
known (``language`` None: it will be detected from the text): a voice offered for any story
language passes there, and the submission checks it against the detected language.
"""

from __future__ import annotations

from typing import get_args

from schemas.story import Language
from shared.config import Settings
from shared.domain.errors import UnknownVoice
from shared.ports.voices import NO_VOICE, default_first

__all__ = ["check_voice", "offered_voices"]


def offered_voices(settings: Settings, language: str) -> tuple[str, ...]:
    """The scenario's voices for ``language``, its default first (``TALE_VOICE_DEFAULTS``
    where it names one of them)."""
    if settings.scenario == "A":
        from shared.providers.google import tts_models

        table = tts_models.voices(language)
    elif settings.scenario == "B":
        from shared.providers.selfhosted import tts_models as worker_models

        table = worker_models.voices(settings.gpu_voice, language)
    else:
        from shared.providers.offline.voices import VOICES

        table = VOICES.get(language, VOICES["en"])
    return default_first(table, settings.voice_defaults.get(language))


def check_voice(settings: Settings, language: str | None, voice: str) -> None:
    """``UnknownVoice`` unless ``voice`` is empty, ``none`` or offered for ``language``
    (None: for any story language, each one's voices offered in turn)."""
    if not voice or voice == NO_VOICE:
        return
    if language is not None:
        offered = offered_voices(settings, language)
        named = language
    else:
        languages: tuple[str, ...] = get_args(Language)
        every = (v for lang in languages for v in offered_voices(settings, lang))
        offered, named = tuple(dict.fromkeys(every)), "/".join(languages)
    if voice not in offered:
        raise UnknownVoice(voice, named, offered)
