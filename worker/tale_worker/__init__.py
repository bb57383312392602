"""The Tale GPU worker: renders one tale's shots with self-hosted open-weight models.

One Cloud Run job execution per tale, several tasks; task ``k`` of ``n`` renders the shots
whose index is ``k`` modulo ``n`` (task 0 also draws the missing character references).
The models load once per task (``pipelines``), the weights come from ``TALE_GPU_WEIGHTS``
(``weights``), and the work itself is ``run.run_task``. ``python -m worker.tale_worker`` is the
job's entry point.

Only this package imports torch and diffusers — never anything under ``shared/``.
"""
