"""Counting Firestore's billable operations at the RPC boundary.

Firestore bills per document: a read for every document a lookup or query returns (at least
one per query, and one for a lookup of a document that does not exist), a write for every
write in a commit, a delete for every delete. The google-cloud-firestore client sends all of
its work through one GAPIC client (``Client._firestore_api``); ``meter_client`` wraps it, so
transactions, batches, lookups and queries are all counted — whatever the store's code does —
into the invocation's meter (``shared.metering``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

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


def meter_client(client: Any) -> Any:
    """``client`` with its GAPIC API wrapped (idempotent); returns the client."""
    api = client._firestore_api  # builds the channel and the GAPIC client on first use
    if not isinstance(api, _CountingApi):
        client._firestore_api_internal = _CountingApi(api)
    return client
