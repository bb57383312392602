"""Cloud Function ``settle_credits``: settles a completed tale's credits, refunds the others.

Trigger: Pub/Sub topic ``tale.finished`` through Eventarc (``messagePublished`` CloudEvents).
Idempotent on the event's logical key; errors are retried or dropped as documented in
``shared.entrypoints``.
"""

from __future__ import annotations

import functions_framework
from cloudevents.http import CloudEvent

from shared.entrypoints import handle_pubsub
from shared.stages.settle import settle_credits as handler


@functions_framework.cloud_event
def settle_credits(cloud_event: CloudEvent) -> None:
    handle_pubsub(cloud_event, "settle_credits", handler)
