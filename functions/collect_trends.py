"""Cloud Function ``collect_trends``: collects YouTube Shorts statistics within the quota.

Trigger: Pub/Sub topic ``trends.collect``, published by Cloud Scheduler
(``terraform/scheduler.tf``).
Safe to run twice; errors are retried or dead-lettered as documented in ``shared.entrypoints``.
"""

from __future__ import annotations

import functions_framework
from cloudevents.http import CloudEvent

from shared.entrypoints import handle_pubsub
from shared.stages.trends import collect_trends as handler


@functions_framework.cloud_event
def collect_trends(cloud_event: CloudEvent) -> None:
    handle_pubsub(cloud_event, "collect_trends", handler)
