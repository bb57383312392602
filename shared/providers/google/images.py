"""Imagen character references: one full-body reference sheet per character, as PNG.

The image comes from the Vertex AI ``predict`` endpoint of an Imagen model through the SDK's
``generate_images``. When the safety filter withholds the image, the response carries the
filter's reason (``include_rai_reason``) instead of bytes; asking again with the same
description would be refused again, so that is a ``PermanentError`` naming the character.
"""

from __future__ import annotations

import time
import warnings

from google import genai
from google.genai import types

from schemas.plan import Character, StoryPlan
from shared.domain.errors import PermanentError
from shared.ports.generators import ImageGenerator
from shared.ports.usage import Usage, UsageRecorder
from shared.providers.google.client import SDK_ERRORS, classify
from shared.providers.plan_drafts import REFERENCE_PROMPT, reference_prompt

__all__ = ["REFERENCE_PROMPT", "ImagenImages", "reference_prompt"]

PROVIDER = "imagen"
#: Reference sheets are square whatever the video's aspect ratio: the whole figure fits and
#: the video model only takes the character's looks from it.
ASPECT_RATIO = "1:1"


class ImagenImages(ImageGenerator):
    """Character reference images from an Imagen model on Vertex AI."""

    def __init__(self, client: genai.Client, model: str, usage: UsageRecorder) -> None:
        self.client = client
        self.model = model
        self.usage = usage
        self._config = types.GenerateImagesConfig(
            number_of_images=1,
            aspect_ratio=ASPECT_RATIO,
            include_rai_reason=True,
            output_mime_type="image/png",
        )

    def character_reference(
        self, character: Character, plan: StoryPlan, *, tale_id: str = ""
    ) -> bytes:
        try:
            response = self._generate(reference_prompt(character, plan))
        except SDK_ERRORS as exc:
            raise classify(exc) from exc
        images = response.generated_images or []
        data = next(
            (g.image.image_bytes for g in images if g.image is not None and g.image.image_bytes),
            None,
        )
        if data is None:
            reasons = [g.rai_filtered_reason for g in images if g.rai_filtered_reason]
            if reasons:
                raise PermanentError(
                    f"the image model's safety filter refused the reference image of "
                    f"{character.name}: {' '.join(reasons)}"
                )
            raise PermanentError(
                f"the image model returned no reference image of {character.name} "
                "(no reason given; most likely filtered)"
            )
        self.usage.record(
            Usage(
                tale_id=tale_id,
                key=f"character:{character.name}",
                provider=PROVIDER,
                model=self.model,
                units={"images": 1},
                at=time.time(),
            )
        )
        return data

    def _generate(self, prompt: str) -> types.GenerateImagesResponse:
        # google-genai marks generate_images (Imagen's predict endpoint) deprecated in favour
        # of image-capable Gemini models and warns once per process; Imagen is still the
        # model we call, so that one notice is silenced here and nowhere else.
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore",
                message="The generate_images method is deprecated",
                category=Warning,  # google.genai._common.ExperimentalWarning (private)
            )
            response: types.GenerateImagesResponse = self.client.models.generate_images(
                model=self.model, prompt=prompt, config=self._config
            )
        return response
