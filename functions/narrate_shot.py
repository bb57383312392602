"""Cloud Function ``narrate_shot``: voice one shot's narration; the last voice or rendered
shot requests stitching, once.

Trigger: Pub/Sub topic ``narration.requested`` through Eventarc (``messagePublished``
CloudEvents). Idempotent on the event's logical key (the voice is written to a location fixed
by the shot and recorded once); errors are retried or dropped as documented in
``shared.entrypoints``.
"""

from __future__ import annotations

import functions_framework
from cloudevents.http import CloudEvent

from shared.entrypoints import handle_pubsub
from shared.stages.narrate import narrate_shot as handler


@functions_framework.cloud_event
def narrate_shot(cloud_event: CloudEvent) -> None:
    handle_pubsub(cloud_event, "narrate_shot", handler)
