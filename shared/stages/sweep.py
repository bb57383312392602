"""Stage ``sweep_stuck`` (trigger: ``tale.sweep``, published by Cloud Scheduler every 5 minutes).

Fails every tale that made no progress within its stage's deadline
(``shared.service.DEFAULT_DEADLINES_S``): the failure is announced on ``tale.finished``, so
the owner is refunded and told, exactly as for any other failure. Then returns the orphan
reservations: credits reserved for a tale that was never created (the request died between
the admission and the creation), refunded once they are ``ORPHAN_GRACE_S`` old
(``shared.usecases.return_orphans``). The message carries no payload; running the sweep
twice (a redelivery, two overlapping schedules) fails nothing twice and refunds nothing
twice, because failing a tale is a guarded transition and a refund happens at most once.
The daily tick carries ``{"summary": "daily"}`` and also logs the day's figures
(``shared.observability.summary``).
"""

from __future__ import annotations

import logging
import time

from shared.observability.summary import log_daily_summary, wants_summary
from shared.ports.bus import EventBus
from shared.ports.ledger import Ledger
from shared.ports.store import TaleStore
from shared.pubsub_message import Envelope
from shared.service import sweep
from shared.usecases.return_orphans import return_orphans

log = logging.getLogger("tale.stages")


def now() -> float:
    """The sweep's clock (a seam for tests)."""
    return time.time()


def sweep_stuck(envelope: Envelope, store: TaleStore, bus: EventBus, ledger: Ledger) -> None:
    stuck = sweep(store=store, bus=bus, now=now())
    for tale_id, state in stuck:
        log.warning("tale %s was stuck in %s and has been failed", tale_id, state)
    log.info("sweep %s: %d stuck tale(s) failed", envelope.message_id, len(stuck))
    # Before the summary: a ledger that is down raises for redelivery, and the redelivery
    # then logs the day's figures once.
    returned = return_orphans(store=store, bus=bus, ledger=ledger, now=now())
    log.info("sweep %s: %d orphan reservation(s) returned", envelope.message_id, len(returned))
    if wants_summary(envelope):  # the daily tick (terraform/alerts.tf): the info-level mail
        log_daily_summary(store, now())
