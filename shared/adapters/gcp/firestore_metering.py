"""Counting Firestore's billable operations at the RPC boundary.

Firestore bills per document: a read for every document a lookup or query returns (at least
one per query, and one for a lookup of a document that does not exist), a write for every
write in a commit, a delete for every delete. The google-cloud-firestore client sends all of
its work through one GAPIC client, so counting there counts transactions (each re-run too),
batches, lookups and queries — whatever an adapter's code does — into the invocation's meter
(``shared.metering``).

``MeteredClient`` counts there. The composition root builds one per process
(``Container.firestore``) and every Firestore adapter (tale store, claims, usage, audit, trend
store) uses it, so every adapter is metered, once.

Why a subclass, and why at this boundary. The client has no public interception point: its
constructor takes project, credentials, database, client info and client options, none of which
reaches the gRPC channel, and the documents, queries, batches and transactions it hands out call
the GAPIC client through the private ``Client._firestore_api`` property. Counting at each
adapter's boundary instead (``shared.metering.count`` beside every call) would be public, but
it would have to repeat Firestore's billing rules at dozens of call sites — every document a
query returns and at least one, a missing document read, reads again on each re-run of an
aborted transaction — and an operation one of them forgets would go uncounted without any test
noticing. The subclass overrides that one property, at construction, in one place; nothing
assigns a private attribute from outside, and ``tests/unit/test_firestore_client.py`` fails if a
library upgrade moves the seam.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import Any

from google.cloud import firestore

from shared.metering import count


class _CountingApi:
    def __init__(self, api: Any) -> None:
        self._api = api

    def __getattr__(self, name: str) -> Any:
        return getattr(self._api, name)

    def commit(self, *args: Any, **kwargs: Any) -> Any:
        response = self._api.commit(*args, **kwargs)
        writes = _field(args, kwargs, "writes")
        deletes = sum(1 for w in writes if _get(w, "delete"))
        count("firestore_writes", len(writes) - deletes)
        count("firestore_deletes", deletes)
        return response

    def batch_get_documents(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        for response in self._api.batch_get_documents(*args, **kwargs):
            count("firestore_reads")  # found or missing, each is a read
            yield response

    def run_query(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        return _count_query(self._api.run_query(*args, **kwargs))

    def run_aggregation_query(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        count("firestore_reads")  # at least one; large counts bill per 1,000 entries
        yield from self._api.run_aggregation_query(*args, **kwargs)


def _count_query(responses: Iterable[Any]) -> Iterator[Any]:
    documents = 0
    try:
        for response in responses:
            if _get(response, "document"):
                documents += 1
            yield response
    finally:
        count("firestore_reads", max(documents, 1))


def _field(args: tuple[Any, ...], kwargs: dict[str, Any], name: str) -> list[Any]:
    request = kwargs.get("request", args[0] if args else None)
    value = _get(request, name) if request is not None else kwargs.get(name)
    return list(value or [])


def _get(obj: Any, name: str) -> Any:
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


class MeteredClient(firestore.Client):
    """A Firestore client whose billable operations count into the invocation's meter."""

    _counting: _CountingApi | None = None
    _counting_lock = threading.Lock()

    @property
    def _firestore_api(self) -> Any:
        api = super()._firestore_api  # the library builds its channel and GAPIC client once
        counting = self._counting
        if counting is None or counting._api is not api:
            with self._counting_lock:
                counting = self._counting
                if counting is None or counting._api is not api:
                    counting = self._counting = _CountingApi(api)
        return counting


def meter_client(client: Any) -> Any:
    """``client``, metered: a ``MeteredClient`` is returned as it is; another client gets its
    GAPIC API wrapped in place (idempotent). Prefer building a ``MeteredClient``."""
    api = client._firestore_api  # builds the channel and the GAPIC client on first use
    if not isinstance(api, _CountingApi):
        client._firestore_api_internal = _CountingApi(api)
    return client
