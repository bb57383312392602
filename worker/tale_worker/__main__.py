"""Entry point of the GPU job: ``python -m worker.tale_worker``.

Cloud Run sets ``CLOUD_RUN_TASK_INDEX`` and ``CLOUD_RUN_TASK_COUNT`` (defaults 0 and 1); the
execution's override sets ``TALE_TALE_ID``. The weights load once per task, and only when the
task has work left. Exit status 0: done (or nothing to do); 1: failed — Cloud Run retries the
task, which skips the shots already rendered; 2: misconfigured.
"""

from __future__ import annotations

import logging
import os
import sys
import time

from shared.bootstrap import Container
from shared.config import Settings

log = logging.getLogger("worker.tale_worker")


def main() -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    tale_id = os.environ.get("TALE_TALE_ID", "").strip()
    try:
        task_index = int(os.environ.get("CLOUD_RUN_TASK_INDEX", "0"))
        task_count = int(os.environ.get("CLOUD_RUN_TASK_COUNT", "1"))
    except ValueError:
        log.error("CLOUD_RUN_TASK_INDEX / CLOUD_RUN_TASK_COUNT must be integers")
        return 2
    if not tale_id:
        log.error("TALE_TALE_ID is not set: which tale should this task render?")
        return 2
    if not 0 <= task_index < task_count:
        log.error("task index %d is outside 0..%d", task_index, task_count - 1)
        return 2
    try:
        return _run(tale_id, task_index, task_count)
    except Exception:
        log.exception("tale %s task %d/%d failed", tale_id, task_index, task_count)
        return 1


def _run(tale_id: str, task_index: int, task_count: int) -> int:
    from shared.providers.selfhosted import video_models
    from shared.providers.selfhosted.gpu_job import announce_execution
    from worker.tale_worker.config import WorkerSettings
    from worker.tale_worker.pipelines import (
        DiffusersImage,
        default_device,
        detect_kind,
        load_image_pipeline,
        load_video_pipeline,
    )
    from worker.tale_worker.run import has_work, run_task
    from worker.tale_worker.weights import local_weights

    started = time.monotonic()
    ws = WorkerSettings()  # TALE_GPU_WEIGHTS is required
    settings = Settings()
    container = Container(settings)
    execution = os.environ.get("CLOUD_RUN_EXECUTION", "").strip()
    if ws.attempt is not None and execution:
        # The dispatcher may never have heard run_job's answer: name the attempt's execution.
        announce_execution(container.blobs, tale_id, ws.attempt, execution, time.time())
    if not has_work(container, tale_id, task_index, task_count):
        log.info("tale %s task %d/%d: nothing left to render", tale_id, task_index, task_count)
        return 0
    spec = video_models.model(settings.gpu_pipeline)
    if spec is None:
        log.warning(
            "TALE_GPU_PIPELINE %r is not in the model table: sizes and frames come from the "
            "weights' configs",
            settings.gpu_pipeline,
        )
    device = ws.device or default_device()
    path = local_weights(ws.weights, ws.cache)
    kind = detect_kind(path) if ws.kind == "auto" else ws.kind
    offload = ws.offload if ws.offload is not None else bool(spec and spec.offload)
    try:
        video = load_video_pipeline(
            path, kind, device, steps=ws.steps, guidance=ws.guidance, offload=offload, spec=spec
        )
    except ValueError as exc:
        log.error("%s", exc)
        return 2
    images: DiffusersImage | None = None
    if ws.image_weights:
        images = load_image_pipeline(
            local_weights(ws.image_weights, ws.cache),
            device,
            steps=ws.image_steps,
            offload=offload,
        )
    else:
        log.info("TALE_GPU_IMAGE_WEIGHTS is unset: character references will not be drawn")
    speech = None
    if ws.voice_weights and container.voices.deferred:
        from worker.tale_worker.speech import load_speech_pipeline

        speech = load_speech_pipeline(local_weights(ws.voice_weights, ws.cache), device)
    elif container.voices.deferred:
        log.warning("TALE_GPU_VOICE_WEIGHTS is unset: narration will be recorded as not voiced")
    log.info("models ready in %.0f s", time.monotonic() - started)
    report = run_task(
        container,
        tale_id,
        task_index,
        task_count,
        video,
        images,
        fps=ws.fps or video.native_fps,
        reference_size=ws.reference_size,
        reference_wait_s=ws.reference_wait_s,
        speech=speech,
    )
    log.info(
        "tale %s task %d/%d done in %.0f s: %d rendered, %d skipped, %d narrations",
        tale_id,
        task_index,
        task_count,
        time.monotonic() - started,
        len(report.rendered),
        len(report.skipped),
        len(report.voiced),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
