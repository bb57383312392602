"""Cloud Function ``render_shot``: renders one shot attempt; never starts a paid generation twice.

Trigger: Pub/Sub topic ``shot.requested`` through Eventarc (``messagePublished`` CloudEvents).
Idempotent on the event's logical key; errors are retried or dropped as documented in
``shared.entrypoints``.
"""

from __future__ import annotations

import functions_framework
from cloudevents.http import CloudEvent

from shared.entrypoints import handle_pubsub
from shared.stages.shots import render_shot as handler


@functions_framework.cloud_event
def render_shot(cloud_event: CloudEvent) -> None:
    handle_pubsub(cloud_event, "render_shot", handler)
