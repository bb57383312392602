"""Wire and API models of Tale: pydantic v2, versioned, JSON on the wire.

Every model here has a generated JSON Schema under ``schemas/json``; regenerate them with
``python -m schemas.export`` (a test fails when they are stale).
"""

from schemas.events import (
    EVENT_TYPES,
    CharactersRequested,
    Event,
    NarrationRequested,
    ShotRendered,
    ShotRequested,
    StitchRequested,
    TaleFinished,
    TaleSubmitted,
)
from schemas.plan import Camera, Character, Scene, Shot, StoryPlan
from schemas.story import AspectRatio, Language, StoryOptions, StorySubmission, Style

__all__ = [
    "EVENT_TYPES",
    "AspectRatio",
    "Camera",
    "Character",
    "CharactersRequested",
    "Event",
    "Language",
    "NarrationRequested",
    "Scene",
    "Shot",
    "ShotRendered",
    "ShotRequested",
    "StitchRequested",
    "StoryOptions",
    "StoryPlan",
    "StorySubmission",
    "Style",
    "TaleFinished",
    "TaleSubmitted",
]
