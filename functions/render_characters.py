"""Cloud Function ``render_characters``: one reference image per character, then the fan-out.

Trigger: Pub/Sub topic ``characters.requested`` through Eventarc (``messagePublished`` CloudEvents).
Idempotent on the event's logical key; errors are retried or dropped as documented in
``shared.entrypoints``.
"""

from __future__ import annotations

import functions_framework
from cloudevents.http import CloudEvent

from shared.entrypoints import handle_pubsub
from shared.stages.characters import render_characters as handler


@functions_framework.cloud_event
def render_characters(cloud_event: CloudEvent) -> None:
    handle_pubsub(cloud_event, "render_characters", handler)
