"""One task of a tale's GPU job: draw the missing character references (task 0), then render
this task's shots — those whose index is ``task_index`` modulo ``task_count``.

A task killed half way is retried by Cloud Run: a shot whose clip exists (its record is
rendered, or the clip blob of its current attempt is there) is not rendered again, so a retry
does only the missing work. For each rendered shot, in this order: the clip is uploaded to
``tales/<id>/shots/<index:02d>-a<attempt>.mp4``, usage is recorded (``gpu_seconds``), the shot
record is finished (where the shot stage claimed it) and ``shot.rendered`` is published.

When the deployment's narrator is deferred to the worker (scenario B), each assigned shot's
narration is voiced first (``speech``: Bark; ``TaskWork.voice``), written where
``narrate_shot`` looks for it, and ``narration.requested`` is published for the shot again; a
voice already written is only announced again.

Every inference first writes an audit record (model and the prompt's SHA-256, never the
prompt) when the container has an audit log. Prompts are never logged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from schemas.plan import Shot
from shared.bootstrap import Container
from shared.domain.errors import PermanentError
from shared.domain.tale import ShotStatus, TaleState
from shared.stages.narrate import narration_line
from worker.tale_worker.clips import clip_path
from worker.tale_worker.pipelines import ImagePipeline, VideoPipeline
from worker.tale_worker.speech import SpeechPipeline
from worker.tale_worker.work import TaskWork

log = logging.getLogger(__name__)


@dataclass
class TaskReport:
    tale_id: str
    task_index: int
    task_count: int
    assigned: list[int] = field(default_factory=list)
    rendered: list[int] = field(default_factory=list)
    voiced: list[int] = field(default_factory=list)
    """Shots whose narration this task voiced (or recorded as not voiced)."""
    skipped: list[int] = field(default_factory=list)
    """Assigned shots left alone: their clip exists (or their attempt failed)."""
    characters: list[str] = field(default_factory=list)
    """Character references this task drew."""
    gpu_seconds: float = 0.0
    note: str = ""


def run_task(
    container: Container,
    tale_id: str,
    task_index: int,
    task_count: int,
    video: VideoPipeline,
    images: ImagePipeline | None,
    *,
    fps: int,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    reference_size: int = 1024,
    reference_wait_s: float = 600.0,
    speech: SpeechPipeline | None = None,
) -> TaskReport:
    """Do task ``task_index`` of ``task_count`` for the tale; raise on any failure (the
    entry point then exits non-zero and Cloud Run retries the task)."""
    if not 0 <= task_index < task_count:
        raise ValueError(f"task {task_index} of {task_count} does not exist")
    task = TaskWork(container, tale_id, video, images, fps, clock, reference_size)
    report = TaskReport(tale_id, task_index, task_count)
    state = task.state()
    if state is not TaleState.RENDERING:
        report.note = f"the tale is {state.value}: nothing to render"
        log.info("tale %s: %s", tale_id, report.note)
        return report
    plan = task.plan
    container.store.init_shots(tale_id, len(plan.shots))  # normally done already; kept if so
    assigned = [s for s in plan.shots if s.index % task_count == task_index]
    report.assigned = [s.index for s in assigned]
    if images is None:
        log.info("no image model (TALE_GPU_IMAGE_WEIGHTS unset): no character references drawn")
    elif task_index == 0:
        report.characters = task.draw_references([c.name for c in plan.characters])
    narrates = container.voices.deferred
    for shot, attempt, path, action in _triage(container, tale_id, assigned):
        if narrates and task.needs_voice(shot):
            report.gpu_seconds += task.voice(shot, speech)
            report.voiced.append(shot.index)
        if action == "render":
            if task_index != 0 and video.image_to_video:
                task.wait_for_references(shot, sleep, reference_wait_s)
            report.gpu_seconds += task.render(shot, attempt, path)
            report.rendered.append(shot.index)
            continue
        report.skipped.append(shot.index)
        if action == "announce":  # an earlier run of this task may have died before announcing
            task.announce(shot.index, attempt, path)
    log.info(
        "tale %s task %d/%d: rendered shots %s, skipped %s, %.1f GPU seconds",
        tale_id,
        task_index,
        task_count,
        report.rendered,
        report.skipped,
        report.gpu_seconds,
    )
    return report


def has_work(container: Container, tale_id: str, task_index: int, task_count: int) -> bool:
    """Whether the task has a shot to render or a narration to voice (checked before the
    models load). Raises
    ``PermanentError`` for an unknown tale or one without a plan."""
    tale = container.store.find(tale_id)
    if tale is None:
        raise PermanentError(f"no tale {tale_id}")
    if tale.state is not TaleState.RENDERING:
        return False
    plan = container.store.plan(tale_id)
    if plan is None:
        raise PermanentError(f"tale {tale_id} has no plan")
    assigned = [s for s in plan.shots if s.index % task_count == task_index]
    if any(action == "render" for *_, action in _triage(container, tale_id, assigned)):
        return True
    if not container.voices.deferred:
        return False
    voiced = {r.index for r in container.store.shots(tale_id) if r.voice_path is not None}
    return any(
        narration_line(container.store, tale_id, s.index, tale.revision) is not None
        for s in assigned
        if s.index not in voiced
    )


def _triage(
    container: Container, tale_id: str, shots: list[Shot]
) -> list[tuple[Shot, int, str, Literal["render", "announce", "skip"]]]:
    """Each shot with its current attempt, clip path and what to do: ``skip`` a rendered (or
    failed) attempt, ``announce`` a clip that exists while its record is not rendered yet,
    ``render`` the rest."""
    records = {r.index: r for r in container.store.shots(tale_id)}
    out: list[tuple[Shot, int, str, Literal["render", "announce", "skip"]]] = []
    for shot in shots:
        record = records.get(shot.index)
        attempt = record.attempt if record is not None else 1
        path = clip_path(tale_id, shot.index, attempt)
        if record is not None and record.status in (ShotStatus.RENDERED, ShotStatus.FAILED):
            out.append((shot, attempt, path, "skip"))
        elif container.blobs.exists(path):
            out.append((shot, attempt, path, "announce"))
        else:
            out.append((shot, attempt, path, "render"))
    return out
