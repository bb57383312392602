"""Failing a tale: shared by the entry points (permanent errors) and the dead-letter stage."""

from __future__ import annotations

import logging

from schemas.events import TaleFinished
from shared.domain import markers
from shared.domain.errors import TaleNotFound
from shared.domain.tale import TERMINAL, TaleState
from shared.ports.bus import EventBus
from shared.ports.store import TaleStore

log = logging.getLogger("tale.stages")
_NON_TERMINAL = tuple(s for s in TaleState if s not in TERMINAL)


def fail_tale(store: TaleStore, bus: EventBus, tale_id: str, stage: str, reason: str) -> None:
    """Mark the tale failed at ``stage`` (once) and announce it. For a tale that is already
    failed, the announcement is repeated only while the owner has not been notified (the
    first one may have been lost); other finished tales are left alone."""
    try:
        moved = store.transition(
            tale_id, _NON_TERMINAL, TaleState.FAILED, stage=stage, error_reason=reason
        )
    except TaleNotFound:
        log.warning("cannot fail unknown tale %s (%s: %s)", tale_id, stage, reason)
        return
    tale = store.find(tale_id)
    revision = tale.revision if tale is not None else 0
    announcement = TaleFinished(tale_id=tale_id, outcome="failed", revision=revision)
    if moved or (
        tale is not None
        and tale.state is TaleState.FAILED
        and not store.marked(tale_id, markers.notified(announcement.key))
    ):
        bus.publish(announcement)


def reannounce_failure(store: TaleStore, bus: EventBus, tale_id: str) -> bool:
    """Announce a failed tale again while its owner has not been notified; True if it did.

    The handler that failed the tale may have died between the transition and the publish of
    ``tale.finished``; its redelivery finds the tale finished and returns early, so without
    this the owner is never told and the reservation never refunded. The entry points call it
    after every redelivery (see ``shared.entrypoints``)."""
    tale = store.find(tale_id)
    revision = tale.revision if tale is not None else 0
    announcement = TaleFinished(tale_id=tale_id, outcome="failed", revision=revision)
    if (
        tale is None
        or tale.state is not TaleState.FAILED
        or store.marked(tale_id, markers.notified(announcement.key))
    ):
        return False
    bus.publish(announcement)
    return True
