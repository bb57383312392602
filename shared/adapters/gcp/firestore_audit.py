"""Firestore audit log: one document per record in ``{root}_audit``.

A document's id is the time of recording in nanoseconds (zero-padded, so ids sort by time)
and a random suffix; it is written with ``create``, which fails rather than overwrite, and the
adapter has no update or delete, so it never changes a record. Firestore itself cannot make a
collection append-only for a principal that holds ``roles/datastore.user`` (as the functions
do): tamper-proofing beyond this adapter (a retention-locked export, a separate database with
create-only access) is the deployment's job. Only the prompt's SHA-256 is stored, never its
text.

Transient errors are retried (``firestore_tx``). The id is chosen before the first try, so a
retried ``create`` that finds its document already there finds the first try's: it is done.
"""

from __future__ import annotations

import time
import uuid

from google.api_core import exceptions as gexc
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from shared.adapters.gcp.firestore_tx import retrying
from shared.ports.audit import AuditLog, AuditRecord, check_record


class FirestoreAudit(AuditLog):
    def __init__(self, client: firestore.Client, root: str = "tale") -> None:
        """``client``: the process's Firestore client (``Container.firestore``)."""
        self._client = client
        self._collection = f"{root}_audit"

    def record(
        self,
        *,
        actor: str,
        tale_id: str,
        model: str,
        prompt_sha256: str,
        kind: str = "inference",
    ) -> None:
        check_record(actor=actor, model=model, prompt_sha256=prompt_sha256, kind=kind)
        now_ns = time.time_ns()
        doc_id = f"{now_ns:020d}-{uuid.uuid4().hex}"
        ref = self._client.collection(self._collection).document(doc_id)
        data = {
            "at": now_ns / 1e9,
            "actor": actor,
            "tale_id": tale_id,
            "model": model,
            "prompt_sha256": prompt_sha256,
            "kind": kind,
        }
        tries = 0

        def create() -> None:
            nonlocal tries
            tries += 1
            try:
                ref.create(data)
            except gexc.AlreadyExists:
                if tries == 1:  # not ours: ids are unique per call
                    raise

        retrying(create)

    def for_tale(self, tale_id: str) -> list[AuditRecord]:
        query = self._client.collection(self._collection).where(
            filter=FieldFilter("tale_id", "==", tale_id)
        )
        docs = sorted(retrying(lambda: list(query.stream())), key=lambda d: d.id)
        records = []
        for doc in docs:
            d = doc.to_dict() or {}
            records.append(
                AuditRecord(
                    at=float(d["at"]),
                    actor=d["actor"],
                    tale_id=d["tale_id"],
                    model=d["model"],
                    prompt_sha256=d["prompt_sha256"],
                    kind=d["kind"],
                )
            )
        return records
