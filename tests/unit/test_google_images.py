"""GeminiImages through the real google-genai client, its HTTP layer answered by a fake Vertex.

The fake answers ``…/publishers/google/models/<model>:generateContent`` as the Vertex AI REST
API documents it for Gemini image models: ``candidates[].content.parts[].inlineData`` with
the image, or a candidate without one whose ``finishReason`` says why (``IMAGE_SAFETY``), or a
``promptFeedback.blockReason`` for a prompt refused outright.
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
from shared.domain.errors import ModelUnavailable, PermanentError, TransientError
from shared.providers.google import image_models
from shared.providers.google.client import make_client
from shared.providers.google.images import GeminiImages

PROJECT = "tale-test"
LOCATION = "us-central1"
MODEL = "gemini-3.1-flash-image"
GENERATE_PATH = (
    f"/v1beta1/projects/{PROJECT}/locations/{LOCATION}/publishers/google/models/{MODEL}"
    ":generateContent"
)
MINA = Character(name="Mina", description="a ten-year-old girl with a red raincoat and braids")
FOX = Character(name="Fox", description="a small red fox")


def tiny(format_: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 40, 40)).save(out, format=format_)
    return out.getvalue()


PNG = tiny()


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


def answer(*parts: dict[str, Any], finish: str = "STOP", **extra: Any) -> httpx.Response:
    """One candidate with ``parts``; ``extra`` goes into the candidate (e.g. finishMessage)."""
    candidate = {"content": {"role": "model", "parts": list(parts)}, "finishReason": finish}
    return httpx.Response(200, json={"candidates": [{**candidate, **extra}]})


def image_part(data: bytes = PNG, mime: str = "image/png") -> dict[str, Any]:
    return {"inlineData": {"mimeType": mime, "data": base64.b64encode(data).decode()}}


def make_plan(style: Style = Style.ANIME, aspect_ratio: str = "9:16") -> StoryPlan:
    return StoryPlan(
        title="Mina and the fox",
        language="en",
        style=style,
        aspect_ratio=aspect_ratio,  # type: ignore[arg-type]
        characters=[MINA, FOX],
        scenes=[Scene(index=0, setting="a beach at dawn", summary="Mina meets a fox.")],
        shots=[
            Shot(
                index=0,
                scene_index=0,
                prompt=f"Wide shot of a beach at dawn, {MINA.description} walks.",
                camera=Camera.WIDE,
                duration_s=8,
                characters=["Mina", "Fox"],
                narration="Mina walked to the sea.",
            )
        ],
    )


def images_for(
    fake: FakeVertex, tmp_path: Path, *, retry_attempts: int = 5, model: str = MODEL
) -> tuple[GeminiImages, SqliteUsage]:
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
    return GeminiImages(client, model, usage), usage


def test_a_reference_sheet_is_a_square_png_from_generate_content(tmp_path: Path) -> None:
    fake = FakeVertex(answer(image_part()))
    images, _ = images_for(fake, tmp_path)

    data = images.character_reference(MINA, make_plan(), tale_id="tale-1")

    assert data == PNG
    (request,) = fake.requests
    assert request.method == "POST" and request.url.path == GENERATE_PATH
    assert request.headers["authorization"] == "Bearer test"
    body = fake.bodies[0]
    assert body["generationConfig"]["responseModalities"] == ["IMAGE"]
    assert body["generationConfig"]["candidateCount"] == 1
    assert body["generationConfig"]["imageConfig"] == {
        "aspectRatio": "1:1",
        "imageSize": "1K",
        "imageOutputOptions": {"mimeType": "image/png"},
    }
    [content] = body["contents"]
    [part] = content["parts"]
    prompt = part["text"]
    assert prompt.startswith("Full-body character reference sheet of " + MINA.description)
    assert "neutral" in prompt and "background" in prompt
    assert "anime style" in prompt  # the plan's style


def test_a_first_frame_is_composed_at_the_videos_shape_from_the_sheets(tmp_path: Path) -> None:
    fake = FakeVertex(answer(image_part()))
    images, usage = images_for(fake, tmp_path)
    plan = make_plan(aspect_ratio="9:16")

    frame = images.compose_frame(
        plan.shots[0], plan, {"Mina": b"mina-sheet", "Fox": b"fox-sheet"}, tale_id="t", key="k"
    )

    assert frame == PNG
    body = fake.bodies[0]
    assert body["generationConfig"]["imageConfig"]["aspectRatio"] == "9:16"
    parts = body["contents"][0]["parts"]
    assert [base64.b64decode(p["inlineData"]["data"]) for p in parts[:2]] == [
        b"mina-sheet",
        b"fox-sheet",
    ]
    # google-genai 3.6 writes the Blob's field in snake case here; Vertex's JSON parser reads
    # both spellings (proto3 JSON)
    blobs = [p["inlineData"] for p in parts[:2]]
    assert {b.get("mimeType", b.get("mime_type")) for b in blobs} == {"image/png"}
    text = parts[2]["text"]
    assert "9:16 portrait" in text and plan.shots[0].prompt in text
    assert "(Mina, Fox)" in text and "not as reference sheets" in text
    [record] = usage.for_tale("t")
    assert (record.key, record.provider, record.model, record.units) == (
        "k",
        "gemini-image",
        MODEL,
        {"images": 1},
    )


def test_a_jpeg_answer_becomes_a_png(tmp_path: Path) -> None:
    fake = FakeVertex(answer(image_part(tiny("JPEG"), "image/jpeg")))
    images, _ = images_for(fake, tmp_path)
    data = images.character_reference(MINA, make_plan())
    assert Image.open(io.BytesIO(data)).format == "PNG"


def test_usage_records_one_image(tmp_path: Path) -> None:
    fake = FakeVertex(answer(image_part()))
    images, usage = images_for(fake, tmp_path)

    images.character_reference(MINA, make_plan(), tale_id="tale-2")

    [record] = usage.for_tale("tale-2")
    assert (record.key, record.provider, record.model) == ("character:Mina", "gemini-image", MODEL)
    assert record.units == {"images": 1}


def test_a_filtered_image_is_permanent_and_names_the_character(tmp_path: Path) -> None:
    fake = FakeVertex(
        answer(finish="IMAGE_SAFETY", finishMessage="Unable to show the generated image.")
    )
    images, usage = images_for(fake, tmp_path)

    with pytest.raises(PermanentError) as caught:
        images.character_reference(MINA, make_plan(), tale_id="tale-3")

    message = str(caught.value)
    assert "reference image of Mina" in message and "safety filter" in message
    assert "Unable to show the generated image." in message
    assert len(fake.requests) == 1
    assert usage.for_tale("tale-3") == []  # filtered images are not charged


def test_a_blocked_prompt_is_permanent(tmp_path: Path) -> None:
    fake = FakeVertex(
        httpx.Response(200, json={"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}})
    )
    images, _ = images_for(fake, tmp_path)
    with pytest.raises(PermanentError, match=r"safety filter refused .*PROHIBITED_CONTENT"):
        images.character_reference(MINA, make_plan())


def test_an_empty_response_is_permanent(tmp_path: Path) -> None:
    fake = FakeVertex(httpx.Response(200, json={}))
    images, _ = images_for(fake, tmp_path)

    with pytest.raises(PermanentError, match="no image for the reference image of Mina"):
        images.character_reference(MINA, make_plan())


def test_throttling_is_retried_then_transient(tmp_path: Path) -> None:
    throttled = httpx.Response(
        429,
        json={"error": {"code": 429, "message": "Quota exceeded", "status": "RESOURCE_EXHAUSTED"}},
    )
    fake = FakeVertex(throttled, answer(image_part()))
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


def test_a_model_vertex_does_not_serve_is_model_unavailable(tmp_path: Path) -> None:
    missing = httpx.Response(
        404, json={"error": {"code": 404, "message": "not found", "status": "NOT_FOUND"}}
    )
    fake = FakeVertex(missing)
    images, _ = images_for(fake, tmp_path)
    with pytest.raises(ModelUnavailable, match="TALE_IMAGE_MODEL"):
        images.character_reference(MINA, make_plan())
    assert len(fake.requests) == 1  # not retried


def test_imagen_is_refused_before_any_call_with_an_alert(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeVertex(answer(image_part()))
    images, _ = images_for(fake, tmp_path, model="imagen-4.0-generate-001")  # the process starts
    with pytest.raises(
        ModelUnavailable, match=r"imagen-4\.0-generate-001 is retired on 2026-06-24"
    ):
        images.character_reference(MINA, make_plan())
    assert fake.requests == []
    assert any(
        r.__dict__.get("tale_fields", {}).get("event") == "provider.model_missing"
        for r in caplog.records
    )


def test_the_image_model_table() -> None:
    assert image_models.CHECKED == "2026-12-01"
    model = image_models.constraints(MODEL)
    assert "9:16" in model.aspect_ratios and "16:9" in model.aspect_ratios
    assert "1:1" in model.aspect_ratios and model.max_input_images == 14
    with pytest.raises(PermanentError, match="not 7:3"):
        image_models.validate(model, aspect_ratio="7:3", image_size="1K", references=0)
    with pytest.raises(PermanentError, match="at most 14 images"):
        image_models.validate(model, aspect_ratio="1:1", image_size="1K", references=15)
