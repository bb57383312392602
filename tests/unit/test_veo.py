"""VeoVideos against the real google-genai client, HTTP answered by a fake Vertex AI.

The fake speaks the REST shapes the SDK uses in Vertex mode:
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
from shared.domain.errors import PermanentError, TransientError
from shared.domain.tale import ShotStatus, TaleState
from shared.media.encode import write_h264
from shared.ports.generators import VideoRequest
from shared.ports.usage import Usage, UsageRecorder
from shared.providers.google import veo_models
from shared.providers.google.client import make_client
from shared.providers.google.veo import VeoVideos, operation_record_path
from shared.pubsub_message import Envelope
from shared.stages.shots import render_shot
from tests.conftest import make_plan, make_record, make_submission
from tests.fakes import FakeBus, InMemoryClaims, InMemoryTaleStore

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
            name = f"{resource}/operations/{next(self._ids)}"
            self.operations[name] = FakeOperation(self.polls_before_done, self.result())
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
    status = status or {429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 400: "INVALID_ARGUMENT"}[code]
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
    options.update(kw)
    return VeoVideos(
        make_fake_client(fake, attempts=attempts),
        model,
        blobs,
        claims=counters or Counters(),
        **options,
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
    assert not veo.poll(operation_id).done
    assert not veo.poll(operation_id).done
    result = veo.poll(operation_id)
    assert result.done and result.error is None and not result.refused
    assert result.clip_path == request.output_path
    assert result.units == {"video_seconds": 8.0}
    assert blobs.get_bytes(request.output_path) == mp4
    assert fake.count("predict") == 1 and fake.count("fetch") == 3
    assert fake.bodies("fetch")[0] == {"operationName": operation_id}


def test_an_8_second_shot_carries_asset_references(mp4: bytes, blobs: FilesystemBlobStore) -> None:
    fake = FakeVertex(lambda: video_result(mp4))
    veo = make_veo(fake, blobs, resolution="1080p", audio=True)
    request = make_request(blobs, characters=("Mina", "Fox", "Owl", "Crab"))

    veo.start(request)

    (body,) = fake.bodies("predict")
    instance = body["instances"][0]
    assert instance["prompt"] == request.shot.prompt
    assert "image" not in instance
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
    }


def test_a_4_second_shot_starts_from_the_first_characters_image(
    mp4: bytes, blobs: FilesystemBlobStore
) -> None:
    fake = FakeVertex(lambda: video_result(mp4))
    veo = make_veo(fake, blobs)

    veo.start(make_request(blobs, duration=4, aspect_ratio="9:16", characters=("Fox", "Mina")))

    (body,) = fake.bodies("predict")
    instance = body["instances"][0]
    assert "referenceImages" not in instance
    assert base64.b64decode(instance["image"]["bytesBase64Encoded"]) == PNG + b"Fox"
    assert instance["image"]["mimeType"] == "image/png"
    assert body["parameters"]["durationSeconds"] == 4
    assert body["parameters"]["aspectRatio"] == "9:16"
    assert body["parameters"]["generateAudio"] is False


def test_references_fall_back_to_a_first_frame_where_the_model_refuses_them(
    mp4: bytes, blobs: FilesystemBlobStore
) -> None:
    fake = FakeVertex(lambda: video_result(mp4))
    # Veo 3.1 takes references only in 16:9; Veo 3.0 takes none.
    make_veo(fake, blobs).start(make_request(blobs, aspect_ratio="9:16"))
    make_veo(fake, blobs, model="veo-3.0-generate-001").start(make_request(blobs))
    for body in fake.bodies("predict"):
        assert "referenceImages" not in body["instances"][0]
        assert (
            base64.b64decode(body["instances"][0]["image"]["bytesBase64Encoded"]) == PNG + b"Mina"
        )


def test_veo_2_gets_neither_resolution_nor_audio(mp4: bytes, blobs: FilesystemBlobStore) -> None:
    fake = FakeVertex(lambda: video_result(mp4))
    veo = make_veo(fake, blobs, model="veo-2.0-generate-001")
    veo.start(make_request(blobs, duration=6))
    (body,) = fake.bodies("predict")
    assert body["parameters"] == {"sampleCount": 1, "durationSeconds": 6, "aspectRatio": "16:9"}
    with pytest.raises(PermanentError, match="clips of 5, 6, 7 or 8 seconds, not 4"):
        veo.start(make_request(blobs, duration=4))
    assert fake.count("predict") == 1


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


def test_a_clip_written_to_the_media_bucket_maps_to_its_blob_path(
    blobs: FilesystemBlobStore,
) -> None:
    uri = f"gs://{BUCKET}/tales/tale-1/shots/1234567/sample_0.mp4"
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
        == f"gs://{BUCKET}/tales/tale-1/shots/"
    )
    assert result.clip_path == "tales/tale-1/shots/1234567/sample_0.mp4"
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
    veo2 = veo_models.constraints("veo-2.0-generate-001")
    assert veo2.durations == (5, 6, 7, 8) and not veo2.audio
    for model_id in (
        "veo-3.1-generate-001",
        "veo-3.1-fast-generate-001",
        "veo-3.0-generate-001",
        "veo-3.0-fast-generate-001",
    ):
        m = veo_models.constraints(model_id)
        assert m.durations == (4, 6, 8) and m.aspect_ratios == ("16:9", "9:16")
        assert m.resolutions == ("720p", "1080p") and m.audio and m.image_to_video
    with pytest.raises(PermanentError, match="unknown Veo model 'veo-9'"):
        veo_models.constraints("veo-9")

    veo31 = veo_models.constraints(MODEL)
    ok = {"duration": 8, "aspect_ratio": "16:9", "resolution": "720p", "audio": False}
    veo_models.validate(veo31, **ok, references=3)  # type: ignore[arg-type]
    cases = [
        ({**ok, "references": 4}, "at most 3 reference images, not 4"),
        ({**ok, "duration": 6, "references": 1}, "only for 8-second clips, not 6"),
        ({**ok, "aspect_ratio": "9:16", "references": 1}, "only for 16:9 videos, not 9:16"),
        ({**ok, "resolution": "4k"}, "720p or 1080p, not 4k"),
    ]
    for kw, reason in cases:
        with pytest.raises(PermanentError, match=reason):
            veo_models.validate(veo31, **kw)  # type: ignore[arg-type]
    with pytest.raises(PermanentError, match="cannot generate audio"):
        veo_models.validate(veo2, duration=5, aspect_ratio="16:9", resolution="720p", audio=True)
    with pytest.raises(PermanentError, match="does not accept reference images"):
        veo_models.validate(veo2, **ok, references=1)  # type: ignore[arg-type]


def test_an_unknown_model_is_refused_at_construction(blobs: FilesystemBlobStore) -> None:
    with pytest.raises(PermanentError, match="unknown Veo model"):
        make_veo(FakeVertex(lambda: {}), blobs, model="veo-1.0")


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


# --- transient HTTP errors --------------------------------------------------------------------
def test_a_429_burst_that_heals_starts_one_operation(
    mp4: bytes, blobs: FilesystemBlobStore
) -> None:
    fake = FakeVertex(lambda: video_result(mp4))
    fake.fail["predict"] = [429, 429]
    veo = make_veo(fake, blobs, attempts=3)

    operation_id = veo.start(make_request(blobs))

    assert fake.count("predict") == 3
    assert list(fake.operations) == [operation_id]
    assert poll_until_done(veo, operation_id).clip_path == "tales/tale-1/shots/00-a1.mp4"


def test_429_past_the_retries_is_transient(mp4: bytes, blobs: FilesystemBlobStore) -> None:
    fake = FakeVertex(lambda: video_result(mp4))
    fake.fail_forever["predict"] = 429
    veo = make_veo(fake, blobs, attempts=3)
    with pytest.raises(TransientError):
        veo.start(make_request(blobs))
    assert fake.count("predict") == 3
    assert fake.operations == {}


def test_a_400_is_permanent_with_the_apis_message(blobs: FilesystemBlobStore) -> None:
    fake = FakeVertex(lambda: {})
    fake.fail["predict"] = [400]
    veo = make_veo(fake, blobs)
    with pytest.raises(PermanentError, match="INVALID_ARGUMENT from fake"):
        veo.start(make_request(blobs))
    assert fake.count("predict") == 1  # a 400 is not retried


def test_a_500_forever_on_poll_is_transient(mp4: bytes, blobs: FilesystemBlobStore) -> None:
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
