"""Firestore claims: the ``Claims`` port on Cloud Firestore.

``{root}_markers/{key}`` holds one-time markers and work claims, ``{root}_counters/{key}``
the counters (the key names the window). Each operation is one transaction on one document.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from google.cloud import firestore

from shared.adapters.gcp.firestore_tx import atomic, doc_id, read, retrying
from shared.ports.claims import ClaimKey, Claims


class FirestoreClaims(Claims):
    def __init__(
        self,
        client: firestore.Client,
        *,
        root: str = "tale",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.clock = clock
        self._markers = client.collection(f"{root}_markers")
        self._counters = client.collection(f"{root}_counters")

    def claim_once(self, key: ClaimKey) -> bool:
        ref = self._markers.document(doc_id(key.value))

        def body(tx: firestore.Transaction) -> bool:
            if ref.get(transaction=tx).exists:
                return False
            tx.create(ref, {"key": key.value, "at": self.clock(), "claimant": None})
            return True

        return atomic(self.client, body)

    def claim(self, key: ClaimKey, claimant: str) -> str:
        ref = self._markers.document(doc_id(key.value))

        def body(tx: firestore.Transaction) -> str:
            data = read(tx, ref)
            if data is not None:
                return str(data.get("claimant"))
            tx.create(ref, {"key": key.value, "at": self.clock(), "claimant": claimant})
            return claimant

        return atomic(self.client, body)

    def bump(self, key: ClaimKey) -> int:
        ref = self._counters.document(doc_id(key.value))

        def body(tx: firestore.Transaction) -> int:
            data = read(tx, ref)
            value = int(data["value"]) + 1 if data is not None else 1
            tx.set(ref, {"key": key.value, "value": value})
            return value

        return atomic(self.client, body)

    def marked(self, key: ClaimKey) -> bool:
        snap = retrying(self._markers.document(doc_id(key.value)).get)
        return bool(snap.exists)
