"""Firestore plumbing shared by the Firestore adapters: document ids, transient-error retries
and transactions.

Aborted, DeadlineExceeded, ServiceUnavailable and InternalServerError are retried here, a
bounded number of times with jittered exponential backoff; nothing else is. A retried
transaction re-reads and re-decides, so it must only read, decide and write through the
transaction; a plain retried write uses an id chosen before the first try.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote

from google.api_core import exceptions as gexc
from google.cloud import firestore

T = TypeVar("T")
Doc = dict[str, Any]

TRANSIENT: tuple[type[Exception], ...] = (
    gexc.Aborted,
    gexc.DeadlineExceeded,
    gexc.ServiceUnavailable,
    gexc.InternalServerError,
)
"""The errors retried inside the adapters (contention, timeouts, a service hiccup)."""

ATTEMPTS = 6
"""Tries of one call (each transaction also retries an aborted commit itself, at once)."""
BACKOFF_S = 0.05
MAX_BACKOFF_S = 2.0

_SAFE = "-_.:@+=,~!$&'()*;"


def doc_id(key: str) -> str:
    """A Firestore document id for any string, one-to-one: ``%``-escapes ``/``, ``%`` and
    other unusual characters, and a leading ``.`` or ``_`` (ids ``.``, ``..`` and
    ``__…__`` are reserved)."""
    escaped = quote(key, safe=_SAFE)
    if escaped[:1] in (".", "_"):
        escaped = f"%{ord(escaped[0]):02X}{escaped[1:]}"
    return escaped or "%"


def transient(exc: BaseException) -> bool:
    if isinstance(exc, TRANSIENT):
        return True
    # a transaction whose commits kept aborting: the client raises ValueError from Aborted
    return isinstance(exc, ValueError) and isinstance(exc.__cause__, gexc.Aborted)


def retrying(attempt: Callable[[], T]) -> T:
    """``attempt()``, retried on transient errors only."""
    delay = BACKOFF_S
    for n in range(ATTEMPTS):
        try:
            return attempt()
        except Exception as exc:
            if n == ATTEMPTS - 1 or not transient(exc):
                raise
        time.sleep(random.uniform(delay / 2, delay))
        delay = min(delay * 2, MAX_BACKOFF_S)
    raise AssertionError("unreachable")


def atomic(client: firestore.Client, body: Callable[[firestore.Transaction], T]) -> T:
    """Run ``body`` in a transaction, retried as a whole on contention and transient errors."""
    run = firestore.transactional(body)

    def attempt() -> T:
        result: T = run(client.transaction())
        return result

    return retrying(attempt)


def read(tx: firestore.Transaction, ref: firestore.DocumentReference) -> Doc | None:
    snap = ref.get(transaction=tx)
    return snap.to_dict() if snap.exists else None
