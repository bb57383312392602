"""Stage ``handle_dead_letter`` (trigger: ``tale.dead-letter``).

A message lands here after its subscription's maximum delivery attempts. The tale is failed
with the stage of the subscription that gave up and the last recorded error, so the owner
sees why — and the message is acked: a dead letter never loops.
"""

from __future__ import annotations

import logging

from shared.ports.bus import EventBus
from shared.ports.store import TaleStore
from shared.pubsub_message import Envelope
from shared.registry import BY_NAME
from shared.stages.failure import fail_tale

log = logging.getLogger("tale.stages")


def handle_dead_letter(envelope: Envelope, store: TaleStore, bus: EventBus) -> None:
    attrs = envelope.attributes
    source = attrs.get("CloudPubSubDeadLetterSourceSubscription", "").rsplit("/", 1)[-1]
    spec = BY_NAME.get(source)
    stage = spec.stage if spec else (source or "unknown")
    count = attrs.get("CloudPubSubDeadLetterSourceDeliveryCount", "?")
    tale_id = envelope.tale_id
    tale = store.find(tale_id) if tale_id else None
    if tale_id is None or tale is None:
        log.error("dead letter without a known tale (subscription %s, %s attempts)", source, count)
        return
    if tale.state.terminal:
        store.log(
            tale_id,
            "dead-letter",
            f"{attrs.get('type', 'message')} from {source} gave up "
            f"after {count} attempts (tale already {tale.state})",
            "error",
        )
        return
    errors = [e for e in store.events(tale_id) if e.stage == stage and e.level != "info"]
    last = errors[-1].message.removeprefix("attempt failed: ") if errors else "no error recorded"
    reason = f"gave up after {count} attempts: {last}"
    store.log(
        tale_id, "dead-letter", f"{attrs.get('type', 'message')} from {source}: {reason}", "error"
    )
    fail_tale(store, bus, tale_id, stage, reason)
