"""Cloud Function ``plan_story``: the story becomes a plan (characters, scenes, shots).

Trigger: Pub/Sub topic ``tale.submitted`` through Eventarc (``messagePublished`` CloudEvents).
Idempotent on the event's logical key; errors are retried or dropped as documented in
``shared.entrypoints``.
"""

from __future__ import annotations

import functions_framework
from cloudevents.http import CloudEvent

from shared.entrypoints import handle_pubsub
from shared.stages.plan import plan_story as handler


@functions_framework.cloud_event
def plan_story(cloud_event: CloudEvent) -> None:
    handle_pubsub(cloud_event, "plan_story", handler)
