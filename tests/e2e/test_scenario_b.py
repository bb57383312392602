"""Scenario B end to end: a vLLM stand-in plans, one Cloud Run job execution (run here by the
real GPU worker code on a tiny CogVideoX pipeline, on the CPU) renders every shot, and the
test fails if any connection leaves this machine — no story goes to an external AI host."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from shared import bootstrap, service
from shared.config import Settings
from shared.domain.tale import TaleState
from shared.providers.egress import guarded_client
from shared.providers.selfhosted.gpu_job import GpuJobVideos
from shared.providers.selfhosted.planner import OpenAICompatiblePlanner
from shared.runtime.local import LocalRuntime
from tests.conftest import EXAMPLES, make_submission, plan_draft
from tests.e2e.helpers import decode
from tests.worker.test_worker_cpu import STEPS, tiny_weights  # noqa: F401
from tests.worker.tiny_models import require_model_libraries

pytestmark = pytest.mark.e2e
JOB = "projects/tale/locations/us-central1/jobs/tale-gpu-worker"
SHOTS = 2
STORY = (EXAMPLES / "lighthouse-fox.en.txt").read_text(encoding="utf-8")


@pytest.fixture
def no_external_connections(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every outgoing connection to anything but loopback fails the test."""
    attempts: list[str] = []
    real_connect = socket.socket.connect

    def connect(sock: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else str(address)
        if sock.family in (socket.AF_INET, socket.AF_INET6) and host not in ("127.0.0.1", "::1"):
            attempts.append(host)
            raise AssertionError(f"a connection to {host} left the machine")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    yield attempts
    assert attempts == []


def vllm(plan: dict[str, Any], seen: list[dict[str, Any]]) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        assert request.url.host == "vllm.internal"
        seen.append(json.loads(request.content))
        return httpx.Response(
            200,
            json={
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "model": "qwen",
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": json.dumps(plan)},
                    }
                ],
                "usage": {"prompt_tokens": 700, "completion_tokens": 900, "total_tokens": 1600},
            },
        )

    return httpx.MockTransport(answer)


class CloudRunStandIn:
    """``run_job`` starts the execution's tasks as Cloud Run would: the real worker code."""

    def __init__(self, container: bootstrap.Container, weights: Path) -> None:
        self.container, self.weights = container, weights
        self.executions: list[str] = []
        self.threads: list[threading.Thread] = []

    def run_job(self, request: Any = None, **_: Any) -> Any:
        from worker.tale_worker.pipelines import load_video_pipeline
        from worker.tale_worker.run import run_task

        env = {e.name: e.value for e in request.overrides.container_overrides[0].env}
        tasks = request.overrides.task_count
        name = f"{JOB}/executions/tale-gpu-worker-{len(self.executions) + 1}"
        self.executions.append(name)
        video = load_video_pipeline(self.weights, "cogvideox", "cpu", steps=STEPS)
        for index in range(tasks):
            thread = threading.Thread(
                target=run_task,
                args=(self.container, env["TALE_TALE_ID"], index, tasks, video, None),
                kwargs={"fps": 8},
            )
            thread.start()
            self.threads.append(thread)
        return SimpleNamespace(metadata=SimpleNamespace(name=name))

    def get_execution(self, request: Any = None, *, name: Any = None, **_: Any) -> Any:
        alive = sum(t.is_alive() for t in self.threads)
        return SimpleNamespace(
            task_count=len(self.threads),
            succeeded_count=len(self.threads) - alive,
            failed_count=0,
            cancelled_count=0,
            completion_time=None if alive else "done",
        )


def test_a_tale_that_never_leaves_the_project(
    tmp_path: Path,
    tiny_weights: Path,  # noqa: F811
    no_external_connections: list[str],
) -> None:
    require_model_libraries()
    settings = Settings(
        home=tmp_path / "home",
        scenario="B",
        gpu_job=JOB,
        gpu_tasks=2,
        planner_url="http://vllm.internal:8000",
        egress_allow=["vllm.internal"],
        shot_poll_budget_s=5,
        shot_poll_interval_s=0.05,
        concurrency=4,
        retry_min_backoff_s=0.01,
        retry_max_backoff_s=0.05,
    )
    seen: list[dict[str, Any]] = []
    container = bootstrap.configure(settings)
    planner = OpenAICompatiblePlanner(
        guarded_client(settings.egress_allow, transport=vllm(plan_draft(SHOTS, STORY), seen)),
        settings.planner_url or "",
        settings.planner_model,
        container.usage,
        container.audit,
    )
    cloud_run = CloudRunStandIn(container, tiny_weights)
    videos = GpuJobVideos(
        cloud_run,
        cloud_run,
        JOB,
        container.blobs,
        claims=container.claims,
        log=lambda t, m: container.store.log(t, "rendering", m),
        tasks=2,
    )
    container = bootstrap.configure(
        settings, planner=planner, videos=videos, usage=container.usage, audit=container.audit
    )
    cloud_run.container = container
    try:
        with pytest.raises(RuntimeError, match="external AI providers are refused"):
            _ = container.genai
        tale_id = service.submit(
            make_submission(SHOTS, text=STORY),
            owner="b2b-customer",
            store=container.store,
            bus=container.bus,
            max_chars=20_000,
        ).tale_id
        with LocalRuntime(container) as runtime:
            runtime.run(timeout=240)
        for thread in cloud_run.threads:
            thread.join(60)
        tale = container.store.find(tale_id)
        assert tale is not None and tale.state is TaleState.COMPLETED, tale
        assert len(cloud_run.executions) == 1  # one execution for the whole tale
        _, _, frames, duration, _ = decode(container.home / "blobs" / tale.outputs["video"])
        assert frames > 0 and abs(duration - SHOTS * 4) <= 0.5
        assert len(seen) == 1 and seen[0]["response_format"]["type"] == "json_schema"
        audit = container.audit.for_tale(tale_id)
        assert len(audit) == 1 + SHOTS  # the plan and every shot: one record per inference
        raw = b"".join(p.read_bytes() for p in (container.home).glob("audit.db*"))
        assert STORY.splitlines()[2].encode()[:40] not in raw
        assert all(len(r.prompt_sha256) == 64 for r in audit)
    finally:
        bootstrap.configure(Settings(home=tmp_path / "unused"))
