"""The strict Vertex stand-in (tests/vertex.py) refuses what Vertex AI refuses.

The requests go through the real google-genai client, straight to the stand-in: nothing of
Tale's own validation is in the way, so these are the stand-in's answers alone.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest
from google.genai import errors as genai_errors
from google.genai import types

from tests.vertex import LOCATION, OPERATION, PROJECT, FakeVertex, png

VEO = "veo-3.1-generate-001"


@pytest.fixture
def vertex() -> FakeVertex:
    return FakeVertex(plan={}, clip=b"mp4")


def start(vertex: FakeVertex, model: str = VEO, **config: Any) -> types.GenerateVideosOperation:
    image = config.pop("image", None)
    options = {"duration_seconds": 8, "aspect_ratio": "16:9", **config}
    return vertex.client(retry_attempts=1).models.generate_videos(
        model=model,
        source=types.GenerateVideosSource(prompt="A fox on a beach", image=image),
        config=types.GenerateVideosConfig(**options),
    )


def asset() -> types.VideoGenerationReferenceImage:
    return types.VideoGenerationReferenceImage(
        image=types.Image(image_bytes=png(), mime_type="image/png"),
        reference_type=types.VideoGenerationReferenceType.ASSET,
    )


def test_a_valid_start_gets_a_vertex_shaped_operation_name(vertex: FakeVertex) -> None:
    operation = start(vertex, reference_images=[asset(), asset()])
    assert operation.name is not None
    match = OPERATION.fullmatch(operation.name)
    assert match is not None and match["model"] == VEO
    assert operation.name.startswith(
        f"projects/{PROJECT}/locations/{LOCATION}/publishers/google/models/{VEO}/operations/"
    )
    polled = vertex.client().operations.get(operation)
    assert polled.name == operation.name


@pytest.mark.parametrize(
    "model", ["veo-3.0-generate-001", "veo-3.1-generate-preview", "veo-2.0-generate-001", "veo-9"]
)
def test_a_retired_or_unknown_veo_model_is_404(vertex: FakeVertex, model: str) -> None:
    with pytest.raises(genai_errors.ClientError) as caught:
        start(vertex, model=model)
    assert caught.value.code == 404 and caught.value.status == "NOT_FOUND"
    assert f"publishers/google/models/{model}` was not found" in (caught.value.message or "")
    assert vertex.started_prompts == []


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        ({"aspect_ratio": "1:1"}, "Unsupported aspect ratio: 1:1"),
        ({"duration_seconds": 5}, "Unsupported video duration 5"),
        ({"duration_seconds": 4, "resolution": "1080p"}, "Unsupported resolution 1080p"),
        ({"resolution": "4k"}, "Unsupported resolution 4k"),
        ({"person_generation": "everyone"}, "Unsupported personGeneration"),
        ({"output_gcs_uri": "s3://elsewhere/"}, "storageUri must be a Cloud Storage URI"),
        (
            {
                "image": types.Image(image_bytes=png(), mime_type="image/png"),
                "reference_images": [asset()],
            },
            "image and referenceImages cannot be set together",
        ),
        ({"reference_images": [asset()] * 4}, "At most 3 reference images"),
        ({"reference_images": [asset()], "duration_seconds": 6}, "only supported for (8,)"),
        ({"reference_images": [asset()], "aspect_ratio": "9:16"}, "only supported for ('16:9',)"),
    ],
)
def test_a_request_vertex_would_refuse_is_400(
    vertex: FakeVertex, config: dict[str, Any], reason: str
) -> None:
    with pytest.raises(genai_errors.ClientError) as caught:
        start(vertex, **config)
    assert caught.value.code == 400 and caught.value.status == "INVALID_ARGUMENT"
    assert reason in (caught.value.message or "")
    assert vertex.started_prompts == []


def test_the_fast_model_takes_no_reference_images(vertex: FakeVertex) -> None:
    with pytest.raises(genai_errors.ClientError, match="does not support reference images"):
        start(vertex, model="veo-3.1-fast-generate-001", reference_images=[asset()])
    start(vertex, model="veo-3.1-fast-generate-001", aspect_ratio="9:16", duration_seconds=4)


def test_an_unknown_operation_is_404(vertex: FakeVertex) -> None:
    client = vertex.client(retry_attempts=1)
    resource = f"projects/{PROJECT}/locations/{LOCATION}/publishers/google/models/{VEO}"
    for name in (
        f"{resource}/operations/12345678-1234-1234-1234-123456789abc",  # never returned
        f"{resource}/operations/1001",  # not shaped as Vertex names them
    ):
        pending = types.GenerateVideosOperation.model_validate({"name": name})
        with pytest.raises(genai_errors.ClientError) as caught:
            client.operations.get(pending)
        assert caught.value.code == 404


def test_imagen_is_retired_and_the_gemini_image_model_is_current(vertex: FakeVertex) -> None:
    client = vertex.client(retry_attempts=1)
    with pytest.raises(genai_errors.ClientError) as caught, warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The generate_images method is deprecated")
        client.models.generate_images(model="imagen-4.0-generate-001", prompt="a fox")
    assert caught.value.code == 404
    response = client.models.generate_content(
        model="gemini-3.1-flash-image",
        contents="a fox",
        config=types.GenerateContentConfig(
            response_modalities=["IMAGE"],
            image_config=types.ImageConfig(aspect_ratio="9:16", image_size="1K"),
        ),
    )
    assert response.candidates and response.candidates[0].content
    (part,) = response.candidates[0].content.parts or []
    assert part.inline_data is not None and part.inline_data.data
    with pytest.raises(genai_errors.ClientError, match="Unsupported aspect ratio"):
        client.models.generate_content(
            model="gemini-3.1-flash-image",
            contents="a fox",
            config=types.GenerateContentConfig(
                response_modalities=["IMAGE"],
                image_config=types.ImageConfig(aspect_ratio="7:3"),
            ),
        )


def test_metadata_answers_current_models_and_404s_retired_ones(vertex: FakeVertex) -> None:
    client = vertex.client(retry_attempts=1)
    for model in ("gemini-3.5-flash", "gemini-3.1-flash-image", VEO):
        assert client.models.get(model=model).name == f"publishers/google/models/{model}"
    for model in ("gemini-2.5-flash", "imagen-4.0-generate-001", "veo-3.0-generate-001"):
        with pytest.raises(genai_errors.ClientError) as caught:
            client.models.get(model=model)
        assert caught.value.code == 404


def test_a_storage_uri_gets_the_video_written_into_the_bucket(tmp_path: Path) -> None:
    written: dict[str, bytes] = {}
    vertex = FakeVertex(plan={}, clip=b"the clip", storage=written.__setitem__, polls_before_done=0)
    operation = start(vertex, output_gcs_uri="gs://tale-media/tales/t/shots/00-a1/")
    (path,) = written
    assert path.startswith("tales/t/shots/00-a1/") and path.endswith("/sample_0.mp4")
    done = vertex.client().operations.get(operation)
    assert done.response and done.response.generated_videos
    video = done.response.generated_videos[0].video
    assert video is not None and video.uri == f"gs://tale-media/{path}"
