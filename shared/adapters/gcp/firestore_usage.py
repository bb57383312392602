"""Firestore usage records: ``{root}_usage/{tale}|{key}`` documents (one write per call, no
hot document)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from shared.ports.usage import Usage, UsageRecorder


class FirestoreUsage(UsageRecorder):
    def __init__(self, client: Any, root: str = "tale") -> None:
        self._client = client
        self._collection = f"{root}_usage"

    @classmethod
    def from_settings(cls, project: str, database: str = "(default)") -> FirestoreUsage:
        from google.cloud import firestore

        return cls(firestore.Client(project=project, database=database))

    def record(self, usage: Usage) -> None:
        doc_id = quote(f"{usage.tale_id}|{usage.key}", safe="")
        self._client.collection(self._collection).document(doc_id).set(
            {
                "tale_id": usage.tale_id,
                "key": usage.key,
                "provider": usage.provider,
                "model": usage.model,
                "units": dict(usage.units),
                "at": usage.at,
            }
        )

    def for_tale(self, tale_id: str) -> list[Usage]:
        from google.cloud.firestore_v1.base_query import FieldFilter

        query = self._client.collection(self._collection).where(
            filter=FieldFilter("tale_id", "==", tale_id)
        )
        docs = query.stream()
        found = [d.to_dict() for d in docs]
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
