"""Cloud Function ``collect_shots``: the fan-in; the last completion requests stitching, once.

Trigger: Pub/Sub topic ``shot.rendered`` through Eventarc (``messagePublished`` CloudEvents).
Idempotent on the event's logical key; errors are retried or dropped as documented in
``shared.entrypoints``.
"""

from __future__ import annotations

import functions_framework
from cloudevents.http import CloudEvent

from shared.entrypoints import handle_pubsub
from shared.stages.collect import collect_shots as handler


@functions_framework.cloud_event
def collect_shots(cloud_event: CloudEvent) -> None:
    handle_pubsub(cloud_event, "collect_shots", handler)
