"""Scenario B's video generator: one Cloud Run GPU job execution per tale renders its shots.

The stage code is the same as for Veo — claim, start, record an operation id, poll — but the
operation behind every shot of a tale (and attempt) is ONE job execution, so the model
weights load once per task, not once per shot:

- ``start`` asks the tale store who starts the execution for ``(tale, attempt)``; the first
  delivery wins, runs the job with per-execution overrides (``TALE_TALE_ID``, task count) and
  records the execution name right away (a blob ``tales/<id>/gpu/a<attempt>.json`` and the
  tale's event log). Every other shot of the tale just joins: no second execution, whatever
  is redelivered. Only the winner's own redelivery may run the job again, and only while no
  execution was recorded (Cloud Run refused the first start). The operation id of a shot is
  ``gpu:<tale>:<shot>:a<attempt>``.
- ``poll`` reports a shot done when its clip exists (the worker writes it and publishes
  ``shot.rendered`` itself), and an error when the execution finished without it.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from shared.domain.errors import NotStarted, PermanentError
from shared.ports.blobs import BlobNotFound, BlobStore
from shared.ports.claims import Claims, gpu_execution
from shared.ports.generators import VideoGenerator, VideoPoll, VideoRequest

_PREFIX = "gpu:"


def clip_path(tale_id: str, index: int, attempt: int) -> str:
    """Where the worker writes a shot's clip (the same convention as the shot stage)."""
    return f"tales/{tale_id}/shots/{index:02d}-a{attempt}.mp4"


class GpuJobVideos(VideoGenerator):
    paid = True
    provider = "self-hosted"

    def __init__(
        self,
        jobs: Any,
        executions: Any,
        job_name: str,
        blobs: BlobStore,
        *,
        claims: Claims,
        log: Callable[[str, str], None],
        tasks: int = 4,
        model: str = "cogvideox",
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``jobs``/``executions``: ``run_v2.JobsClient`` / ``ExecutionsClient``; ``job_name``:
        ``projects/P/locations/L/jobs/J``; ``claims``: who started which execution; ``log``:
        ``(tale_id, message)`` into the tale's event log."""
        self._jobs = jobs
        self._executions = executions
        self.job_name = job_name
        self.blobs = blobs
        self._claims = claims
        self._log = log
        self.tasks = tasks
        self.model = model
        self._clock = clock

    @classmethod
    def from_settings(cls, job_name: str, blobs: BlobStore, **kw: Any) -> GpuJobVideos:
        from google.cloud import run_v2

        return cls(run_v2.JobsClient(), run_v2.ExecutionsClient(), job_name, blobs, **kw)

    @staticmethod
    def _record_path(tale_id: str, attempt: int) -> str:
        return f"tales/{tale_id}/gpu/a{attempt}.json"

    def start(self, request: VideoRequest) -> str:
        tale_id, attempt = request.tale_id, request.attempt
        if request.output_path != clip_path(tale_id, request.shot.index, attempt):
            raise PermanentError(
                f"the GPU worker writes {clip_path(tale_id, 0, 1)}-style paths, "
                f"not {request.output_path}"
            )
        me = request.claimant or uuid.uuid4().hex
        starter = self._claims.claim(gpu_execution(tale_id, attempt), me)
        if starter == me and not self.blobs.exists(self._record_path(tale_id, attempt)):
            # The first delivery starts it; its own redelivery retries a start that was
            # refused, but never one whose execution was recorded.
            self._run(tale_id, attempt, shots=len(request.plan.shots))
        return f"{_PREFIX}{tale_id}:{request.shot.index}:a{attempt}"

    def _run(self, tale_id: str, attempt: int, *, shots: int) -> None:
        from google.api_core import exceptions as gexc
        from google.cloud import run_v2

        tasks = max(1, min(self.tasks, shots))
        overrides = run_v2.RunJobRequest.Overrides(
            task_count=tasks,
            container_overrides=[
                run_v2.RunJobRequest.Overrides.ContainerOverride(
                    env=[run_v2.EnvVar(name="TALE_TALE_ID", value=tale_id)]
                )
            ],
        )
        try:
            operation = self._jobs.run_job(
                request=run_v2.RunJobRequest(name=self.job_name, overrides=overrides)
            )
        except (gexc.TooManyRequests, gexc.ServiceUnavailable, gexc.InternalServerError) as exc:
            raise NotStarted(f"Cloud Run did not start the GPU job: {exc}") from exc
        execution = operation.metadata.name
        self.blobs.put_bytes(
            self._record_path(tale_id, attempt),
            json.dumps({"execution": execution, "tasks": tasks, "at": self._clock()}).encode(),
            "application/json",
        )
        self._log(
            tale_id,
            f"GPU job execution {execution.rsplit('/', 1)[-1]} started "
            f"({tasks} tasks for {shots} shots)",
        )

    def poll(self, operation_id: str) -> VideoPoll:
        if not operation_id.startswith(_PREFIX):
            return VideoPoll(done=True, error=f"not a GPU job operation: {operation_id}")
        tale_id, index, attempt_text = operation_id.removeprefix(_PREFIX).split(":")
        attempt = int(attempt_text.removeprefix("a"))
        path = clip_path(tale_id, int(index), attempt)
        if self.blobs.exists(path):
            return VideoPoll(done=True, clip_path=path)
        try:
            record = json.loads(self.blobs.get_bytes(self._record_path(tale_id, attempt)))
        except BlobNotFound:
            return VideoPoll(done=False)  # the execution is being started
        execution = self._executions.get_execution(name=record["execution"])
        finished = execution.succeeded_count + execution.failed_count + execution.cancelled_count
        if (
            execution.completion_time
            and finished >= execution.task_count
            and not self.blobs.exists(path)
        ):
            return VideoPoll(
                done=True,
                error=(
                    f"the GPU job execution finished ({execution.succeeded_count} tasks succeeded, "
                    f"{execution.failed_count} failed) without shot {int(index) + 1}"
                ),
            )
        return VideoPoll(done=False)
