"""Cloud Function ``sweep_stuck``: fails tales with no progress past their stage's deadline.

Trigger: Pub/Sub topic ``tale.sweep``, published by Cloud Scheduler (``terraform/scheduler.tf``).
Safe to run twice; errors are retried or dead-lettered as documented in ``shared.entrypoints``.
"""

from __future__ import annotations

import functions_framework
from cloudevents.http import CloudEvent

from shared.entrypoints import handle_pubsub
from shared.stages.sweep import sweep_stuck as handler


@functions_framework.cloud_event
def sweep_stuck(cloud_event: CloudEvent) -> None:
    handle_pubsub(cloud_event, "sweep_stuck", handler)
