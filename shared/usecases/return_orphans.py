"""Return orphan reservations: credits reserved for a tale that was never created.

Starting a tale admits it in the ledger first (``Ledger.admit``: the limits checked and the
credits reserved in one transaction) and creates it in the tale store after
(``shared.usecases.submit_tale``; a revision likewise: ``revise_tale``). A process that dies
between the two — an instance killed, a timeout — leaves a reservation that holds the
account's credits and one of its running-tale slots, with no tale to settle or refund it.
The sweep (``shared.stages.sweep``, every 5 minutes) calls ``return_orphans``: every
reservation still open ``ORPHAN_GRACE_S`` after it was made whose tale does not exist (for
a revision's key, ``<tale>.r<n>``: whose tale never started revision ``n``) is refunded,
with the same ``credits.refunded`` record as any refund.

At-least-once, concurrent sweeps: ``Ledger.refund`` moves the credits at most once and says
whether this call did, so a redelivered or overlapping sweep logs and counts each orphan
once. A retry under the dead request's ``Idempotency-Key`` arriving after the refund is
refused by ``Ledger.admit`` (``SubmissionExpired``: the tale would otherwise run without a
reservation) and creates nothing. One arriving *during* a sweep — its admission read the
reservation still open just before the refund, its tale created just after — is caught by
reading the tale again after the refund: the tale is failed (it holds nothing to pay for it)
and its owner told, like any failed tale. Only a creation that lands after that second read
escapes (the ledger and the tale store share no transaction); it needs a retry more than
``ORPHAN_GRACE_S`` late interleaved with a sweep within milliseconds, and that tale runs
uncharged.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from shared.domain.credits import key_parts, orphaned
from shared.observability.events import credits_changed
from shared.ports.bus import EventBus
from shared.ports.ledger import Ledger, OpenReservation
from shared.ports.store import TaleStore
from shared.stages.failure import fail_tale

log = logging.getLogger("tale.usecases")

ORPHAN_GRACE_S = 3600
"""How old an open reservation without its tale must be before the sweep returns it.

A request that admitted a tale is still alive for at most the ``api`` function's timeout
(60 s, ``shared.registry``), and a client that lost the answer retries with the same
``Idempotency-Key``, which reuses the reservation (``submit_tale._tale_id``: the key's claim
names the same tale id; ``Ledger.admit`` answers False and the tale is created). The claim of
an ``Idempotency-Key`` never expires, so no grace period covers every possible retry; one
hour is sixty times the longest request, covers a client's retries with backoff and a person
pressing "create" again on the page that failed, and still frees the slot and the credits of
a request nobody retries within about an hour (plus one sweep interval). A retry after that
gets ``SubmissionExpired`` (HTTP 409) and is sent again with a new key: never a tale without
a reservation, never a second charge."""
PAGE = 500
"""Open reservations read per ledger request."""


def return_orphans(
    *,
    store: TaleStore,
    bus: EventBus,
    ledger: Ledger,
    now: float,
    grace_s: float = ORPHAN_GRACE_S,
) -> list[OpenReservation]:
    """Refund every reservation opened before ``now - grace_s`` that pays for no tale (see
    the module); returns those this call refunded. Safe to run twice and in parallel."""
    returned = []
    for reservation in _open(ledger, now - grace_s):
        tale_id, revision = key_parts(reservation.tale_id)
        if not _orphaned(store, tale_id, revision):
            continue
        if not ledger.refund(reservation.tale_id):
            continue  # another sweep (or the tale's own settlement) closed it first
        credits_changed("credits.refunded", reservation.tale_id, reservation.credits)
        log.warning(
            "returned the reservation of %s (%d credits): its tale was never created",
            reservation.tale_id,
            reservation.credits,
        )
        returned.append(reservation)
        if not _orphaned(store, tale_id, revision):
            _fail_unreserved(store, bus, tale_id)
    return returned


def _open(ledger: Ledger, opened_before: float) -> Iterator[OpenReservation]:
    after = ""
    while page := ledger.open_reservations(opened_before, after=after, limit=PAGE):
        yield from page
        if len(page) < PAGE:
            return
        after = page[-1].tale_id


def _orphaned(store: TaleStore, tale_id: str, revision: int) -> bool:
    tale = store.find(tale_id)
    return orphaned(revision, None if tale is None else tale.revision)


def _fail_unreserved(store: TaleStore, bus: EventBus, tale_id: str) -> None:
    """A retry under the same ``Idempotency-Key`` created the tale while its reservation was
    being returned: it must not run unpaid."""
    log.warning("tale %s was created as its reservation was returned; failing it", tale_id)
    fail_tale(
        store,
        bus,
        tale_id,
        "billing",
        "its reserved credits were returned before it started (the request that reserved "
        "them had stopped); submit it again",
    )
