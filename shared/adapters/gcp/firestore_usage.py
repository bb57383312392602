"""Firestore usage records: ``{root}_usage/{tale}|{key}`` documents (one write per call, no
hot document). Transient errors are retried (``firestore_tx``): a record is a ``set`` of a
document named by its key, so a retried write is the same write."""

from __future__ import annotations

from urllib.parse import quote

from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from shared.adapters.gcp.firestore_tx import retrying
from shared.ports.usage import Usage, UsageRecorder


class FirestoreUsage(UsageRecorder):
    def __init__(self, client: firestore.Client, root: str = "tale") -> None:
        """``client``: the process's Firestore client (``Container.firestore``)."""
        self._client = client
        self._collection = f"{root}_usage"

    def record(self, usage: Usage) -> None:
        doc_id = quote(f"{usage.tale_id}|{usage.key}", safe="")
        ref = self._client.collection(self._collection).document(doc_id)
        data = {
            "tale_id": usage.tale_id,
            "key": usage.key,
            "provider": usage.provider,
            "model": usage.model,
            "units": dict(usage.units),
            "at": usage.at,
        }
        retrying(lambda: ref.set(data))

    def for_tale(self, tale_id: str) -> list[Usage]:
        query = self._client.collection(self._collection).where(
            filter=FieldFilter("tale_id", "==", tale_id)
        )
        found = retrying(lambda: [d.to_dict() or {} for d in query.stream()])
        return sorted(
            (
                Usage(
                    d["tale_id"],
                    d["key"],
                    d["provider"],
                    d["model"],
                    {k: float(v) for k, v in d["units"].items()},
                    float(d["at"]),
                )
                for d in found
            ),
            key=lambda u: u.key,
        )
