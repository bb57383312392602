"""Scenario B's video generator: one Cloud Run GPU job execution per tale renders its shots.

The stage code is the same as for Veo — claim, start, record an operation id, poll — but the
operation behind every shot of a tale (and attempt) is ONE job execution, so the model
weights load once per task, not once per shot. The operation id of a shot is
``gpu:<tale>:<shot>:a<attempt>``; its clip is ``tales/<id>/shots/<nn>-a<attempt>.mp4``.

Never two executions for one attempt:
- The execution of ``(tale, attempt)`` is claimed through ``Claims`` (``gpu_execution``) by
  the first shot whose delivery starts it; every other shot joins. The claimant is the shot,
  not the message, so whichever delivery holds that shot (the stage hands a shot over by
  compare-and-set) may carry the start on.
- Before ``run_job`` the starter writes the attempt's record ``tales/<id>/gpu/a<n>.json``
  (``requested_at``); after it, the execution's name. ``run_job`` is never retried by the
  client (``retry=None``, a bounded timeout). An answer that is lost (timeout, 5xx) keeps the
  claim and raises ``TransientError``: the execution may exist.
- Each execution carries ``TALE_TALE_ID`` and ``TALE_GPU_ATTEMPT`` (overrides), so Cloud Run's
  list of the job's executions says whether the attempt has one; the worker also writes the
  record itself when a task starts (``announce_execution``). Only when the record names no
  execution, Cloud Run lists none, and ``start_grace_s`` has passed since the request (longer
  than the call's timeout plus the delivery's own time limit, so no start is still in flight)
  is the attempt known to have started nothing: then, and only then, ``run_job`` again.
- A 429 is a refusal (``NotStarted``: the claim is released and the redelivery starts it);
  another 4xx is a configuration error (``PermanentError``); neither created an execution.

``recover`` answers the stage's question about an unrecorded start from the same facts; ``poll``
reports a shot done when its clip exists (the worker writes it and publishes ``shot.rendered``
itself), and an error when the execution finished without it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from shared.domain.errors import NotStarted, PermanentError, TransientError
from shared.ports.blobs import BlobNotFound, BlobStore
from shared.ports.claims import Claims, gpu_execution
from shared.ports.generators import Recovery, VideoGenerator, VideoPoll, VideoRequest

_PREFIX = "gpu:"
#: How long one ``run_job`` call may take; it is never retried by the client.
RUN_JOB_TIMEOUT_S = 60.0
#: render_shot's function timeout (shared/registry.py): no delivery lives longer.
DELIVERY_LIMIT_S = 540.0
#: Cloud Run executions are listed newest first; stop this long before the request.
CLOCK_SKEW_S = 120.0


def clip_path(tale_id: str, index: int, attempt: int) -> str:
    """Where the worker writes a shot's clip (the same convention as the shot stage)."""
    return f"tales/{tale_id}/shots/{index:02d}-a{attempt}.mp4"


def record_path(tale_id: str, attempt: int) -> str:
    """The attempt's execution record: requested, then the execution's name."""
    return f"tales/{tale_id}/gpu/a{attempt}.json"


@dataclass(frozen=True)
class ExecutionRecord:
    requested_at: float
    execution: str | None = None
    shot: int | None = None
    tasks: int | None = None
    refused: bool = False
    """The request was refused (4xx): it created nothing."""


def read_record(blobs: BlobStore, tale_id: str, attempt: int) -> ExecutionRecord | None:
    try:
        data = json.loads(blobs.get_bytes(record_path(tale_id, attempt)))
    except BlobNotFound:
        return None
    fields = ExecutionRecord.__dataclass_fields__
    return ExecutionRecord(**{k: v for k, v in data.items() if k in fields})


def write_record(blobs: BlobStore, tale_id: str, attempt: int, record: ExecutionRecord) -> None:
    blobs.put_bytes(
        record_path(tale_id, attempt), json.dumps(asdict(record)).encode(), "application/json"
    )


def announce_execution(
    blobs: BlobStore, tale_id: str, attempt: int, execution: str, now: float
) -> None:
    """Called by the worker when a task starts (``CLOUD_RUN_EXECUTION``): the attempt's record
    names its execution even if the answer to ``run_job`` never reached the dispatcher."""
    record = read_record(blobs, tale_id, attempt)
    if record is not None and record.execution:
        return
    requested = record.requested_at if record is not None else now
    write_record(blobs, tale_id, attempt, ExecutionRecord(requested, execution=execution))


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
        model: str = "wan2.1-t2v-1.3b",
        clock: Callable[[], float] = time.time,
        max_latency_s: float = 3 * 3600.0,
        start_grace_s: float = DELIVERY_LIMIT_S + RUN_JOB_TIMEOUT_S,
    ) -> None:
        """``jobs``/``executions``: ``run_v2.JobsClient`` / ``ExecutionsClient``; ``job_name``:
        ``projects/P/locations/L/jobs/J``; ``claims``: who starts which execution; ``log``:
        ``(tale_id, message)`` into the tale's event log; ``max_latency_s``: the longest an
        execution runs (task timeout × attempts, plus queueing)."""
        self._jobs = jobs
        self._executions = executions
        self.job_name = job_name
        self.blobs = blobs
        self._claims = claims
        self._log = log
        self.tasks = tasks
        self.model = model
        self._clock = clock
        self.max_latency_s = max_latency_s
        self.start_grace_s = start_grace_s

    @classmethod
    def from_settings(
        cls,
        job_name: str,
        blobs: BlobStore,
        check: Callable[[Any], Any] | None = None,
        **kw: Any,
    ) -> GpuJobVideos:
        """``check`` vets each Cloud Run client's endpoint (the egress policy) first."""
        from google.cloud import run_v2

        jobs, executions = run_v2.JobsClient(), run_v2.ExecutionsClient()
        for client in (jobs, executions):
            if check is not None:
                check(client)
        return cls(jobs, executions, job_name, blobs, **kw)

    # --- start ----------------------------------------------------------------------------
    def start(self, request: VideoRequest) -> str:
        tale_id, attempt, index = request.tale_id, request.attempt, request.shot.index
        if request.output_path != clip_path(tale_id, index, attempt):
            raise PermanentError(
                f"the GPU worker writes {clip_path(tale_id, 0, 1)}-style paths, "
                f"not {request.output_path}"
            )
        operation_id = f"{_PREFIX}{tale_id}:{index}:a{attempt}"
        me = f"shot-{index}"
        if self._claims.claim(gpu_execution(tale_id, attempt), me) != me:
            return operation_id  # another shot starts the execution; this one joins it
        record = read_record(self.blobs, tale_id, attempt)
        if record is not None and record.execution:
            return operation_id
        if record is not None and not record.refused:
            # An earlier run_job of this attempt may have created an execution.
            if self._found(tale_id, attempt, record.requested_at) is not None:
                return operation_id
            if self._clock() - record.requested_at < self.start_grace_s:
                raise TransientError(
                    "an earlier start of this tale's GPU job may still create its execution; "
                    "it is looked up again before any new start"
                )
            self._log(tale_id, "the GPU job's earlier start created no execution: starting it")
        self._run(tale_id, attempt, index, shots=len(request.plan.shots))
        return operation_id

    def _run(self, tale_id: str, attempt: int, index: int, *, shots: int) -> None:
        from google.api_core import exceptions as gexc
        from google.cloud import run_v2

        tasks = max(1, min(self.tasks, shots))
        env = {"TALE_TALE_ID": tale_id, "TALE_GPU_ATTEMPT": str(attempt)}
        overrides = run_v2.RunJobRequest.Overrides(
            task_count=tasks,
            container_overrides=[
                run_v2.RunJobRequest.Overrides.ContainerOverride(
                    env=[run_v2.EnvVar(name=k, value=v) for k, v in env.items()]
                )
            ],
        )
        requested = ExecutionRecord(self._clock(), shot=index, tasks=tasks)
        write_record(self.blobs, tale_id, attempt, requested)  # before the call: it may run
        try:
            operation = self._jobs.run_job(
                request=run_v2.RunJobRequest(name=self.job_name, overrides=overrides),
                retry=None,  # a retried start could run (and bill) a second execution
                timeout=RUN_JOB_TIMEOUT_S,
            )
        except gexc.TooManyRequests as exc:
            write_record(self.blobs, tale_id, attempt, _refused(requested))
            raise NotStarted(f"Cloud Run did not start the GPU job: {exc}") from exc
        except gexc.ClientError as exc:
            if exc.code in (408, 409):  # a timeout or conflict: the execution may exist
                raise TransientError(f"the GPU job's start went unanswered: {exc}") from exc
            write_record(self.blobs, tale_id, attempt, _refused(requested))
            raise PermanentError(f"Cloud Run refused to start the GPU job: {exc}") from exc
        except (gexc.GoogleAPIError, OSError) as exc:
            raise TransientError(
                f"the GPU job's start went unanswered ({type(exc).__name__}); its execution "
                "is looked up before any new start"
            ) from exc
        execution = str(operation.metadata.name)
        write_record(
            self.blobs,
            tale_id,
            attempt,
            ExecutionRecord(requested.requested_at, execution=execution, shot=index, tasks=tasks),
        )
        self._log(
            tale_id,
            f"GPU job execution {execution.rsplit('/', 1)[-1]} started "
            f"({tasks} tasks for {shots} shots)",
        )

    # --- finding an execution -------------------------------------------------------------
    def _found(self, tale_id: str, attempt: int, since: float) -> str | None:
        """The execution of ``(tale, attempt)`` Cloud Run lists (created after ``since``, less
        the clock skew), recorded at once; None when there is none."""
        wanted = {"TALE_TALE_ID": tale_id, "TALE_GPU_ATTEMPT": str(attempt)}
        for execution in self._executions.list_executions(parent=self.job_name, timeout=30.0):
            created = execution.create_time
            if created is not None and created.timestamp() < since - CLOCK_SKEW_S:
                break  # newest first: everything further is older than the request
            if wanted.items() <= _env(execution).items():
                name = str(execution.name)
                record = read_record(self.blobs, tale_id, attempt)
                requested = record.requested_at if record is not None else since
                write_record(
                    self.blobs, tale_id, attempt, ExecutionRecord(requested, execution=name)
                )
                self._log(tale_id, f"GPU job execution {name.rsplit('/', 1)[-1]} found")
                return name
        return None

    def _execution_of(self, tale_id: str, attempt: int, since: float) -> str | None:
        record = read_record(self.blobs, tale_id, attempt)
        if record is not None and record.execution:
            return record.execution
        if record is not None:
            since = min(since, record.requested_at)
        return self._found(tale_id, attempt, since)

    # --- recover and poll -----------------------------------------------------------------
    def recover(self, request: VideoRequest, claimed_at: float, now: float) -> Recovery:
        """The outcome of an unrecorded start of this shot's attempt: its clip, the
        execution to poll, ``nothing_ran`` when no execution exists and none can still be
        created (see the module's docstring), else not known yet."""
        tale_id, attempt, index = request.tale_id, request.attempt, request.shot.index
        path = clip_path(tale_id, index, attempt)
        if self.blobs.exists(path):
            return Recovery(clip_path=path)
        operation_id = f"{_PREFIX}{tale_id}:{index}:a{attempt}"
        if self._execution_of(tale_id, attempt, claimed_at) is not None:
            return Recovery(operation_id=operation_id)
        record = read_record(self.blobs, tale_id, attempt)
        # Since a run_job was (maybe) sent, or this shot's delivery may be about to send one.
        sent = record is not None and not record.refused
        since = record.requested_at if record is not None and sent else claimed_at
        if now - since < self.start_grace_s:
            return Recovery()
        return Recovery(nothing_ran=True)

    def poll(self, operation_id: str) -> VideoPoll:
        if not operation_id.startswith(_PREFIX):
            return VideoPoll(done=True, error=f"not a GPU job operation: {operation_id}")
        tale_id, index_text, attempt_text = operation_id.removeprefix(_PREFIX).split(":")
        index, attempt = int(index_text), int(attempt_text.removeprefix("a"))
        path = clip_path(tale_id, index, attempt)
        if self.blobs.exists(path):
            return VideoPoll(done=True, clip_path=path)
        record = read_record(self.blobs, tale_id, attempt)
        if record is None:
            return VideoPoll(done=False)  # the execution is being started
        name = record.execution or self._found(tale_id, attempt, record.requested_at)
        if name is None:
            return VideoPoll(done=False)
        execution = self._executions.get_execution(name=name)
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
                    f"{execution.failed_count} failed) without shot {index + 1}"
                ),
            )
        return VideoPoll(done=False)


def _refused(record: ExecutionRecord) -> ExecutionRecord:
    return ExecutionRecord(record.requested_at, shot=record.shot, tasks=record.tasks, refused=True)


def _env(execution: Any) -> dict[str, str]:
    """The environment an execution's container runs with (the job's, with the run's
    overrides)."""
    template = getattr(execution, "template", None)
    containers = getattr(template, "containers", None) or []
    return {str(e.name): str(e.value) for c in containers for e in (c.env or [])}
