"""Scenario A end to end: Gemini plans, the Gemini image model draws, Veo films — the real
google-genai client against the strict Vertex stand-in (tests/vertex.py: a request Vertex would
refuse fails the test) — through the local runtime, with credits reserved and then settled or
refunded."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared import bootstrap, service
from shared.adapters.local.blobs import FilesystemBlobStore
from shared.adapters.local.claims import SqliteClaims
from shared.config import Settings
from shared.domain.credits import tale_cost
from shared.domain.tale import TaleState
from shared.media.encode import write_h264
from shared.providers.google.images import GeminiImages
from shared.providers.google.veo import VeoVideos
from shared.runtime.local import LocalRuntime
from tests.conftest import EXAMPLES, make_submission, plan_draft
from tests.e2e.helpers import decode
from tests.vertex import FakeVertex

pytestmark = pytest.mark.e2e
SHOTS = 3
STORY = (EXAMPLES / "lighthouse-fox.en.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    import numpy as np

    out = tmp_path_factory.mktemp("veo") / "clip.mp4"
    frames = [np.full((160, 90, 3), 30 + 5 * i, np.uint8) for i in range(4 * 8)]
    write_h264(frames, out, fps=8, width=90, height=160)  # 4 s at 8 fps, as Veo would send
    return out.read_bytes()


@pytest.fixture
def world(tmp_path: Path, clip: bytes) -> Iterator[tuple[FakeVertex, Path]]:
    vertex = FakeVertex(plan=plan_draft(SHOTS, STORY), clip=clip)
    yield vertex, tmp_path
    bootstrap.configure(Settings(home=tmp_path / "unused"))


def with_media_bucket(
    vertex: FakeVertex, settings: Settings, *, max_latency_s: float | None = None
) -> dict[str, object]:
    """The container's overrides for Veo writing into the media bucket (``storageUri``, one
    folder per attempt) — here the home's blob folder, which the stand-in writes into."""
    client = vertex.client()
    blobs = FilesystemBlobStore(settings.home / "blobs")
    claims = SqliteClaims(settings.home / "state.db")
    vertex.storage = lambda path, data: blobs.put_bytes(path, data, "video/mp4")
    videos = VeoVideos(
        client,
        settings.veo_model,
        blobs,
        claims=claims,
        requests_per_minute=settings.veo_requests_per_minute,
        resolution=settings.veo_resolution,
        audio=settings.veo_audio,
        frames=GeminiImages(client, settings.image_model, NoUsage()),
        output_gcs_uri=f"gs://{vertex.bucket}",
    )
    if max_latency_s is not None:
        videos.max_latency_s = max_latency_s
    return {"genai": client, "blobs": blobs, "claims": claims, "videos": videos}


class NoUsage:
    def record(self, usage: object) -> None:
        pass


def run_tale(
    vertex: FakeVertex, tmp_path: Path, veo_model: str | None = None, **media: object
) -> tuple[str, str, bootstrap.Container]:
    settings = Settings(
        **({"veo_model": veo_model} if veo_model else {}),  # type: ignore[arg-type]
        home=tmp_path / "home",
        scenario="A",
        vertex_project="tale-test",
        max_delivery_attempts=3,
        retry_min_backoff_s=0.01,
        retry_max_backoff_s=0.05,
        shot_poll_budget_s=2,
        shot_poll_interval_s=0.02,
        concurrency=4,
    )
    overrides: dict[str, object] = {"genai": vertex.client()}
    if media:
        overrides = with_media_bucket(vertex, settings, **media)  # type: ignore[arg-type]
    overrides["genai_speech"] = vertex.speech_client()
    container = bootstrap.configure(settings, **overrides)
    user = str(uuid.uuid4())
    container.ledger.ensure_profile(user, "writer@example.com")
    container.ledger.grant_monthly(user, "2026-11", 16)
    tale_id = service.new_tale_id()
    container.ledger.reserve(user, tale_id, tale_cost(SHOTS, 4))
    service.submit(
        make_submission(SHOTS, text=STORY),
        owner=user,
        store=container.store,
        bus=container.bus,
        max_chars=20_000,
        tale_id=tale_id,
    )
    with LocalRuntime(container) as runtime:
        runtime.run(timeout=120)
    return tale_id, user, container


def kinds(container: bootstrap.Container, user: str) -> list[str]:
    return [e.kind for e in container.ledger.entries(user)]


def image_calls(vertex: FakeVertex) -> int:
    return vertex.model_calls["generateContent", "gemini-3.1-flash-image"]


def test_a_tale_made_by_gemini_the_image_model_and_veo(world: tuple[FakeVertex, Path]) -> None:
    vertex, tmp_path = world
    tale_id, user, container = run_tale(vertex, tmp_path)
    tale = container.store.find(tale_id)
    assert tale is not None and tale.state is TaleState.COMPLETED, tale
    width, height, frames, duration, _ = decode(container.home / "blobs" / tale.outputs["video"])
    assert (width, height, frames) == (90, 160, SHOTS * 32) and abs(duration - 12) <= 0.5
    assert vertex.model_calls["generateContent", "gemini-3.5-flash"] == 1
    assert vertex.calls["predictLongRunning"] == SHOTS  # one paid generation per shot
    assert vertex.calls["predict"] == 0  # Imagen is retired
    assert vertex.refusals == []  # nothing Vertex would refuse was sent
    plan = container.store.plan(tale_id)
    assert plan is not None and plan.aspect_ratio == "9:16"
    cast = [s for s in plan.shots if s.characters]
    # 9:16 takes no references on Veo 3.1: each shot with characters starts from a frame
    # composed at 9:16 from the reference sheets.
    assert image_calls(vertex) == len(container.store.characters(tale_id)) + len(cast)
    starts = vertex.bodies["predictLongRunning"]
    assert sum("image" in b["instances"][0] for b in starts) == len(cast)
    assert all("referenceImages" not in b["instances"][0] for b in starts)
    assert all(b["parameters"]["personGeneration"] == "allow_adult" for b in starts)
    usage = {u.key: u for u in container.usage.for_tale(tale_id)}
    assert usage["plan:1"].units == {"input_tokens": 812, "output_tokens": 1450}
    assert all(usage[f"shot:{i}:1"].units == {"video_seconds": 4} for i in range(SHOTS))
    assert {u.provider for u in usage.values()} >= {"gemini", "gemini-image", "veo", "gcp"}
    assert {u.model for u in usage.values() if u.provider == "gemini-image"} == {
        "gemini-3.1-flash-image"
    }
    ops = [u for u in usage.values() if u.provider == "gcp"]  # one per function invocation
    assert {u.model for u in ops} >= {"plan_story", "render_shot", "stitch_video", "notify_user"}
    assert all(u.units["invocations"] == 1 and u.units["gib_seconds"] > 0 for u in ops)
    assert kinds(container, user) == ["grant", "reserve", "settle"]
    # Every shot's narration read once by the speech model, in the global location.
    assert sorted(vertex.spoken) == sorted((s.narration, "Sulafat", "global") for s in plan.shots)
    assert all(container.blobs.exists(s.voice_path or "-") for s in container.store.shots(tale_id))
    assert all(usage[f"voice:{i}"].units["audio_tokens"] > 0 for i in range(SHOTS))
    assert {usage[f"voice:{i}"].model for i in range(SHOTS)} == {"gemini-3.8-flash-tts"}


@pytest.mark.parametrize("lost", ["timeout", 503])
def test_a_start_whose_answer_is_lost_is_never_sent_twice_and_the_tale_completes(
    world: tuple[FakeVertex, Path], lost: str | int
) -> None:
    """Vertex started every shot's generation, but the first answer of each never arrived:
    the claim is kept, the attempt's output folder shows the video, and it is taken from
    there — one ``predictLongRunning`` per shot attempt."""
    vertex, tmp_path = world
    vertex.lose["predictLongRunning"] = lambda n: lost if n <= SHOTS else None
    tale_id, user, container = run_tale(vertex, tmp_path, max_latency_s=3600.0)
    tale = container.store.find(tale_id)
    assert tale is not None and tale.state is TaleState.COMPLETED, tale
    assert vertex.calls["predictLongRunning"] == SHOTS
    assert len(vertex.started_prompts) == SHOTS
    shots = container.store.shots(tale_id)
    assert [s.attempt for s in shots] == [1] * SHOTS
    for shot in shots:
        assert shot.clip_path == f"tales/{tale_id}/shots/{shot.index:02d}-a1.mp4"
    assert kinds(container, user) == ["grant", "reserve", "settle"]


def test_a_start_lost_before_it_ran_is_started_again_after_the_maximum_latency(
    world: tuple[FakeVertex, Path],
) -> None:
    """A 503 that Vertex answered before starting anything looks the same as a lost answer:
    only once the maximum latency has passed with an empty output folder is the attempt
    started again."""
    vertex, tmp_path = world
    vertex.fail["predictLongRunning"] = lambda n: 503 if n == 1 else None
    tale_id, user, container = run_tale(vertex, tmp_path, max_latency_s=0.3)
    tale = container.store.find(tale_id)
    assert tale is not None and tale.state is TaleState.COMPLETED, tale
    assert len(vertex.started_prompts) == SHOTS  # one generation ran per shot
    assert vertex.calls["predictLongRunning"] == SHOTS + 1
    assert kinds(container, user) == ["grant", "reserve", "settle"]


def test_a_poll_that_failed_resumes_the_same_operation(world: tuple[FakeVertex, Path]) -> None:
    vertex, tmp_path = world
    # Every shot's first polls fail past the SDK's retries: the handler dies after the
    # operation started; the redelivered event must poll it, not start another.
    vertex.fail["fetchPredictOperation"] = lambda n: 503 if n <= 2 * SHOTS else None
    tale_id, user, container = run_tale(vertex, tmp_path)
    assert kinds(container, user) == ["grant", "reserve", "settle"]
    tale = container.store.find(tale_id)
    assert tale is not None and tale.state is TaleState.COMPLETED, tale
    assert vertex.calls["predictLongRunning"] == SHOTS
    assert [s.starts for s in container.store.shots(tale_id)] == [1] * SHOTS


def test_a_shot_the_safety_filter_refuses(world: tuple[FakeVertex, Path]) -> None:
    vertex, tmp_path = world
    target = plan_draft(SHOTS, STORY)["shots"][1]["prompt"]  # type: ignore[index]
    vertex.refuse = lambda prompt: prompt == target
    tale_id, user, container = run_tale(vertex, tmp_path)
    tale = container.store.find(tale_id)
    assert tale is not None and tale.state is TaleState.FAILED
    assert tale.error_stage == "rendering" and "safety filter" in (tale.error_reason or "")
    assert "sensitive words" in (tale.error_reason or "")
    assert kinds(container, user) == ["grant", "reserve", "refund"]
    email = (container.home / "outbox" / f"{tale_id}-failed.eml").read_text()
    assert "safety filter" in email


def test_an_outage_that_never_heals_ends_in_the_dead_letter_path(
    world: tuple[FakeVertex, Path],
) -> None:
    vertex, tmp_path = world
    # 429 RESOURCE_EXHAUSTED proves that nothing started: the claim is released each time.
    vertex.fail["predictLongRunning"] = lambda n: 429
    tale_id, user, container = run_tale(vertex, tmp_path)
    tale = container.store.find(tale_id)
    assert tale is not None and tale.state is TaleState.FAILED
    assert tale.error_stage == "rendering"
    assert "gave up after 3 attempts" in (tale.error_reason or "")
    assert kinds(container, user) == ["grant", "reserve", "refund"]
    assert all(s.starts == 0 for s in container.store.shots(tale_id))  # nothing was paid for
    assert vertex.started_prompts == []


def test_a_retired_video_model_fails_fast_with_an_alert(
    world: tuple[FakeVertex, Path], caplog: pytest.LogCaptureFixture
) -> None:
    """A configuration naming a retired model (submitted past the check, as a tale already
    queued when the model was retired would be) fails at the first shot without retries and
    without a paid call, tells the operator which setting to change, and raises the alert."""
    vertex, tmp_path = world
    tale_id, user, container = run_tale(vertex, tmp_path, veo_model="veo-3.0-generate-001")
    tale = container.store.find(tale_id)
    assert tale is not None and tale.state is TaleState.FAILED
    assert tale.error_stage == "rendering"
    assert "retired on 2026-06-30; use veo-3.1-generate-001 (TALE_VEO_MODEL)" in (
        tale.error_reason or ""
    )
    assert "gave up" not in (tale.error_reason or "")  # not retried to the dead letters
    assert vertex.calls["predictLongRunning"] == 0
    assert kinds(container, user) == ["grant", "reserve", "refund"]
    alerts = [
        r
        for r in caplog.records
        if r.__dict__.get("tale_fields", {}).get("event") == "provider.model_missing"
    ]
    assert alerts and alerts[0].__dict__["tale_fields"]["model"] == "veo-3.0-generate-001"
