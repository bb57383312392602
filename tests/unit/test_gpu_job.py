"""Scenario B dispatch with the Cloud Run client intercepted: one job execution per tale,
never two, whatever is redelivered or lost (an unanswered ``run_job`` is found in Cloud Run's
list of executions, or proven absent, before anything starts again); shots finish when the
worker's clips appear."""

from __future__ import annotations

import inspect
import time
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from google.api_core.exceptions import (
    DeadlineExceeded,
    NotFound,
    ServiceUnavailable,
    TooManyRequests,
)
from google.cloud import run_v2

from schemas.events import ShotRequested
from shared.config import Settings
from shared.domain.errors import NotStarted, PermanentError, TransientError
from shared.domain.tale import ShotStatus, TaleState
from shared.ports.generators import Recovery, VideoRequest
from shared.ports.usage import NoUsage
from shared.providers.selfhosted.gpu_job import (
    GpuJobVideos,
    announce_execution,
    clip_path,
    read_record,
)
from shared.pubsub_message import Envelope
from shared.stages.shots import render_shot
from tests.conftest import make_plan, make_record, make_submission
from tests.fakes import FakeBus, InMemoryClaims, InMemoryTaleStore, MemoryBlobs

TALE = "tale-000001"
JOB = "projects/p/locations/us-central1/jobs/tale-gpu-worker"
FAST = Settings(shot_poll_budget_s=0.05, shot_poll_interval_s=0.01)


class FakeCloudRun:
    """The job's executions as Cloud Run keeps them: ``run_job`` creates one (with the run's
    overrides in its template) unless it is refused; ``lose`` answers make the call fail after
    the execution was created (a lost answer); ``fail`` ones fail before anything exists."""

    def __init__(self, fail: list[Exception] | None = None, lose: int = 0) -> None:
        self.fail = list(fail or [])
        self.lose = lose
        self.calls: list[dict[str, Any]] = []
        self.requests: list[run_v2.RunJobRequest] = []
        self.executions: list[SimpleNamespace] = []
        self.state = SimpleNamespace(
            task_count=2, succeeded_count=0, failed_count=0, cancelled_count=0, completion_time=None
        )

    def run_job(
        self,
        request: Any = None,
        *,
        name: Any = None,
        retry: Any = None,
        timeout: Any = None,
        metadata: Any = (),
    ) -> Any:
        self.calls.append({"retry": retry, "timeout": timeout})
        if self.fail:
            raise self.fail.pop(0)
        self.requests.append(request)
        execution = SimpleNamespace(
            name=f"{JOB}/executions/tale-gpu-worker-{len(self.requests):04d}",
            create_time=datetime.now(UTC),
            template=SimpleNamespace(
                containers=[SimpleNamespace(env=list(request.overrides.container_overrides[0].env))]
            ),
        )
        self.executions.insert(0, execution)  # Cloud Run lists the newest first
        if self.lose:
            self.lose -= 1
            raise DeadlineExceeded("the answer was lost")
        return SimpleNamespace(metadata=SimpleNamespace(name=execution.name))

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

    def list_executions(
        self,
        request: Any = None,
        *,
        parent: Any = None,
        retry: Any = None,
        timeout: Any = None,
        metadata: Any = (),
    ) -> Any:
        assert parent == JOB
        return iter(list(self.executions))


def test_fakes_have_the_real_clients_signatures() -> None:
    for fake, real in (
        (FakeCloudRun.run_job, run_v2.JobsClient.run_job),
        (FakeCloudRun.get_execution, run_v2.ExecutionsClient.get_execution),
        (FakeCloudRun.list_executions, run_v2.ExecutionsClient.list_executions),
    ):
        assert list(inspect.signature(fake).parameters) == list(inspect.signature(real).parameters)


def setup(
    cloud: FakeCloudRun, grace: float = 600.0
) -> tuple[InMemoryTaleStore, MemoryBlobs, GpuJobVideos]:
    store, blobs = InMemoryTaleStore(), MemoryBlobs()
    store.create(make_record(shots=3), make_submission(3))
    store.save_plan(TALE, make_plan(3))
    store.transition(TALE, [TaleState.SUBMITTED], TaleState.PLANNING, stage="planning")
    store.transition(TALE, [TaleState.PLANNING], TaleState.RENDERING, stage="shots")
    store.init_shots(TALE, 3)
    videos = GpuJobVideos(
        cloud,
        cloud,
        JOB,
        blobs,
        claims=InMemoryClaims(),
        log=lambda t, m: store.log(t, "rendering", m),
        tasks=2,
        start_grace_s=grace,
    )
    return store, blobs, videos


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
    cloud, bus = FakeCloudRun(), FakeBus()
    store, blobs, videos = setup(cloud)
    for round_ in range(2):  # every shot event, then every shot event again
        for i in range(3):
            deliver(store, videos, bus, i, f"m{round_}-{i}")
    assert len(cloud.requests) == 1
    request = cloud.requests[0]
    assert request.name == JOB and request.overrides.task_count == 2
    env = request.overrides.container_overrides[0].env
    assert [(e.name, e.value) for e in env] == [("TALE_TALE_ID", TALE), ("TALE_GPU_ATTEMPT", "1")]
    assert cloud.calls == [{"retry": None, "timeout": 60.0}]  # never retried by the client
    assert all(s.status is ShotStatus.STARTED and s.starts == 1 for s in store.shots(TALE))
    assert [e.key for e in bus.published] == [e.key for e in bus.published if "poll" not in e.key]
    record = read_record(blobs, TALE, 1)
    assert record is not None and record.execution == cloud.executions[0].name


def test_shots_finish_when_the_worker_writes_their_clips() -> None:
    cloud, bus = FakeCloudRun(), FakeBus()
    store, blobs, videos = setup(cloud)
    deliver(store, videos, bus, 0, "m0")
    blobs.put_bytes(clip_path(TALE, 0, 1), b"mp4", "video/mp4")  # the worker's clip
    deliver(store, videos, bus, 0, "m0")  # the hand-over event, polling again
    assert store.shots(TALE)[0].status is ShotStatus.RENDERED
    deliver(store, videos, bus, 1, "m1")
    cloud.state.completion_time = "2026-11-21T00:00:00Z"
    cloud.state.succeeded_count, cloud.state.failed_count = 1, 1
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
    assert len(cloud.requests) == 2  # a new execution for attempt 2 only
    assert any("without shot 2" in e.message for e in store.events(TALE))


def test_a_refused_start_is_retried_by_its_redelivery_only() -> None:
    cloud, bus = FakeCloudRun(fail=[TooManyRequests("quota")]), FakeBus()
    store, _, videos = setup(cloud)
    with pytest.raises(NotStarted):
        deliver(store, videos, bus, 0, "m0")
    assert store.shots(TALE)[0].status is ShotStatus.PENDING
    deliver(store, videos, bus, 1, "m1")  # another shot joins; it does not start the job
    assert cloud.requests == []
    deliver(store, videos, bus, 0, "m0")  # the redelivery of the refused start
    assert len(cloud.requests) == 1


def test_a_lost_answer_never_starts_a_second_execution() -> None:
    """run_job created the execution but its answer was lost: the redelivery finds it in
    Cloud Run's list and polls it; every shot joins it; the tale's shots finish."""
    cloud, bus = FakeCloudRun(lose=1), FakeBus()
    store, blobs, videos = setup(cloud)
    with pytest.raises(TransientError, match="unanswered"):
        deliver(store, videos, bus, 0, "m0")
    assert store.shots(TALE)[0].status is ShotStatus.CLAIMED  # the claim is kept
    deliver(store, videos, bus, 1, "m1")  # joins, polls; the record has no execution yet
    deliver(store, videos, bus, 0, "m0")  # the redelivery recovers: found, not started again
    deliver(store, videos, bus, 2, "m2")
    assert len(cloud.calls) == 1 and len(cloud.executions) == 1
    record = read_record(blobs, TALE, 1)
    assert record is not None and record.execution == cloud.executions[0].name
    for i in range(3):
        blobs.put_bytes(clip_path(TALE, i, 1), b"mp4", "video/mp4")
        deliver(store, videos, bus, i, f"m{i}")
    assert [s.status for s in store.shots(TALE)] == [ShotStatus.RENDERED] * 3
    assert len(cloud.calls) == 1


def test_an_unanswered_start_that_created_nothing_starts_again_only_after_the_grace() -> None:
    cloud, bus = FakeCloudRun(fail=[ServiceUnavailable("try later")]), FakeBus()
    store, _, videos = setup(cloud, grace=0.3)
    with pytest.raises(TransientError):
        deliver(store, videos, bus, 0, "m0")  # a 503 may have started it: not NotStarted
    deliver(store, videos, bus, 0, "m0")  # within the grace: nothing is known yet
    assert len(cloud.calls) == 1 and cloud.executions == []
    time.sleep(0.35)  # past the call's timeout and the delivery's life: provably nothing ran
    deliver(store, videos, bus, 0, "m0")
    assert len(cloud.calls) == 2 and len(cloud.executions) == 1
    assert store.shots(TALE)[0].status is ShotStatus.STARTED


def test_a_configuration_error_is_permanent_and_started_nothing() -> None:
    cloud, bus = FakeCloudRun(fail=[NotFound("no such job")]), FakeBus()
    store, blobs, videos = setup(cloud)
    with pytest.raises(PermanentError, match="refused"):
        deliver(store, videos, bus, 0, "m0")
    record = read_record(blobs, TALE, 1)
    assert record is not None and record.refused and record.execution is None


def request_for(index: int, attempt: int = 1) -> VideoRequest:
    plan = make_plan(3)
    return VideoRequest(
        tale_id=TALE,
        plan=plan,
        shot=plan.shots[index],
        attempt=attempt,
        output_path=clip_path(TALE, index, attempt),
        claimant="m",
    )


def test_recover_answers_from_the_clip_the_execution_or_the_time_passed() -> None:
    cloud = FakeCloudRun()
    _, blobs, videos = setup(cloud, grace=600.0)
    now = time.time()
    # Claimed moments ago, nothing requested: the delivery may be about to start it.
    assert videos.recover(request_for(0), now - 5, now) == Recovery()
    # Claimed longer ago than any delivery lives, nothing requested, nothing listed.
    assert videos.recover(request_for(0), now - 700, now) == Recovery(nothing_ran=True)
    # The worker named its execution (the dispatcher never heard run_job's answer).
    announce_execution(blobs, TALE, 1, f"{JOB}/executions/x", now)
    assert videos.recover(request_for(1), now - 700, now) == Recovery(
        operation_id=f"gpu:{TALE}:1:a1"
    )
    blobs.put_bytes(clip_path(TALE, 1, 1), b"mp4", "video/mp4")
    assert videos.recover(request_for(1), now - 700, now) == Recovery(
        clip_path=clip_path(TALE, 1, 1)
    )
    # Attempt 2 was requested (run_job sent) moments ago and is not listed yet: not known.
    videos.start(request_for(2, attempt=2))
    cloud.executions.clear()
    record = read_record(blobs, TALE, 2)
    assert record is not None and record.execution is not None
    assert videos.recover(request_for(0, attempt=2), now - 700, now).operation_id is not None
