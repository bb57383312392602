"""What each Gemini image model on Vertex AI accepts (character references, first frames).

Checked on 2026-12-01 against:
- https://docs.cloud.google.com/gemini-enterprise-agent-platform/models/model-versions
  (``gemini-3.1-flash-image``: released 2026-05-28, available until 2027-05-28 or later);
- https://docs.cloud.google.com/gemini-enterprise-agent-platform/models/gemini/3-1-flash-image
  (output tokens per image: 1120 at 1K, 1680 at 2K, 2520 at 4K; the ``-preview`` endpoints
  were discontinued in July 2026);
- https://docs.cloud.google.com/vertex-ai/generative-ai/docs/multimodal/image-understanding
  (Gemini image models: at most 14 input images a prompt; aspect ratios 1:1, 3:2, 2:3, 3:4,
  4:3, 4:5, 5:4, 9:16, 16:9 and 21:9);
- https://firebase.google.com/docs/ai-logic/imagen-models-migration (every Imagen model is
  shut down — June 2026 — with ``gemini-3.1-flash-image`` as the replacement of
  ``imagen-4.0-generate-001``).

The model is reached through ``generateContent`` with ``responseModalities: ["IMAGE"]`` and an
``imageConfig`` (aspect ratio, size); reference images go in as inline parts of the prompt.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.domain.errors import ModelUnavailable, PermanentError
from shared.providers.google.lifecycle import Retired
from shared.providers.google.lifecycle import unknown_reason as _unknown

CHECKED = "2026-12-01"
SOURCE = "https://docs.cloud.google.com/gemini-enterprise-agent-platform/models/model-versions"
SETTING = "TALE_IMAGE_MODEL"

_GEMINI_RATIOS = ("1:1", "3:2", "2:3", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")


@dataclass(frozen=True)
class ImageModel:
    model_id: str
    price_key: str
    """The model's row in ``shared/costs/prices.json`` (one 1K image)."""
    aspect_ratios: tuple[str, ...] = _GEMINI_RATIOS
    image_sizes: tuple[str, ...] = ("1K", "2K", "4K")
    max_input_images: int = 14
    """Reference images a prompt may carry."""


MODELS: dict[str, ImageModel] = {
    m.model_id: m for m in (ImageModel("gemini-3.1-flash-image", "gemini-3.1-flash-image-1k"),)
}

RETIRED: dict[str, Retired] = {
    r.model_id: r
    for r in (
        Retired("imagen-4.0-generate-001", "2026-06-24", "gemini-3.1-flash-image"),
        Retired("imagen-4.0-fast-generate-001", "2026-06-24", "gemini-3.1-flash-image"),
        Retired("imagen-4.0-ultra-generate-001", "2026-06-24", "gemini-3.1-flash-image"),
        Retired("imagen-3.0-generate-002", "2026-06-24", "gemini-3.1-flash-image"),
        Retired("imagen-3.0-capability-001", "2026-06-30", "gemini-3.1-flash-image"),
        Retired("gemini-3.1-flash-image-preview", "2026-07-17", "gemini-3.1-flash-image"),
        # Listed until 2026-10-02 in one version of the table and until 2027-03-15 in a later
        # one: the narrower reading.
        Retired("gemini-2.5-flash-image", "2026-10-02", "gemini-3.1-flash-image"),
    )
}


def unknown_reason(model_id: str) -> str:
    return _unknown("image", model_id, RETIRED, MODELS, SETTING)


def constraints(model_id: str) -> ImageModel:
    """The image model's entry; ``ModelUnavailable`` for a retired or unknown one."""
    try:
        return MODELS[model_id]
    except KeyError:
        raise ModelUnavailable(unknown_reason(model_id)) from None


def validate(model: ImageModel, *, aspect_ratio: str, image_size: str, references: int) -> None:
    """Raise PermanentError, with the reason, for a request the model would refuse."""
    if aspect_ratio not in model.aspect_ratios:
        raise PermanentError(
            f"{model.model_id} draws {', '.join(model.aspect_ratios)} images, not {aspect_ratio}"
        )
    if image_size not in model.image_sizes:
        raise PermanentError(
            f"{model.model_id} draws {', '.join(model.image_sizes)} images, not {image_size}"
        )
    if references > model.max_input_images:
        raise PermanentError(
            f"{model.model_id} takes at most {model.max_input_images} images, not {references}"
        )
