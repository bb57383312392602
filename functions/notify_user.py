"""Cloud Function ``notify_user``: tells the owner that the tale finished (email).

Trigger: Pub/Sub topic ``tale.finished`` through Eventarc (``messagePublished`` CloudEvents).
Idempotent on the event's logical key; errors are retried or dropped as documented in
``shared.entrypoints``.
"""

from __future__ import annotations

import functions_framework
from cloudevents.http import CloudEvent

from shared.entrypoints import handle_pubsub
from shared.stages.notify import notify_user as handler


@functions_framework.cloud_event
def notify_user(cloud_event: CloudEvent) -> None:
    handle_pubsub(cloud_event, "notify_user", handler)
