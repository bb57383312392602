"""Cloud Function ``analyze_trends``: scores, explains and stores trends; mails the digest.

Trigger: Pub/Sub topic ``trends.collected``, published by ``collect_trends``.
Safe to run twice; errors are retried or dead-lettered as documented in ``shared.entrypoints``.
"""

from __future__ import annotations

import functions_framework
from cloudevents.http import CloudEvent

from shared.entrypoints import handle_pubsub
from shared.stages.trends import analyze_trends as handler


@functions_framework.cloud_event
def analyze_trends(cloud_event: CloudEvent) -> None:
    handle_pubsub(cloud_event, "analyze_trends", handler)
