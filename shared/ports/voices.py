"""Voice port: narration spoken in the story's language (text to speech).

Adapters are chosen like the other generators: Google's speech generation through
google-genai (scenario A), an open model on our own GPUs (scenario B), and espeak-ng in the
embedded default — a real synthesiser, labelled as a placeholder voice, not a model.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

NO_VOICE = "none"
"""The voice option that turns narration off: shots keep their own sound, or stay quiet."""


@dataclass(frozen=True)
class Speech:
    wav: bytes
    """Mono PCM WAV."""
    seconds: float
    units: dict[str, float] = field(default_factory=dict)
    """What the synthesis consumed (``characters``, ``audio_seconds``), for usage records."""


class VoiceGenerator(ABC):
    provider: str = "unknown"
    model: str = "unknown"
    #: True for a stand-in that is not a model (espeak-ng): labelled so wherever it shows.
    placeholder: bool = False
    #: True when the narration is voiced elsewhere (scenario B: by the GPU worker, which
    #: writes the voice where ``narrate_shot`` looks for it and asks for the shot again).
    deferred: bool = False

    @abstractmethod
    def voices(self, language: str) -> tuple[str, ...]:
        """The voices offered for ``language`` (``ko``, ``en``, ``ja``, ``zh``), default first."""

    @abstractmethod
    def synthesize(self, text: str, language: str, voice: str, *, tale_id: str = "") -> Speech:
        """Speak ``text``; ``voice`` is one of ``voices(language)`` (empty: the default).
        Raises ``PermanentError`` for text or a voice it cannot speak, ``TransientError``
        for a provider that may answer later."""


def default_first(voices: tuple[str, ...], first: str | None) -> tuple[str, ...]:
    """``voices`` with ``first`` moved to the front (the default), when it is one of them."""
    if first and first in voices:
        return (first, *(v for v in voices if v != first))
    return voices
