"""Cloud Function ``handle_dead_letter``: fails the tale whose message could not be processed.

Trigger: Pub/Sub topic ``tale.dead-letter`` through Eventarc (``messagePublished`` CloudEvents).
Idempotent on the event's logical key; errors are retried or dropped as documented in
``shared.entrypoints``.
"""

from __future__ import annotations

import functions_framework
from cloudevents.http import CloudEvent

from shared.entrypoints import handle_pubsub
from shared.stages.dead_letter import handle_dead_letter as handler


@functions_framework.cloud_event
def handle_dead_letter(cloud_event: CloudEvent) -> None:
    handle_pubsub(cloud_event, "handle_dead_letter", handler)
