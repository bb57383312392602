"""What each Veo model accepts, checked before any paid call.

One entry per model id, from the Vertex AI model pages (Veo 3.1: 4, 6 or 8 s, 16:9 and 9:16,
720p and 1080p, reference-image-to-video only at 8 s and, per the model page, not in 9:16;
Veo 3: 4, 6 or 8 s; Veo 2: 5 to 8 s, 720p, no audio). Where public sources disagree the
table takes the narrower reading: a feature marked unsupported only changes how a shot is
conditioned (first frame instead of asset references), a feature wrongly marked supported
would fail every shot with a 400 after the quota was spent.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.domain.errors import PermanentError

#: Veo's asset references: up to three images of the subjects (the API's own limit).
MAX_REFERENCE_IMAGES = 3


@dataclass(frozen=True)
class VeoModel:
    model_id: str
    durations: tuple[int, ...]
    """Clip lengths in seconds the model accepts."""
    aspect_ratios: tuple[str, ...] = ("16:9", "9:16")
    resolutions: tuple[str, ...] = ("720p", "1080p")
    resolution_parameter: bool = True
    """Takes ``resolution`` in the request (Veo 3 and later; Veo 2 has one resolution)."""
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


def _veo_3_1(model_id: str, requests_per_minute: int) -> VeoModel:
    return VeoModel(
        model_id,
        durations=(4, 6, 8),
        reference_images=True,
        max_reference_images=MAX_REFERENCE_IMAGES,
        reference_durations=(8,),
        reference_aspect_ratios=("16:9",),
        requests_per_minute=requests_per_minute,
    )


MODELS: dict[str, VeoModel] = {
    m.model_id: m
    for m in (
        _veo_3_1("veo-3.1-generate-001", 50),
        _veo_3_1("veo-3.1-generate-preview", 10),
        # The fast tier's model page lists no reference-image-to-video.
        VeoModel("veo-3.1-fast-generate-001", durations=(4, 6, 8), requests_per_minute=50),
        VeoModel("veo-3.1-fast-generate-preview", durations=(4, 6, 8), requests_per_minute=10),
        VeoModel("veo-3.0-generate-001", durations=(4, 6, 8)),
        VeoModel("veo-3.0-fast-generate-001", durations=(4, 6, 8)),
        VeoModel(
            "veo-2.0-generate-001",
            durations=(5, 6, 7, 8),
            resolutions=("720p",),
            resolution_parameter=False,
            audio=False,
        ),
    )
}


def constraints(model_id: str) -> VeoModel:
    """The constraints of one Veo model; PermanentError for a model Tale does not know."""
    try:
        return MODELS[model_id]
    except KeyError:
        known = ", ".join(sorted(MODELS))
        raise PermanentError(f"unknown Veo model {model_id!r}; known models: {known}") from None


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
    if audio and not model.audio:
        raise PermanentError(f"{name} cannot generate audio; turn audio off (TALE_VEO_AUDIO)")
    if references < 0:
        raise PermanentError(f"reference image count cannot be negative ({references})")
    if not references:
        return
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
