"""Scenario B dispatch with the Cloud Run client intercepted: one job execution per tale,
never two, whatever is redelivered; shots finish when the worker's clips appear."""

from __future__ import annotations

import inspect
from types import SimpleNamespace
from typing import Any

import pytest
from google.api_core.exceptions import ServiceUnavailable
from google.cloud import run_v2

from schemas.events import ShotRequested
from shared.config import Settings
from shared.domain.errors import NotStarted
from shared.domain.tale import ShotStatus, TaleState
from shared.ports.usage import NoUsage
from shared.providers.selfhosted.gpu_job import GpuJobVideos, clip_path
from shared.pubsub_message import Envelope
from shared.stages.shots import render_shot
from tests.conftest import make_plan, make_record, make_submission
from tests.fakes import FakeBus, InMemoryClaims, InMemoryTaleStore, MemoryBlobs

TALE = "tale-000001"
JOB = "projects/p/locations/us-central1/jobs/tale-gpu-worker"
FAST = Settings(shot_poll_budget_s=0.05, shot_poll_interval_s=0.01)


class FakeJobs:
    def __init__(self, fail: int = 0) -> None:
        self.requests: list[run_v2.RunJobRequest] = []
        self.fail = fail

    def run_job(
        self,
        request: Any = None,
        *,
        name: Any = None,
        retry: Any = None,
        timeout: Any = None,
        metadata: Any = (),
    ) -> Any:
        if self.fail:
            self.fail -= 1
            raise ServiceUnavailable("try later")
        self.requests.append(request)
        execution = f"{JOB}/executions/tale-gpu-worker-{len(self.requests):04d}"
        return SimpleNamespace(metadata=SimpleNamespace(name=execution))


class FakeExecutions:
    def __init__(self) -> None:
        self.state = SimpleNamespace(
            task_count=2, succeeded_count=0, failed_count=0, cancelled_count=0, completion_time=None
        )

    def get_execution(
        self,
        request: Any = None,
        *,
        name: Any = None,
        retry: Any = None,
        timeout: Any = None,
        metadata: Any = (),
    ) -> Any:
        return self.state


def test_fakes_have_the_real_clients_signatures() -> None:
    for fake, real in (
        (FakeJobs.run_job, run_v2.JobsClient.run_job),
        (FakeExecutions.get_execution, run_v2.ExecutionsClient.get_execution),
    ):
        assert list(inspect.signature(fake).parameters) == list(inspect.signature(real).parameters)


def setup(jobs: FakeJobs) -> tuple[InMemoryTaleStore, MemoryBlobs, GpuJobVideos, FakeExecutions]:
    store, blobs, executions = InMemoryTaleStore(), MemoryBlobs(), FakeExecutions()
    store.create(make_record(shots=3), make_submission(3))
    store.save_plan(TALE, make_plan(3))
    store.transition(TALE, [TaleState.SUBMITTED], TaleState.PLANNING, stage="planning")
    store.transition(TALE, [TaleState.PLANNING], TaleState.RENDERING, stage="shots")
    store.init_shots(TALE, 3)
    videos = GpuJobVideos(
        jobs,
        executions,
        JOB,
        blobs,
        claims=InMemoryClaims(),
        log=lambda t, m: store.log(t, "rendering", m),
        tasks=2,
    )
    return store, blobs, videos, executions


def deliver(
    store: InMemoryTaleStore, videos: GpuJobVideos, bus: FakeBus, index: int, message: str
) -> None:
    render_shot(
        ShotRequested(tale_id=TALE, shot_index=index),
        store,
        videos,
        bus,
        FAST,
        Envelope(topic="shot.requested", message_id=message, data=b""),
        NoUsage(),
    )


def test_one_execution_per_tale_whatever_is_redelivered() -> None:
    jobs, bus = FakeJobs(), FakeBus()
    store, blobs, videos, _ = setup(jobs)
    for round_ in range(2):  # every shot event, then every shot event again
        for i in range(3):
            deliver(store, videos, bus, i, f"m{round_}-{i}")
    assert len(jobs.requests) == 1
    request = jobs.requests[0]
    assert request.name == JOB and request.overrides.task_count == 2
    env = request.overrides.container_overrides[0].env
    assert [(e.name, e.value) for e in env] == [("TALE_TALE_ID", TALE)]
    assert all(s.status is ShotStatus.STARTED and s.starts == 1 for s in store.shots(TALE))
    assert [e.key for e in bus.published] == [e.key for e in bus.published if "poll" not in e.key]
    assert blobs.exists(f"tales/{TALE}/gpu/a1.json")


def test_shots_finish_when_the_worker_writes_their_clips() -> None:
    jobs, bus = FakeJobs(), FakeBus()
    store, blobs, videos, executions = setup(jobs)
    deliver(store, videos, bus, 0, "m0")
    blobs.put_bytes(clip_path(TALE, 0, 1), b"mp4", "video/mp4")  # the worker's clip
    deliver(store, videos, bus, 0, "m0")  # the hand-over event, polling again
    assert store.shots(TALE)[0].status is ShotStatus.RENDERED
    deliver(store, videos, bus, 1, "m1")
    executions.state.completion_time = "2026-11-21T00:00:00Z"
    executions.state.succeeded_count, executions.state.failed_count = 1, 1
    deliver(store, videos, bus, 1, "m1")  # the execution ended without shot 2: attempt 2
    assert store.shots(TALE)[1].attempt == 2
    retry = bus.of(ShotRequested)[-1]
    assert isinstance(retry, ShotRequested) and retry.attempt == 2
    render_shot(
        retry,
        store,
        videos,
        bus,
        FAST,
        Envelope(topic="shot.requested", message_id="m2", data=b""),
        NoUsage(),
    )
    assert len(jobs.requests) == 2  # a new execution for attempt 2 only
    assert any("without shot 2" in e.message for e in store.events(TALE))


def test_a_refused_start_is_retried_by_its_redelivery_only() -> None:
    jobs, bus = FakeJobs(fail=1), FakeBus()
    store, _, videos, _ = setup(jobs)
    with pytest.raises(NotStarted):
        deliver(store, videos, bus, 0, "m0")
    assert store.shots(TALE)[0].status is ShotStatus.PENDING
    deliver(store, videos, bus, 1, "m1")  # another shot joins; it does not start the job
    assert jobs.requests == []
    deliver(store, videos, bus, 0, "m0")  # the redelivery of the refused start
    assert len(jobs.requests) == 1
