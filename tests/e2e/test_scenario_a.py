"""Scenario A end to end: Gemini plans, Imagen draws, Veo films — the real google-genai client
against a Vertex stand-in — through the local runtime, with credits reserved and then settled
or refunded."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared import bootstrap, service
from shared.config import Settings
from shared.domain.credits import tale_cost
from shared.domain.tale import TaleState
from shared.media.encode import write_h264
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


def run_tale(vertex: FakeVertex, tmp_path: Path) -> tuple[str, str, bootstrap.Container]:
    settings = Settings(
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
    container = bootstrap.configure(settings, genai=vertex.client())
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


def test_a_tale_made_by_gemini_imagen_and_veo(world: tuple[FakeVertex, Path]) -> None:
    vertex, tmp_path = world
    tale_id, user, container = run_tale(vertex, tmp_path)
    tale = container.store.find(tale_id)
    assert tale is not None and tale.state is TaleState.COMPLETED, tale
    width, height, frames, duration, _ = decode(container.home / "blobs" / tale.outputs["video"])
    assert (width, height, frames) == (90, 160, SHOTS * 32) and abs(duration - 12) <= 0.5
    assert vertex.calls["generateContent"] == 1
    assert vertex.calls["predictLongRunning"] == SHOTS  # one paid generation per shot
    assert vertex.calls["predict"] == len(container.store.characters(tale_id))
    usage = {u.key: u for u in container.usage.for_tale(tale_id)}
    assert usage["plan:1"].units == {"input_tokens": 812, "output_tokens": 1450}
    assert all(usage[f"shot:{i}:1"].units == {"video_seconds": 4} for i in range(SHOTS))
    assert {u.provider for u in usage.values()} == {"gemini", "imagen", "veo", "gcp"}
    ops = [u for u in usage.values() if u.provider == "gcp"]  # one per function invocation
    assert {u.model for u in ops} >= {"plan_story", "render_shot", "stitch_video", "notify_user"}
    assert all(u.units["invocations"] == 1 and u.units["gib_seconds"] > 0 for u in ops)
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
    vertex.fail["predictLongRunning"] = lambda n: 500
    tale_id, user, container = run_tale(vertex, tmp_path)
    tale = container.store.find(tale_id)
    assert tale is not None and tale.state is TaleState.FAILED
    assert tale.error_stage == "rendering"
    assert "gave up after 3 attempts" in (tale.error_reason or "")
    assert kinds(container, user) == ["grant", "reserve", "refund"]
    assert all(s.starts == 0 for s in container.store.shots(tale_id))  # nothing was paid for
