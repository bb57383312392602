"""Cloud Function ``stitch_video``: concatenates the shots into the final video and sheets.

Trigger: Pub/Sub topic ``stitch.requested`` through Eventarc (``messagePublished`` CloudEvents).
Idempotent on the event's logical key; errors are retried or dropped as documented in
``shared.entrypoints``.
"""

from __future__ import annotations

import functions_framework
from cloudevents.http import CloudEvent

from shared.entrypoints import handle_pubsub
from shared.stages.stitch import stitch_video as handler


@functions_framework.cloud_event
def stitch_video(cloud_event: CloudEvent) -> None:
    handle_pubsub(cloud_event, "stitch_video", handler)
