"""What each Veo model on Vertex AI accepts, checked before any paid call.

Checked on 2026-12-01 against:
- https://docs.cloud.google.com/vertex-ai/generative-ai/docs/models/veo/3-1-generate (the Veo
  3.1 model page: ``veo-3.1-generate-001`` and ``veo-3.1-fast-generate-001``; 16:9 and 9:16
  — "9:16, except for reference image to video"; 720p and 1080p; 4, 6 or 8 s — "reference
  image to video only supports 8 seconds"; 50 requests a minute a project);
- https://docs.cloud.google.com/gemini-enterprise-agent-platform/models/model-versions (the
  retirement table: both 3.1 models have no retirement date announced; ``veo-3.0-generate-001``,
  ``veo-3.0-fast-generate-001`` and ``veo-2.0-generate-001`` retired on 2026-06-30; the
  ``-preview`` endpoints are no longer listed);
- https://docs.cloud.google.com/vertex-ai/generative-ai/docs/model-reference/veo-video-generation
  (the request: ``personGeneration``, ``storageUri``; asset references, up to three, are not
  sent together with a first frame);
- https://ai.google.dev/gemini-api/docs/video (the same models on the Gemini API: 1080p only
  for 8-second clips; request latency up to 6 minutes at peak hours).

Where sources disagree the table takes the narrower reading: a feature marked unsupported only
changes how a shot is conditioned (a composed first frame instead of asset references), a
feature wrongly marked supported would fail every shot with a 400 after the quota was spent.
Veo 3.1 Lite (``veo-3.1-lite-generate-001``) has a price row but no Vertex model page was
found: it is not in the table until one is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.domain.errors import ModelUnavailable, PermanentError
from shared.providers.google.lifecycle import Retired
from shared.providers.google.lifecycle import unknown_reason as _unknown
from shared.providers.unsupported import Unsupported

CHECKED = "2026-12-01"
SOURCE = "https://docs.cloud.google.com/vertex-ai/generative-ai/docs/models/veo/3-1-generate"

#: Veo's asset references: up to three images of the subjects (the API's own limit).
MAX_REFERENCE_IMAGES = 3

#: The longest a Veo generation takes to write its output once started (seconds). The Gemini
#: API documents a request latency of at most 6 minutes at peak hours; Vertex AI documents no
#: bound for its long-running operations, so recovery waits two and a half times that before
#: it concludes that a start whose answer was lost did not run. Waiting longer only delays a
#: shot; concluding too early could pay for it twice.
MAX_LATENCY_S = 15 * 60.0

#: ``personGeneration`` values Vertex AI accepts for Veo (``allow_adult`` is its default;
#: ``allow_all`` needs the project to be approved for it).
PERSON_GENERATION = ("allow_adult", "dont_allow", "allow_all")


@dataclass(frozen=True)
class VeoModel:
    model_id: str
    durations: tuple[int, ...]
    """Clip lengths in seconds the model accepts."""
    price_key: str
    """The model's row in ``shared/costs/prices.json``."""
    aspect_ratios: tuple[str, ...] = ("16:9", "9:16")
    resolutions: tuple[str, ...] = ("720p", "1080p")
    resolution_durations: dict[str, tuple[int, ...]] = field(default_factory=dict)
    """Resolutions that allow fewer clip lengths than ``durations`` (1080p: 8 s only)."""
    audio: bool = True
    """Can generate an audio track (``generateAudio``)."""
    image_to_video: bool = True
    """Accepts a first frame (``instances[0].image``)."""
    reference_images: bool = False
    """Accepts asset reference images (``instances[0].referenceImages``)."""
    max_reference_images: int = 0
    reference_durations: tuple[int, ...] = ()
    """Clip lengths allowed with reference images."""
    reference_aspect_ratios: tuple[str, ...] = ()
    """Aspect ratios allowed with reference images."""
    requests_per_minute: int = 10
    """The project's default quota of generation requests per minute."""

    def references_fit(self, *, duration: int, aspect_ratio: str) -> bool:
        """Whether a shot of this length and shape may carry asset reference images."""
        return (
            self.reference_images
            and duration in self.reference_durations
            and aspect_ratio in self.reference_aspect_ratios
        )

    def durations_at(self, resolution: str) -> tuple[int, ...]:
        return self.resolution_durations.get(resolution, self.durations)


#: 1080p is documented for 8-second clips only (Gemini API); Vertex's page does not say so.
_HD_AT_8: dict[str, tuple[int, ...]] = {"1080p": (8,)}

MODELS: dict[str, VeoModel] = {
    m.model_id: m
    for m in (
        VeoModel(
            "veo-3.1-generate-001",
            durations=(4, 6, 8),
            price_key="veo-3.1-second",
            resolution_durations=_HD_AT_8,
            reference_images=True,
            max_reference_images=MAX_REFERENCE_IMAGES,
            reference_durations=(8,),
            reference_aspect_ratios=("16:9",),
            requests_per_minute=50,
        ),
        # The fast tier's model page lists no reference-image-to-video.
        VeoModel(
            "veo-3.1-fast-generate-001",
            durations=(4, 6, 8),
            price_key="veo-3.1-fast-second",
            resolution_durations=_HD_AT_8,
            requests_per_minute=50,
        ),
    )
}

RETIRED: dict[str, Retired] = {
    r.model_id: r
    for r in (
        Retired("veo-3.1-generate-preview", "", "veo-3.1-generate-001"),
        Retired("veo-3.1-fast-generate-preview", "", "veo-3.1-fast-generate-001"),
        Retired("veo-3.0-generate-001", "2026-06-30", "veo-3.1-generate-001"),
        Retired("veo-3.0-fast-generate-001", "2026-06-30", "veo-3.1-fast-generate-001"),
        Retired("veo-3.0-generate-preview", "", "veo-3.1-generate-001"),
        Retired("veo-3.0-fast-generate-preview", "", "veo-3.1-fast-generate-001"),
        Retired("veo-2.0-generate-001", "2026-06-30", "veo-3.1-generate-001"),
    )
}


def unknown_reason(model_id: str) -> str:
    """Why ``model_id`` is not in the table: retired (with its replacement) or unknown."""
    return _unknown("Veo", model_id, RETIRED, MODELS, "TALE_VEO_MODEL")


def constraints(model_id: str) -> VeoModel:
    """The constraints of one Veo model; ``ModelUnavailable`` for a model that is retired or
    that Tale does not know."""
    try:
        return MODELS[model_id]
    except KeyError:
        raise ModelUnavailable(unknown_reason(model_id)) from None


def renderable(model_id: str, aspect_ratio: str, shot_seconds: int) -> Unsupported | None:
    """``None`` when ``model_id`` renders shots of this shape and length (at some resolution);
    otherwise why not, and what it supports — checked at submission, before anything is paid."""
    model = MODELS.get(model_id)
    if model is None:
        return Unsupported(unknown_reason(model_id), (), ())
    if aspect_ratio not in model.aspect_ratios:
        return Unsupported(
            f"the video model ({model_id}) makes {' and '.join(model.aspect_ratios)} videos "
            f"only, not {aspect_ratio}",
            model.aspect_ratios,
            model.durations,
        )
    if shot_seconds not in model.durations:
        return Unsupported(
            f"the video model ({model_id}) makes shots of {_seconds(model.durations)} seconds, "
            f"not {shot_seconds}",
            model.aspect_ratios,
            model.durations,
        )
    return None


def _seconds(values: tuple[int, ...]) -> str:
    words = [str(v) for v in values]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def validate(
    model: VeoModel,
    *,
    duration: int,
    aspect_ratio: str,
    resolution: str,
    audio: bool,
    references: int = 0,
    first_frame: bool = False,
    person_generation: str | None = None,
) -> None:
    """Raise PermanentError, with the reason, for a request the model would refuse."""
    name = model.model_id
    if aspect_ratio not in model.aspect_ratios:
        raise PermanentError(
            f"{name} makes {' and '.join(model.aspect_ratios)} videos only; "
            f"aspect ratio {aspect_ratio} is not supported by Veo"
        )
    if duration not in model.durations:
        raise PermanentError(
            f"{name} makes clips of {_seconds(model.durations)} seconds, not {duration}"
        )
    if resolution not in model.resolutions:
        raise PermanentError(
            f"{name} renders at {' or '.join(model.resolutions)}, not {resolution}"
        )
    if duration not in model.durations_at(resolution):
        raise PermanentError(
            f"{name} renders {resolution} only for "
            f"{_seconds(model.durations_at(resolution))}-second clips, not {duration} "
            f"(TALE_VEO_RESOLUTION)"
        )
    if audio and not model.audio:
        raise PermanentError(f"{name} cannot generate audio; turn audio off (TALE_VEO_AUDIO)")
    if person_generation is not None and person_generation not in PERSON_GENERATION:
        raise PermanentError(
            f"personGeneration must be one of {', '.join(PERSON_GENERATION)}, not "
            f"{person_generation!r} (TALE_VEO_PERSON_GENERATION)"
        )
    if first_frame and not model.image_to_video:
        raise PermanentError(f"{name} does not take a first frame")
    _validate_references(
        model,
        duration=duration,
        aspect_ratio=aspect_ratio,
        references=references,
        first_frame=first_frame,
    )


def _validate_references(
    model: VeoModel, *, duration: int, aspect_ratio: str, references: int, first_frame: bool
) -> None:
    name = model.model_id
    if references < 0:
        raise PermanentError(f"reference image count cannot be negative ({references})")
    if not references:
        return
    if first_frame:
        raise PermanentError("Veo takes either a first frame or reference images, not both")
    if not model.reference_images:
        raise PermanentError(f"{name} does not accept reference images")
    if references > model.max_reference_images:
        raise PermanentError(
            f"{name} accepts at most {model.max_reference_images} reference images, "
            f"not {references}"
        )
    if duration not in model.reference_durations:
        raise PermanentError(
            f"{name} accepts reference images only for "
            f"{_seconds(model.reference_durations)}-second clips, not {duration}"
        )
    if aspect_ratio not in model.reference_aspect_ratios:
        raise PermanentError(
            f"{name} accepts reference images only for "
            f"{' and '.join(model.reference_aspect_ratios)} videos, not {aspect_ratio}"
        )
