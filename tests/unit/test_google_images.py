"""ImagenImages through the real google-genai client, its HTTP layer answered by a fake Vertex.

The fake answers ``…/publishers/google/models/<model>:predict`` as the Vertex AI REST API
documents it for Imagen: ``predictions[]`` with ``bytesBase64Encoded`` and ``mimeType``, or,
for an image the safety filter withheld (``includeRaiReason``), ``raiFilteredReason`` and no
bytes.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from google.oauth2.credentials import Credentials
from PIL import Image

from schemas.plan import Camera, Character, Scene, Shot, StoryPlan
from schemas.story import Style
from shared.adapters.local.usage import SqliteUsage
from shared.domain.errors import PermanentError, TransientError
from shared.providers.google.client import make_client
from shared.providers.google.images import ImagenImages

PROJECT = "tale-test"
LOCATION = "us-central1"
MODEL = "imagen-4.0-generate-001"
PREDICT_PATH = (
    f"/v1beta1/projects/{PROJECT}/locations/{LOCATION}/publishers/google/models/{MODEL}:predict"
)
MINA = Character(name="Mina", description="a ten-year-old girl with a red raincoat and braids")
FILTER_REASON = (
    "Your current safety filter threshold filtered out the generated image. You will not be "
    "charged for blocked images. Try rephrasing the prompt. Support codes: 58061214"
)


def tiny_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 40, 40)).save(out, format="PNG")
    return out.getvalue()


PNG = tiny_png()


class FakeVertex:
    def __init__(self, *script: httpx.Response) -> None:
        self.script = list(script)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.script.pop(0) if len(self.script) > 1 else self.script[0]

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests]


def predictions(*items: dict[str, Any]) -> httpx.Response:
    return httpx.Response(200, json={"predictions": list(items)})


def image_prediction(data: bytes = PNG) -> dict[str, Any]:
    return {"bytesBase64Encoded": base64.b64encode(data).decode(), "mimeType": "image/png"}


def make_plan(style: Style = Style.ANIME) -> StoryPlan:
    return StoryPlan(
        title="Mina and the fox",
        language="en",
        style=style,
        aspect_ratio="9:16",
        characters=[MINA],
        scenes=[Scene(index=0, setting="a beach at dawn", summary="Mina meets a fox.")],
        shots=[
            Shot(
                index=0,
                scene_index=0,
                prompt=f"Wide shot of a beach at dawn, {MINA.description} walks.",
                camera=Camera.WIDE,
                duration_s=8,
                characters=["Mina"],
                narration="Mina walked to the sea.",
            )
        ],
    )


def images_for(
    fake: FakeVertex, tmp_path: Path, *, retry_attempts: int = 5
) -> tuple[ImagenImages, SqliteUsage]:
    client = make_client(
        PROJECT,
        LOCATION,
        retry_attempts=retry_attempts,
        httpx_client=httpx.Client(transport=httpx.MockTransport(fake)),
        credentials=Credentials(token="test"),  # type: ignore[no-untyped-call]
        initial_delay_s=0.001,
        max_delay_s=0.002,
        jitter_s=0,
    )
    usage = SqliteUsage(tmp_path / "usage.db")
    return ImagenImages(client, MODEL, usage), usage


def test_returns_the_png_bytes_and_sends_an_imagen_predict(tmp_path: Path) -> None:
    fake = FakeVertex(predictions(image_prediction()))
    images, _ = images_for(fake, tmp_path)

    data = images.character_reference(MINA, make_plan(), tale_id="tale-1")

    assert data == PNG
    assert Image.open(io.BytesIO(data)).format == "PNG"
    assert len(fake.requests) == 1
    request = fake.requests[0]
    assert request.method == "POST"
    assert request.url.path == PREDICT_PATH
    assert request.headers["authorization"] == "Bearer test"
    body = fake.bodies[0]
    assert body["parameters"] == {
        "sampleCount": 1,
        "aspectRatio": "1:1",
        "includeRaiReason": True,
        "outputOptions": {"mimeType": "image/png"},
    }
    [instance] = body["instances"]
    prompt = instance["prompt"]
    assert prompt.startswith("Full-body character reference sheet of " + MINA.description)
    assert "neutral" in prompt and "background" in prompt
    assert "anime style" in prompt  # the plan's style


def test_usage_records_one_image(tmp_path: Path) -> None:
    fake = FakeVertex(predictions(image_prediction()))
    images, usage = images_for(fake, tmp_path)

    images.character_reference(MINA, make_plan(), tale_id="tale-2")

    [record] = usage.for_tale("tale-2")
    assert (record.key, record.provider, record.model) == ("character:Mina", "imagen", MODEL)
    assert record.units == {"images": 1}


def test_filtered_image_is_permanent_and_names_the_character(tmp_path: Path) -> None:
    fake = FakeVertex(predictions({"raiFilteredReason": FILTER_REASON}))
    images, usage = images_for(fake, tmp_path)

    with pytest.raises(PermanentError) as caught:
        images.character_reference(MINA, make_plan(), tale_id="tale-3")

    message = str(caught.value)
    assert "Mina" in message and "safety filter" in message
    assert "Support codes: 58061214" in message
    assert len(fake.requests) == 1
    assert usage.for_tale("tale-3") == []  # filtered images are not charged


def test_empty_response_is_permanent(tmp_path: Path) -> None:
    fake = FakeVertex(httpx.Response(200, json={}))
    images, _ = images_for(fake, tmp_path)

    with pytest.raises(PermanentError, match="no reference image of Mina"):
        images.character_reference(MINA, make_plan())


def test_throttling_is_retried_then_transient(tmp_path: Path) -> None:
    throttled = httpx.Response(
        429,
        json={"error": {"code": 429, "message": "Quota exceeded", "status": "RESOURCE_EXHAUSTED"}},
    )
    fake = FakeVertex(throttled, predictions(image_prediction()))
    images, _ = images_for(fake, tmp_path)
    assert images.character_reference(MINA, make_plan()) == PNG
    assert len(fake.requests) == 2

    fake = FakeVertex(throttled)
    images, _ = images_for(fake, tmp_path, retry_attempts=2)
    with pytest.raises(TransientError, match="429"):
        images.character_reference(MINA, make_plan())
    assert len(fake.requests) == 2


def test_permission_denied_is_permanent(tmp_path: Path) -> None:
    denied = httpx.Response(
        403,
        json={
            "error": {
                "code": 403,
                "message": "Permission 'aiplatform.endpoints.predict' denied",
                "status": "PERMISSION_DENIED",
            }
        },
    )
    fake = FakeVertex(denied)
    images, _ = images_for(fake, tmp_path)

    with pytest.raises(PermanentError, match=r"permission denied.*403 PERMISSION_DENIED"):
        images.character_reference(MINA, make_plan())
    assert len(fake.requests) == 1
