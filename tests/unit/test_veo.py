"""VeoVideos against the real google-genai client, HTTP answered by a fake Vertex AI.

The fake refuses what Vertex refuses (``tests.vertex.veo_refusal``: the model table and the
documented rules) and speaks the REST shapes the SDK uses in Vertex mode:
``POST …/publishers/google/models/<model>:predictLongRunning`` → ``{"name": "…/operations/<id>"}``
and ``POST …/publishers/google/models/<model>:fetchPredictOperation`` with
``{"operationName": …}`` → ``{"name", "done", "response": {"@type", "videos": […],
"raiMediaFilteredCount", "raiMediaFilteredReasons"}}`` or ``{"name", "done", "error"}``.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from google import genai
from google.oauth2.credentials import Credentials

from schemas.events import ShotRendered, ShotRequested
from schemas.plan import Camera, Character, Scene, Shot, StoryPlan
from schemas.story import Style
from shared.adapters.local.blobs import FilesystemBlobStore
from shared.config import Settings
from shared.domain.errors import ModelUnavailable, NotStarted, PermanentError, TransientError
from shared.domain.tale import ShotStatus, TaleState
from shared.media.encode import write_h264
from shared.ports.generators import Recovery, VideoRequest
from shared.ports.usage import Usage, UsageRecorder
from shared.providers.google import veo_models
from shared.providers.google.client import make_client
from shared.providers.google.veo import (
    VeoVideos,
    attempt_record_path,
    first_frame_path,
    operation_record_path,
)
from shared.pubsub_message import Envelope
from shared.stages.shots import render_shot
from tests.conftest import make_plan, make_record, make_submission
from tests.fakes import FakeBus, InMemoryClaims, InMemoryTaleStore
from tests.vertex import not_found, veo_refusal

PROJECT, LOCATION = "tale-test", "us-central1"
MODEL = "veo-3.1-generate-001"
STAGE_TALE = "tale-000001"
RESOURCE = f"projects/{PROJECT}/locations/{LOCATION}/publishers/google/models/{MODEL}"
BUCKET = "tale-media"
PNG = b"\x89PNG\r\n\x1a\n" + b"fake image data"
ENDPOINT = re.compile(
    rf"/v1beta1/(?P<resource>projects/{PROJECT}/locations/{LOCATION}/publishers/google/models/"
    r"veo-[a-z0-9.-]+):(?P<verb>predictLongRunning|fetchPredictOperation)"
)
RESPONSE_TYPE = "type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse"


@pytest.fixture(scope="module")
def mp4(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    out = tmp_path_factory.mktemp("clip") / "clip.mp4"
    frames = [np.full((36, 64, 3), 40 * i, np.uint8) for i in range(6)]
    write_h264(frames, out, fps=24, width=64, height=36)
    return out.read_bytes()


@dataclass
class FakeOperation:
    polls_left: int
    result: dict[str, Any]


@dataclass
class FakeVertex:
    """Keeps operation state; ``fail`` scripts HTTP statuses per endpoint ("predict"/"fetch")."""

    result: Callable[[], dict[str, Any]]
    polls_before_done: int = 2
    operations: dict[str, FakeOperation] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    fail: dict[str, list[int]] = field(default_factory=dict)
    fail_forever: dict[str, int] = field(default_factory=dict)
    lose: dict[str, list[int | str]] = field(default_factory=dict)
    """Per kind: answers lost after the effect (a status, or "timeout")."""
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1001))

    def bodies(self, kind: str) -> list[dict[str, Any]]:
        return [body for k, _, body in self.requests if k == kind]

    def count(self, kind: str) -> int:
        return len(self.bodies(kind))

    def handler(self, request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == "Bearer test"
        path = request.url.path
        body = json.loads(request.content) if request.content else {}
        match = ENDPOINT.fullmatch(path)
        assert match is not None, f"unexpected request {request.method} {path}"
        resource, verb = match["resource"], match["verb"]
        kind = {"predictLongRunning": "predict", "fetchPredictOperation": "fetch"}[verb]
        self.requests.append((kind, path, body))
        status = self.fail[kind].pop(0) if self.fail.get(kind) else self.fail_forever.get(kind)
        if status:
            return _error(status)
        if kind == "predict":
            model = resource.rpartition("/")[2]
            if model not in veo_models.MODELS:
                return not_found(model)
            refusal = veo_refusal(veo_models.MODELS[model], body)
            if refusal is not None:
                return _error(400, "INVALID_ARGUMENT", refusal)
            name = f"{resource}/operations/{next(self._ids)}"
            self.operations[name] = FakeOperation(self.polls_before_done, self.result())
            lost = self.lose[kind].pop(0) if self.lose.get(kind) else None
            if lost == "timeout":
                raise httpx.ReadTimeout("no answer", request=request)
            if isinstance(lost, int):
                return _error(lost)
            return httpx.Response(200, json={"name": name})
        name = body["operationName"]
        assert name.startswith(f"{resource}/operations/"), (name, resource)
        if name not in self.operations:
            return _error(404, "NOT_FOUND", f"operation {name} not found")
        op = self.operations[name]
        if op.polls_left > 0:
            op.polls_left -= 1
            return httpx.Response(200, json={"name": name, "done": False})
        return httpx.Response(200, json={"name": name, "done": True, **op.result})


def _error(code: int, status: str = "", message: str = "") -> httpx.Response:
    status = (
        status
        or {
            429: "RESOURCE_EXHAUSTED",
            500: "INTERNAL",
            503: "UNAVAILABLE",
            400: "INVALID_ARGUMENT",
            404: "NOT_FOUND",
        }[code]
    )
    payload = {
        "error": {"code": code, "message": message or f"{status} from fake", "status": status}
    }
    return httpx.Response(code, json=payload)


def video_result(mp4: bytes) -> dict[str, Any]:
    return {
        "response": {
            "@type": RESPONSE_TYPE,
            "raiMediaFilteredCount": 0,
            "videos": [
                {"bytesBase64Encoded": base64.b64encode(mp4).decode(), "mimeType": "video/mp4"}
            ],
        }
    }


def make_fake_client(fake: FakeVertex, *, attempts: int = 3) -> genai.Client:
    return make_client(
        PROJECT,
        LOCATION,
        retry_attempts=attempts,
        httpx_client=httpx.Client(transport=httpx.MockTransport(fake.handler)),
        credentials=Credentials(token="test"),  # type: ignore[no-untyped-call]
        initial_delay_s=0.0,
        max_delay_s=0.0,
        jitter_s=0.0,
    )


class Counters(InMemoryClaims):
    """The claims fake, with its counters readable by key."""

    @property
    def values(self) -> dict[str, int]:
        return dict(self._counters)


def make_veo(
    fake: FakeVertex,
    blobs: FilesystemBlobStore,
    *,
    model: str = MODEL,
    attempts: int = 3,
    counters: Counters | None = None,
    **kw: Any,
) -> VeoVideos:
    options: dict[str, Any] = {"requests_per_minute": 10, "resolution": "720p", "audio": False}
    if "frames" not in kw:
        options["frames"] = Frames()
    options.update(kw)
    return VeoVideos(
        make_fake_client(fake, attempts=attempts),
        model,
        blobs,
        claims=counters or Counters(),
        **options,
    )


class Frames:
    """A first-frame composer that draws nothing: records what it was asked for."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, str, list[str], str]] = []

    def compose_frame(
        self,
        shot: Shot,
        plan: StoryPlan,
        references: dict[str, bytes],
        *,
        tale_id: str = "",
        key: str = "",
    ) -> bytes:
        self.calls.append((shot.index, plan.aspect_ratio, list(references), key))
        return (
            PNG
            + b"frame:"
            + plan.aspect_ratio.encode()
            + b":"
            + b",".join(references[name] for name in references)
        )


def make_request(
    blobs: FilesystemBlobStore,
    *,
    duration: int = 8,
    aspect_ratio: str = "16:9",
    characters: tuple[str, ...] = ("Mina", "Fox"),
) -> VideoRequest:
    cast = [
        Character(name="Mina", description="a girl in a red coat"),
        Character(name="Fox", description="a small red fox"),
        Character(name="Owl", description="an old grey owl"),
        Character(name="Crab", description="a blue crab"),
    ]
    refs = {}
    for c in cast:
        path = f"tales/tale-1/characters/{c.name.lower()}.png"
        blobs.put_bytes(path, PNG + c.name.encode(), "image/png")
        refs[c.name] = path
    shot = Shot(
        index=0,
        scene_index=0,
        prompt="Mina and the fox walk along the beach at dusk, medium shot",
        camera=Camera.MEDIUM,
        duration_s=8,
        characters=list(characters),
        narration="They walked.",
    )
    plan = StoryPlan(
        title="Mina and the fox",
        language="en",
        style=Style.STORYBOOK,
        aspect_ratio=aspect_ratio,
        characters=cast,
        scenes=[Scene(index=0, setting="a beach", summary="They meet.")],
        shots=[shot],
    )
    shot = shot.model_copy(update={"duration_s": duration})  # unvalidated: may be 5
    return VideoRequest(
        tale_id="tale-1",
        plan=plan,
        shot=shot,
        attempt=1,
        output_path="tales/tale-1/shots/00-a1.mp4",
        reference_images=refs,
    )


def poll_until_done(veo: VeoVideos, operation_id: str, limit: int = 10) -> Any:
    for _ in range(limit):
        result = veo.poll(operation_id)
        if result.done:
            return result
    raise AssertionError("operation never finished")


@pytest.fixture
def blobs(tmp_path: Path) -> FilesystemBlobStore:
    return FilesystemBlobStore(tmp_path / "media")


# --- start and poll --------------------------------------------------------------------------
def test_start_and_poll_to_a_clip_in_the_blob_store(mp4: bytes, blobs: FilesystemBlobStore) -> None:
    fake = FakeVertex(lambda: video_result(mp4), polls_before_done=2)
    veo = make_veo(fake, blobs)
    request = make_request(blobs)

    operation_id = veo.start(request)

    assert operation_id == f"{RESOURCE}/operations/1001"
    assert blobs.exists(operation_record_path(operation_id))
    assert blobs.exists(attempt_record_path(request.output_path))
    assert not veo.poll(operation_id).done
    assert not veo.poll(operation_id).done
    result = veo.poll(operation_id)
    assert result.done and result.error is None and not result.refused
    assert result.clip_path == request.output_path
    assert result.units == {"video_seconds": 8.0}
    assert blobs.get_bytes(request.output_path) == mp4
    assert fake.count("predict") == 1 and fake.count("fetch") == 3
    assert fake.bodies("fetch")[0] == {"operationName": operation_id}


def test_an_8_second_16_9_shot_carries_asset_references(
    mp4: bytes, blobs: FilesystemBlobStore
) -> None:
    fake = FakeVertex(lambda: video_result(mp4))
    frames = Frames()
    veo = make_veo(fake, blobs, resolution="1080p", audio=True, frames=frames)
    request = make_request(blobs, characters=("Mina", "Fox", "Owl", "Crab"))

    veo.start(request)

    (body,) = fake.bodies("predict")
    instance = body["instances"][0]
    assert instance["prompt"] == request.shot.prompt
    assert "image" not in instance  # never a first frame together with references
    refs = instance["referenceImages"]
    assert [r["referenceType"] for r in refs] == ["ASSET"] * 3  # at most three
    assert [base64.b64decode(r["image"]["bytesBase64Encoded"]) for r in refs] == [
        PNG + b"Mina",
        PNG + b"Fox",
        PNG + b"Owl",
    ]
    assert {r["image"]["mimeType"] for r in refs} == {"image/png"}
    assert body["parameters"] == {
        "sampleCount": 1,
        "durationSeconds": 8,
        "aspectRatio": "16:9",
        "resolution": "1080p",
        "generateAudio": True,
        "personGeneration": "allow_adult",
    }
    assert frames.calls == []


def test_a_portrait_shot_starts_from_a_frame_composed_at_9_16(
    mp4: bytes, blobs: FilesystemBlobStore
) -> None:
    """Veo 3.1 takes no references at 9:16: the image model draws the shot's first frame at
    the video's shape from the characters' sheets — not the square card, centre-cropped."""
    fake = FakeVertex(lambda: video_result(mp4))
    frames = Frames()
    veo = make_veo(fake, blobs, frames=frames, person_generation="dont_allow")
    request = make_request(blobs, duration=4, aspect_ratio="9:16", characters=("Fox", "Mina"))

    veo.start(request)

    assert frames.calls == [(0, "9:16", ["Fox", "Mina"], "frame:0:1")]
    (body,) = fake.bodies("predict")
    instance = body["instances"][0]
    assert "referenceImages" not in instance
    frame = base64.b64decode(instance["image"]["bytesBase64Encoded"])
    assert frame == PNG + b"frame:9:16:" + PNG + b"Fox," + PNG + b"Mina"
    assert instance["image"]["mimeType"] == "image/png"
    assert blobs.get_bytes(first_frame_path(request.output_path)) == frame
    assert body["parameters"]["durationSeconds"] == 4
    assert body["parameters"]["aspectRatio"] == "9:16"
    assert body["parameters"]["generateAudio"] is False
    assert body["parameters"]["personGeneration"] == "dont_allow"

    veo.start(request)  # the same attempt again (a start that was proven not to have run)
    assert len(frames.calls) == 1  # the frame is kept: not paid for twice


@pytest.mark.parametrize(
    ("model", "aspect_ratio", "duration"),
    [
        (MODEL, "9:16", 8),  # Veo 3.1: references only in 16:9
        (MODEL, "16:9", 6),  # … and only for 8-second clips
        ("veo-3.1-fast-generate-001", "16:9", 8),  # the fast tier takes none
    ],
)
def test_where_references_do_not_fit_the_first_frame_is_composed(
    mp4: bytes, blobs: FilesystemBlobStore, model: str, aspect_ratio: str, duration: int
) -> None:
    fake = FakeVertex(lambda: video_result(mp4))
    frames = Frames()
    make_veo(fake, blobs, model=model, frames=frames).start(
        make_request(blobs, duration=duration, aspect_ratio=aspect_ratio)
    )
    (body,) = fake.bodies("predict")
    assert "referenceImages" not in body["instances"][0]
    assert base64.b64decode(body["instances"][0]["image"]["bytesBase64Encoded"]).startswith(
        PNG + b"frame:" + aspect_ratio.encode()
    )
    assert [c[1] for c in frames.calls] == [aspect_ratio]


def test_without_a_frame_composer_such_a_shot_is_text_to_video(
    mp4: bytes, blobs: FilesystemBlobStore
) -> None:
    fake = FakeVertex(lambda: video_result(mp4))
    make_veo(fake, blobs, frames=None).start(make_request(blobs, aspect_ratio="9:16"))
    (body,) = fake.bodies("predict")
    assert set(body["instances"][0]) == {"prompt"}


def test_a_frame_that_cannot_be_drawn_now_started_nothing(
    mp4: bytes, blobs: FilesystemBlobStore
) -> None:
    class Busy(Frames):
        def compose_frame(self, *args: Any, **kw: Any) -> bytes:
            raise TransientError("Vertex AI quota or rate limit exceeded (429)")

    fake = FakeVertex(lambda: video_result(mp4))
    with pytest.raises(NotStarted, match="first frame of shot 1"):
        make_veo(fake, blobs, frames=Busy()).start(make_request(blobs, aspect_ratio="9:16"))
    assert fake.requests == []


def test_a_shot_without_characters_is_text_to_video(mp4: bytes, blobs: FilesystemBlobStore) -> None:
    fake = FakeVertex(lambda: video_result(mp4))
    make_veo(fake, blobs).start(make_request(blobs, characters=()))
    (body,) = fake.bodies("predict")
    assert body["instances"] == [
        {"prompt": "Mina and the fox walk along the beach at dusk, medium shot"}
    ]


def test_a_new_process_resumes_polling_by_operation_name_alone(mp4: bytes, tmp_path: Path) -> None:
    fake = FakeVertex(lambda: video_result(mp4), polls_before_done=3)
    first = make_veo(fake, FilesystemBlobStore(tmp_path / "media"))
    operation_id = first.start(make_request(FilesystemBlobStore(tmp_path / "media")))
    assert not first.poll(operation_id).done

    # Another process: a new client, a new blob store object on the same bucket, no memory.
    second = make_veo(fake, FilesystemBlobStore(tmp_path / "media"))
    result = poll_until_done(second, operation_id)

    assert result.clip_path == "tales/tale-1/shots/00-a1.mp4"
    assert result.units == {"video_seconds": 8.0}
    assert FilesystemBlobStore(tmp_path / "media").get_bytes(result.clip_path) == mp4
    assert fake.count("predict") == 1


def test_every_attempt_has_its_own_output_folder_in_the_media_bucket(
    blobs: FilesystemBlobStore,
) -> None:
    uri = f"gs://{BUCKET}/tales/tale-1/shots/00-a1/1234567/sample_0.mp4"
    fake = FakeVertex(
        lambda: {
            "response": {
                "@type": RESPONSE_TYPE,
                "videos": [{"gcsUri": uri, "mimeType": "video/mp4"}],
            }
        },
        polls_before_done=0,
    )
    veo = make_veo(fake, blobs, output_gcs_uri=f"gs://{BUCKET}")

    result = poll_until_done(veo, veo.start(make_request(blobs)))

    assert (
        fake.bodies("predict")[0]["parameters"]["storageUri"]
        == f"gs://{BUCKET}/tales/tale-1/shots/00-a1/"
    )
    assert result.clip_path == "tales/tale-1/shots/00-a1/1234567/sample_0.mp4"
    assert result.units == {"video_seconds": 8.0}


def test_a_clip_outside_the_media_bucket_is_a_permanent_error(blobs: FilesystemBlobStore) -> None:
    uri = "gs://someone-elses-bucket/out/sample_0.mp4"
    fake = FakeVertex(
        lambda: {"response": {"@type": RESPONSE_TYPE, "videos": [{"gcsUri": uri}]}},
        polls_before_done=0,
    )
    veo = make_veo(fake, blobs, output_gcs_uri=f"gs://{BUCKET}")
    operation_id = veo.start(make_request(blobs))
    with pytest.raises(PermanentError, match="outside the media bucket"):
        veo.poll(operation_id)


# --- refusals and failures -------------------------------------------------------------------
def test_a_filtered_result_is_refused_with_the_reasons(blobs: FilesystemBlobStore) -> None:
    reason = "Veo could not generate videos because the input image violates usage guidelines."
    fake = FakeVertex(
        lambda: {
            "response": {
                "@type": RESPONSE_TYPE,
                "raiMediaFilteredCount": 1,
                "raiMediaFilteredReasons": [reason],
            }
        },
        polls_before_done=1,
    )
    veo = make_veo(fake, blobs)
    request = make_request(blobs)

    result = poll_until_done(veo, veo.start(request))

    assert result.done and result.refused and result.clip_path is None
    assert result.error == f"the video model's safety filter refused this shot: {reason}"
    assert result.units == {}
    assert not blobs.exists(request.output_path)


def test_an_operation_error_is_reported_and_a_policy_error_refused(
    blobs: FilesystemBlobStore,
) -> None:
    errors = iter(
        [
            {"code": 13, "message": "Internal error while generating the video."},
            {"code": 3, "message": "The prompt violates Google's Responsible AI practices."},
        ]
    )
    fake = FakeVertex(lambda: {"error": next(errors)}, polls_before_done=0)
    veo = make_veo(fake, blobs)

    failed = veo.poll(veo.start(make_request(blobs)))
    refused = veo.poll(veo.start(make_request(blobs)))

    assert failed.done and not failed.refused
    assert failed.error == "Veo: Internal error while generating the video."
    assert refused.done and refused.refused
    assert "Responsible AI" in (refused.error or "")


def test_no_video_and_no_filter_is_an_error_worth_another_attempt(
    blobs: FilesystemBlobStore,
) -> None:
    fake = FakeVertex(lambda: {"response": {"@type": RESPONSE_TYPE}}, polls_before_done=0)
    veo = make_veo(fake, blobs)
    result = veo.poll(veo.start(make_request(blobs)))
    assert result.done and not result.refused and result.error == "Veo finished without a video"


# --- validation before any paid call ---------------------------------------------------------
@pytest.mark.parametrize(
    ("kw", "reason"),
    [
        ({"aspect_ratio": "1:1"}, "aspect ratio 1:1 is not supported by Veo"),
        ({"duration": 5}, "clips of 4, 6 or 8 seconds, not 5"),
    ],
)
def test_validation_refuses_before_any_http_call(
    blobs: FilesystemBlobStore, kw: dict[str, Any], reason: str
) -> None:
    fake = FakeVertex(lambda: {})
    veo = make_veo(fake, blobs)
    request = make_request(blobs, **kw)
    with pytest.raises(PermanentError, match=reason):
        veo.start(request)
    assert fake.requests == []


def test_the_model_table() -> None:
    assert set(veo_models.MODELS) == {"veo-3.1-generate-001", "veo-3.1-fast-generate-001"}
    assert veo_models.CHECKED == "2026-12-01" and veo_models.SOURCE.startswith("https://")
    for model_id, m in veo_models.MODELS.items():
        assert m.durations == (4, 6, 8) and m.aspect_ratios == ("16:9", "9:16"), model_id
        assert m.resolutions == ("720p", "1080p") and m.audio and m.image_to_video
        assert m.durations_at("1080p") == (8,) and m.durations_at("720p") == (4, 6, 8)
        assert m.requests_per_minute == 50 and m.price_key.startswith("veo-3.1")
    for retired in ("veo-3.1-generate-preview", "veo-3.0-generate-001", "veo-2.0-generate-001"):
        with pytest.raises(ModelUnavailable, match=f"Veo model {retired} is retired"):
            veo_models.constraints(retired)
    with pytest.raises(ModelUnavailable, match="unknown Veo model 'veo-9'"):
        veo_models.constraints("veo-9")

    veo31 = veo_models.constraints(MODEL)
    ok = {"duration": 8, "aspect_ratio": "16:9", "resolution": "720p", "audio": False}
    veo_models.validate(veo31, **ok, references=3)  # type: ignore[arg-type]
    cases = [
        ({**ok, "references": 4}, "at most 3 reference images, not 4"),
        ({**ok, "duration": 6, "references": 1}, "only for 8-second clips, not 6"),
        ({**ok, "aspect_ratio": "9:16", "references": 1}, "only for 16:9 videos, not 9:16"),
        ({**ok, "references": 1, "first_frame": True}, "either a first frame or reference"),
        ({**ok, "resolution": "4k"}, "720p or 1080p, not 4k"),
        ({**ok, "resolution": "1080p", "duration": 4}, "1080p only for 8-second clips, not 4"),
        ({**ok, "person_generation": "kids"}, "personGeneration must be one of"),
    ]
    for kw, reason in cases:
        with pytest.raises(PermanentError, match=reason):
            veo_models.validate(veo31, **kw)  # type: ignore[arg-type]
    fast = veo_models.constraints("veo-3.1-fast-generate-001")
    with pytest.raises(PermanentError, match="does not accept reference images"):
        veo_models.validate(fast, **ok, references=1)  # type: ignore[arg-type]


def test_what_is_renderable_is_decided_by_the_table() -> None:
    assert veo_models.renderable(MODEL, "9:16", 8) is None
    assert veo_models.renderable(MODEL, "16:9", 4) is None
    square = veo_models.renderable(MODEL, "1:1", 8)
    assert square is not None and "not 1:1" in square.reason
    assert square.supported_aspect_ratios == ("16:9", "9:16")
    assert square.supported_seconds == (4, 6, 8)
    odd = veo_models.renderable(MODEL, "9:16", 5)
    assert odd is not None and "4, 6 or 8 seconds, not 5" in odd.reason
    retired = veo_models.renderable("veo-3.0-generate-001", "9:16", 8)
    assert retired is not None and "retired" in retired.reason


def test_a_retired_model_fails_the_shot_before_the_claim_with_an_alert(
    blobs: FilesystemBlobStore, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeVertex(lambda: {})
    veo = make_veo(fake, blobs, model="veo-3.0-generate-001")  # the process still starts
    for call in (veo.admit, lambda: veo.start(make_request(blobs))):
        with pytest.raises(ModelUnavailable, match=r"use veo-3.1-generate-001 \(TALE_VEO_MODEL\)"):
            call()
    assert fake.requests == []
    alerts = [
        r.__dict__["tale_fields"]
        for r in caplog.records
        if r.__dict__.get("tale_fields", {}).get("event") == "provider.model_missing"
    ]
    assert alerts and alerts[0]["model"] == "veo-3.0-generate-001"


# --- quota ----------------------------------------------------------------------------------
def test_admit_refuses_past_the_per_minute_quota_shared_by_instances(
    blobs: FilesystemBlobStore,
) -> None:
    counters = Counters()
    now = [600.0]
    a = make_veo(
        FakeVertex(lambda: {}),
        blobs,
        counters=counters,
        requests_per_minute=3,
        clock=lambda: now[0],
    )
    b = make_veo(
        FakeVertex(lambda: {}),
        blobs,
        counters=counters,
        requests_per_minute=3,
        clock=lambda: now[0],
    )
    a.admit()
    b.admit()
    a.admit()
    with pytest.raises(TransientError, match="Veo quota: 4 requests this minute; retrying later"):
        b.admit()
    assert counters.values[f"quota:{MODEL}:10"] == 4
    now[0] = 660.0  # the next minute's window
    a.admit()
    assert counters.values[f"quota:{MODEL}:11"] == 1


# --- a start is sent once: what its failures mean -------------------------------------------
def test_a_429_on_a_start_is_not_retried_and_proves_nothing_started(
    mp4: bytes, blobs: FilesystemBlobStore
) -> None:
    fake = FakeVertex(lambda: video_result(mp4))
    fake.fail["predict"] = [429]
    veo = make_veo(fake, blobs, attempts=5)

    with pytest.raises(NotStarted, match="quota or rate limit"):
        veo.start(make_request(blobs))
    assert fake.count("predict") == 1 and fake.operations == {}

    operation_id = veo.start(make_request(blobs))  # the redelivered event, later
    assert list(fake.operations) == [operation_id]


@pytest.mark.parametrize("lost", [500, 503, "timeout"])
def test_a_lost_answer_on_a_start_is_never_sent_again_and_keeps_the_claim(
    mp4: bytes, blobs: FilesystemBlobStore, lost: int | str
) -> None:
    fake = FakeVertex(lambda: video_result(mp4))
    fake.lose["predict"] = [lost]
    veo = make_veo(fake, blobs, attempts=5)

    with pytest.raises(TransientError) as caught:
        veo.start(make_request(blobs))

    assert not isinstance(caught.value, NotStarted)  # it may have started: keep the claim
    assert "may have started" in str(caught.value)
    assert fake.count("predict") == 1  # the SDK did not send it again
    assert len(fake.operations) == 1  # and Vertex is running it


def test_a_500_before_anything_started_is_still_not_retried(
    mp4: bytes, blobs: FilesystemBlobStore
) -> None:
    fake = FakeVertex(lambda: video_result(mp4))
    fake.fail["predict"] = [500]
    with pytest.raises(TransientError) as caught:
        make_veo(fake, blobs, attempts=5).start(make_request(blobs))
    assert not isinstance(caught.value, NotStarted)  # a 5xx cannot tell: keep the claim
    assert fake.count("predict") == 1


def test_a_400_is_permanent_with_the_apis_message(blobs: FilesystemBlobStore) -> None:
    fake = FakeVertex(lambda: {})
    fake.fail["predict"] = [400]
    veo = make_veo(fake, blobs)
    with pytest.raises(PermanentError, match="INVALID_ARGUMENT from fake"):
        veo.start(make_request(blobs))
    assert fake.count("predict") == 1  # a 400 is not retried


def test_a_404_on_the_model_fails_fast_with_an_operator_alert(
    blobs: FilesystemBlobStore, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeVertex(lambda: {})
    fake.fail["predict"] = [404]
    with pytest.raises(ModelUnavailable) as caught:
        make_veo(fake, blobs, attempts=5).start(make_request(blobs))
    message = str(caught.value)
    assert f"model {MODEL} is not available on Vertex AI" in message
    assert "TALE_VEO_MODEL" in message and "tale doctor" in message
    assert fake.count("predict") == 1
    (alert,) = [
        r.__dict__["tale_fields"]
        for r in caplog.records
        if r.__dict__.get("tale_fields", {}).get("event") == "provider.model_missing"
    ]
    assert (alert["provider"], alert["model"], alert["reason"]) == ("veo", MODEL, "model-missing")


def test_polls_are_idempotent_and_still_retried(mp4: bytes, blobs: FilesystemBlobStore) -> None:
    fake = FakeVertex(lambda: video_result(mp4))
    veo = make_veo(fake, blobs, attempts=2)
    operation_id = veo.start(make_request(blobs))
    fake.fail_forever["fetch"] = 500
    with pytest.raises(TransientError):
        veo.poll(operation_id)
    assert fake.count("fetch") == 2

    del fake.fail_forever["fetch"]  # the redelivered event resumes the same operation
    assert poll_until_done(veo, operation_id).clip_path == "tales/tale-1/shots/00-a1.mp4"
    assert fake.count("predict") == 1


def test_an_unknown_operation_is_permanent(blobs: FilesystemBlobStore) -> None:
    veo = make_veo(FakeVertex(lambda: {}), blobs)
    with pytest.raises(PermanentError):
        veo.poll(f"{RESOURCE}/operations/404")


# --- recovering an unrecorded start ----------------------------------------------------------
def gcs_result(uri: str) -> dict[str, Any]:
    return {"response": {"@type": RESPONSE_TYPE, "videos": [{"gcsUri": uri}]}}


def test_recovery_finds_the_video_in_the_attempts_folder(
    mp4: bytes, blobs: FilesystemBlobStore
) -> None:
    fake = FakeVertex(lambda: {})
    fake.lose["predict"] = [503]
    veo = make_veo(fake, blobs, output_gcs_uri=f"gs://{BUCKET}")
    request = make_request(blobs)
    with pytest.raises(TransientError):
        veo.start(request)
    assert not blobs.exists(attempt_record_path(request.output_path))
    assert veo.recover(request, claimed_at=1000.0, now=1010.0) == Recovery()  # not yet

    # Veo writes the attempt's video where it was told to.
    blobs.put_bytes("tales/tale-1/shots/00-a1/8812345/sample_0.mp4", mp4, "video/mp4")
    blobs.put_bytes("tales/tale-1/shots/00-a10/1/sample_0.mp4", b"another attempt", "video/mp4")
    found = veo.recover(request, claimed_at=1000.0, now=1020.0)

    assert found == Recovery(clip_path=request.output_path, units={"video_seconds": 8.0})
    assert blobs.get_bytes(request.output_path) == mp4  # where the stage expects the clip
    assert fake.count("predict") == 1


def test_recovery_proves_nothing_ran_only_after_the_maximum_latency(
    blobs: FilesystemBlobStore,
) -> None:
    fake = FakeVertex(lambda: {})
    veo = make_veo(fake, blobs, output_gcs_uri=f"gs://{BUCKET}")
    request = make_request(blobs)
    claimed = 5000.0
    assert veo.max_latency_s == veo_models.MAX_LATENCY_S >= 6 * 60
    assert veo.recover(request, claimed, claimed + veo.max_latency_s - 1) == Recovery()
    assert veo.recover(request, claimed, claimed + veo.max_latency_s) == Recovery(nothing_ran=True)
    assert fake.requests == []  # recovery never starts anything


def test_without_an_output_location_recovery_cannot_prove_anything(
    blobs: FilesystemBlobStore,
) -> None:
    veo = make_veo(FakeVertex(lambda: {}), blobs)
    assert veo.recover(make_request(blobs), 0.0, 10**9) == Recovery()


def test_a_start_whose_name_was_written_down_is_recovered_as_its_operation(
    mp4: bytes, blobs: FilesystemBlobStore
) -> None:
    """The claimant died after the start returned, before the stage recorded the name."""
    fake = FakeVertex(lambda: video_result(mp4), polls_before_done=1)
    veo = make_veo(fake, blobs)
    request = make_request(blobs)
    operation_id = veo.start(request)

    assert veo.recover(request, 0.0, 1.0) == Recovery(operation_id=operation_id)
    assert poll_until_done(veo, operation_id).clip_path == request.output_path
    assert fake.count("predict") == 1


# --- through the render_shot stage ----------------------------------------------------------
class Usages(UsageRecorder):
    def __init__(self) -> None:
        self.records: list[Usage] = []

    def record(self, usage: Usage) -> None:
        self.records.append(usage)

    def for_tale(self, tale_id: str) -> list[Usage]:
        return [u for u in self.records if u.tale_id == tale_id]


def rendering_tale(blobs: FilesystemBlobStore) -> InMemoryTaleStore:
    store = InMemoryTaleStore()
    store.create(make_record(STAGE_TALE), make_submission(shots=2))
    store.save_plan(STAGE_TALE, make_plan(2))
    store.transition(STAGE_TALE, [TaleState.SUBMITTED], TaleState.PLANNING, stage="planning")
    store.transition(STAGE_TALE, [TaleState.PLANNING], TaleState.RENDERING, stage="characters")
    store.init_shots(STAGE_TALE, 2)
    path = f"tales/{STAGE_TALE}/characters/mina.png"
    blobs.put_bytes(path, PNG, "image/png")
    store.record_character(STAGE_TALE, "Mina", path)
    return store


def test_render_shot_hands_over_and_a_new_process_finishes_the_same_operation(
    mp4: bytes, tmp_path: Path
) -> None:
    fake = FakeVertex(lambda: video_result(mp4), polls_before_done=1)
    blobs = FilesystemBlobStore(tmp_path / "media")
    store, bus, usage = rendering_tale(blobs), FakeBus(), Usages()
    settings = Settings(shot_poll_budget_s=0.01, shot_poll_interval_s=0.01)
    envelope = Envelope(topic="shot.requested", message_id="m-1", data=b"")

    event = ShotRequested(tale_id=STAGE_TALE, shot_index=1)
    render_shot(event, store, make_veo(fake, blobs), bus, settings, envelope, usage)
    (follow_up,) = bus.of(ShotRequested)
    assert isinstance(follow_up, ShotRequested) and follow_up.poll == 1
    assert store.shots(STAGE_TALE)[1].operation_id == f"{RESOURCE}/operations/1001"

    again = FilesystemBlobStore(tmp_path / "media")
    render_shot(follow_up, store, make_veo(fake, again), bus, settings, envelope, usage)

    shot = store.shots(STAGE_TALE)[1]
    assert shot.status is ShotStatus.RENDERED
    assert shot.clip_path is not None and again.get_bytes(shot.clip_path) == mp4
    assert fake.count("predict") == 1
    (record,) = usage.records
    assert (record.provider, record.model, record.units) == ("veo", MODEL, {"video_seconds": 4.0})
    assert [e.key for e in bus.of(ShotRendered)] == [f"{STAGE_TALE}:shot:1:1"]


def test_render_shot_fails_a_filtered_shot_permanently(tmp_path: Path) -> None:
    fake = FakeVertex(
        lambda: {"response": {"@type": RESPONSE_TYPE, "raiMediaFilteredCount": 1}},
        polls_before_done=0,
    )
    blobs = FilesystemBlobStore(tmp_path / "media")
    store = rendering_tale(blobs)
    settings = Settings(shot_poll_budget_s=0.01, shot_poll_interval_s=0.01)
    envelope = Envelope(topic="shot.requested", message_id="m-1", data=b"")
    event = ShotRequested(tale_id=STAGE_TALE, shot_index=0)
    with pytest.raises(PermanentError, match=r"refused by the video model: .*no reason given"):
        render_shot(event, store, make_veo(fake, blobs), FakeBus(), settings, envelope, Usages())
    assert store.shots(STAGE_TALE)[0].status is ShotStatus.FAILED
    assert fake.count("predict") == 1
