"""Character references and composed first frames from a Gemini image model on Vertex AI.

Imagen is retired (``image_models``): the image model is reached through ``generateContent``
with ``responseModalities: ["IMAGE"]`` and an ``imageConfig`` (aspect ratio, size, PNG).

- ``character_reference``: one square, full-body reference sheet per character (the whole
  figure fits; Veo only takes the character's looks from it).
- ``compose_frame``: the first frame of one shot at the video's aspect ratio, drawn from the
  shot's prompt *with the characters' reference sheets as input images* — for shots where Veo
  takes no asset references (Veo 3.1 takes them only for 8-second 16:9 clips), so that the
  characters still look like themselves and nothing is centre-cropped from a square card.

A response without an image names the safety filter's reason where there is one (asking again
with the same description would be refused again): a ``PermanentError``.
"""

from __future__ import annotations

import io
import time

from google import genai
from google.genai import types
from PIL import Image

from schemas.plan import Character, Shot, StoryPlan
from shared.domain.errors import ModelUnavailable, PermanentError
from shared.observability.events import model_missing
from shared.ports.generators import ImageGenerator
from shared.ports.usage import Usage, UsageRecorder
from shared.providers.google import image_models
from shared.providers.google.client import SDK_ERRORS, classify
from shared.providers.offline.looks import STYLE_WORDING
from shared.providers.plan_drafts import REFERENCE_PROMPT, reference_prompt

__all__ = ["FRAME_PROMPT", "REFERENCE_PROMPT", "GeminiImages", "reference_prompt"]

PROVIDER = "gemini-image"
#: Reference sheets are square whatever the video's aspect ratio.
REFERENCE_ASPECT_RATIO = "1:1"
IMAGE_SIZE = "1K"
_REFUSED = {
    types.FinishReason.SAFETY,
    types.FinishReason.IMAGE_SAFETY,
    types.FinishReason.IMAGE_PROHIBITED_CONTENT,
    types.FinishReason.PROHIBITED_CONTENT,
    types.FinishReason.BLOCKLIST,
    types.FinishReason.SPII,
}

FRAME_PROMPT = (
    "The opening frame of one shot of an animated short film, {aspect_ratio} {orientation}, "
    "filling the whole frame. {prompt} The characters in it must look exactly like the ones in "
    "the reference images ({names}): same faces, build, clothes and colours; draw them in the "
    "scene, not as reference sheets. No text, no captions, no borders. Style: {style}."
)


class GeminiImages(ImageGenerator):
    """Images from a Gemini image model on Vertex AI (see the module docstring)."""

    def __init__(self, client: genai.Client, model: str, usage: UsageRecorder) -> None:
        self.client = client
        self.model = model
        self.usage = usage
        self._constraints: image_models.ImageModel | None = None
        self._unavailable: ModelUnavailable | None = None
        try:
            self._constraints = image_models.constraints(model)
        except ModelUnavailable as exc:  # raised when an image is needed (``constraints``)
            self._unavailable = exc

    @property
    def constraints(self) -> image_models.ImageModel:
        """The model's table entry; ``ModelUnavailable`` (and the operators' alert) for a
        retired or unknown model, before any call."""
        if self._constraints is None:
            assert self._unavailable is not None
            model_missing(PROVIDER, self.model, str(self._unavailable))
            raise self._unavailable
        return self._constraints

    # --- character references ---------------------------------------------------------------
    def character_reference(
        self, character: Character, plan: StoryPlan, *, tale_id: str = ""
    ) -> bytes:
        data = self._draw(
            [reference_prompt(character, plan)],
            REFERENCE_ASPECT_RATIO,
            what=f"the reference image of {character.name}",
        )
        self._record(tale_id, f"character:{character.name}")
        return data

    # --- first frames --------------------------------------------------------------------------
    def compose_frame(
        self,
        shot: Shot,
        plan: StoryPlan,
        references: dict[str, bytes],
        *,
        tale_id: str = "",
        key: str = "",
    ) -> bytes:
        """The first frame of ``shot`` at the plan's aspect ratio, with the characters drawn
        from their reference sheets (``references``: name → PNG)."""
        names = list(references)[: self.constraints.max_input_images]
        portrait = plan.aspect_ratio == "9:16"
        prompt = FRAME_PROMPT.format(
            aspect_ratio=plan.aspect_ratio,
            orientation="portrait" if portrait else "landscape",
            prompt=shot.prompt.strip(),
            names=", ".join(names),
            style=STYLE_WORDING[plan.style],
        )
        parts: list[types.PartUnionDict] = [
            types.Part.from_bytes(data=references[name], mime_type="image/png") for name in names
        ]
        parts.append(prompt)
        data = self._draw(
            parts, plan.aspect_ratio, what=f"the first frame of shot {shot.index + 1}"
        )
        self._record(tale_id, key or f"frame:{shot.index}")
        return data

    # --- the call ------------------------------------------------------------------------------
    def _draw(self, contents: list[types.PartUnionDict], aspect_ratio: str, *, what: str) -> bytes:
        references = sum(1 for c in contents if isinstance(c, types.Part))
        image_models.validate(
            self.constraints,
            aspect_ratio=aspect_ratio,
            image_size=IMAGE_SIZE,
            references=references,
        )
        config = types.GenerateContentConfig(
            response_modalities=["IMAGE"],
            candidate_count=1,
            image_config=types.ImageConfig(
                aspect_ratio=aspect_ratio, image_size=IMAGE_SIZE, output_mime_type="image/png"
            ),
        )
        try:
            response = self.client.models.generate_content(
                model=self.model, contents=contents, config=config
            )
        except SDK_ERRORS as exc:
            raise classify(
                exc, model=self.model, provider=PROVIDER, setting=image_models.SETTING
            ) from exc
        return _png(_image_of(response, what))

    def _record(self, tale_id: str, key: str) -> None:
        self.usage.record(
            Usage(
                tale_id=tale_id,
                key=key,
                provider=PROVIDER,
                model=self.model,
                units={"images": 1},
                at=time.time(),
            )
        )


def _image_of(response: types.GenerateContentResponse, what: str) -> bytes:
    feedback = response.prompt_feedback
    if feedback is not None and feedback.block_reason is not None:
        detail = feedback.block_reason_message or feedback.block_reason.value
        raise PermanentError(f"the image model's safety filter refused {what}: {detail}")
    for candidate in response.candidates or []:
        for part in (candidate.content.parts or []) if candidate.content else []:
            if part.inline_data is not None and part.inline_data.data:
                return part.inline_data.data
        if candidate.finish_reason in _REFUSED:
            detail = candidate.finish_message or candidate.finish_reason.value
            raise PermanentError(f"the image model's safety filter refused {what}: {detail}")
    raise PermanentError(
        f"the image model returned no image for {what} (no reason given; most likely filtered)"
    )


def _png(data: bytes) -> bytes:
    """The image as PNG (the model is asked for PNG; anything else is converted)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return data
    try:
        with Image.open(io.BytesIO(data)) as image:
            out = io.BytesIO()
            image.convert("RGB").save(out, "PNG")
            return out.getvalue()
    except OSError as exc:
        raise PermanentError(f"the image model returned an unreadable image ({exc})") from exc
