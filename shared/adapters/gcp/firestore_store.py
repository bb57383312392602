"""Firestore tale store: the ``TaleStore`` port on Cloud Firestore (native mode).

Same semantics as the SQLite adapter (the store contract suite runs against both). Every
read-modify-write is one Firestore transaction (reads first, then writes); Firestore runs
transactions serializably, which is what makes claims, compare-and-set transitions and the
fan-in exactly-once under concurrent, redelivered handlers.

Layout (``root`` prefixes the top-level collections, default ``tale``), chosen for
Firestore's limit of about one sustained write per second per document:

* ``{root}_tales/{tale_id}``: the tale's state fields (``TaleRecord``) and the fan-in key.
* ``{root}_tales/{tale_id}/shots/{index:02d}``: one document per shot, written by the worker
  rendering it, so shot claims and completions never contend on one document; only the
  fan-in transaction reads them all (with the tale) to count rendered shots and move the
  tale to stitching exactly once.
* ``{root}_tales/{tale_id}/data/plan`` and ``.../data/submission``: the plan and the
  submission as JSON text (``{"json": ...}``); the story text is sealed (envelope
  encryption) when a ``KeyWrapper`` is given, so Firestore never holds it in the clear.
* ``{root}_tales/{tale_id}/characters/{name}``: character reference images.
* ``{root}_tales/{tale_id}/events/{time}-{random}``: the event log; ``log`` appends without a
  transaction, transitions append their event inside theirs. The id sorts by time (and by
  call order within one process).
* ``{root}_markers/{key}``: one-time markers (``claim_once``) and work claims (``claim``).
* ``{root}_counters/{key}``: counters for ``bump`` (rate limits; the key names the window).

Document ids cannot contain ``/``: names and keys are percent-escaped (``:`` stays).

``list_tales`` orders by ``created_at`` descending with equality / ``in`` filters, which needs
these composite indexes on collection ``{root}_tales`` (single-field indexes are automatic):

* ``owner`` ASC, ``created_at`` DESC
* ``state`` ASC, ``created_at`` DESC
* ``owner`` ASC, ``state`` ASC, ``created_at`` DESC

Aborted, DeadlineExceeded, ServiceUnavailable and InternalServerError are retried inside the
adapter, a bounded number of times with jittered exponential backoff; nothing else is.
Every retried write is idempotent: a transaction re-reads and re-decides, and a plain write
(an event, a character) uses an id chosen before the first try.
"""

from __future__ import annotations

import json
import random
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar
from urllib.parse import quote

from google.api_core import exceptions as gexc
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from schemas.plan import StoryPlan
from schemas.story import StorySubmission
from shared.adapters.gcp.firestore_metering import meter_client
from shared.adapters.hooks import mirrored
from shared.crypto.envelope import DecryptionError, Sealed, open_sealed, seal
from shared.domain.errors import TaleNotFound
from shared.domain.tale import (
    ShotRecord,
    ShotStatus,
    TaleEvent,
    TaleRecord,
    TaleState,
    check_transition,
    progress,
)
from shared.ports.keys import KeyWrapper
from shared.ports.store import FanIn, TaleStore

T = TypeVar("T")

TRANSIENT: tuple[type[Exception], ...] = (
    gexc.Aborted,
    gexc.DeadlineExceeded,
    gexc.ServiceUnavailable,
    gexc.InternalServerError,
)
"""The errors retried inside the adapter (contention, timeouts, a service hiccup)."""

ATTEMPTS = 6
"""Tries of one call (each transaction also retries an aborted commit itself, at once)."""
BACKOFF_S = 0.05
MAX_BACKOFF_S = 2.0

_SAFE = "-_.:@+=,~!$&'()*;"
Doc = dict[str, Any]


def doc_id(key: str) -> str:
    """A Firestore document id for any string, one-to-one: ``%``-escapes ``/``, ``%`` and
    other unusual characters, and a leading ``.`` or ``_`` (ids ``.``, ``..`` and
    ``__…__`` are reserved)."""
    escaped = quote(key, safe=_SAFE)
    if escaped[:1] in (".", "_"):
        escaped = f"%{ord(escaped[0]):02X}{escaped[1:]}"
    return escaped or "%"


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, TRANSIENT):
        return True
    # a transaction whose commits kept aborting: the client raises ValueError from Aborted
    return isinstance(exc, ValueError) and isinstance(exc.__cause__, gexc.Aborted)


def _tale(data: Doc) -> TaleRecord:
    return TaleRecord(
        tale_id=data["tale_id"],
        owner=data["owner"],
        state=TaleState(data["state"]),
        stage=data["stage"],
        progress=data["progress"],
        title=data["title"],
        language=data["language"],
        shot_count=data["shot_count"],
        error_stage=data.get("error_stage"),
        error_reason=data.get("error_reason"),
        outputs=dict(data.get("outputs") or {}),
        fan_in_key=data.get("fan_in_key"),
        created_at=data["created_at"],
        updated_at=data["updated_at"],
    )


def _shot(data: Doc) -> ShotRecord:
    return ShotRecord(
        tale_id=data["tale_id"],
        index=data["index"],
        attempt=data["attempt"],
        status=ShotStatus(data["status"]),
        operation_id=data.get("operation_id"),
        clip_path=data.get("clip_path"),
        error=data.get("error"),
        starts=data.get("starts", 0),
        updated_at=data["updated_at"],
        claimant=data.get("claimant"),
    )


class FirestoreTaleStore(TaleStore):
    def __init__(
        self,
        client: firestore.Client,
        *,
        keys: KeyWrapper | None = None,
        on_change: Callable[[TaleRecord], None] | None = None,
        root: str = "tale",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = meter_client(client)  # billable reads and writes → the invocation's meter
        self.keys = keys
        self.on_change = on_change
        """Called with the tale after every change of its user-facing fields, and on repeated
        calls too, so a retried handler re-syncs a copy whose first write failed."""
        self.root = root
        self.clock = clock
        self._tales = client.collection(f"{root}_tales")
        self._markers = client.collection(f"{root}_markers")
        self._counters = client.collection(f"{root}_counters")
        self._event_lock = threading.Lock()
        self._last_event_ns = 0

    @classmethod
    def from_settings(
        cls, project: str, database: str = "(default)", **kw: Any
    ) -> FirestoreTaleStore:
        return cls(firestore.Client(project=project, database=database), **kw)

    # --- plumbing ------------------------------------------------------------------------
    def _retrying(self, attempt: Callable[[], T]) -> T:
        delay = BACKOFF_S
        for n in range(ATTEMPTS):
            try:
                return attempt()
            except Exception as exc:
                if n == ATTEMPTS - 1 or not _transient(exc):
                    raise
            time.sleep(random.uniform(delay / 2, delay))
            delay = min(delay * 2, MAX_BACKOFF_S)
        raise AssertionError("unreachable")

    def _atomic(self, body: Callable[[firestore.Transaction], T]) -> T:
        """Run ``body`` in a transaction (retried as a whole on contention and transient
        errors: it must only read, decide and write through the transaction)."""
        run = firestore.transactional(body)

        def attempt() -> T:
            result: T = run(self.client.transaction())
            return result

        return self._retrying(attempt)

    def _tale_ref(self, tale_id: str) -> firestore.DocumentReference:
        return self._tales.document(doc_id(tale_id))

    def _data_ref(self, tale_id: str, name: str) -> firestore.DocumentReference:
        ref: firestore.DocumentReference = self._tale_ref(tale_id).collection("data").document(name)
        return ref

    def _shot_ref(self, tale_id: str, index: int) -> firestore.DocumentReference:
        shots = self._tale_ref(tale_id).collection("shots")
        ref: firestore.DocumentReference = shots.document(f"{index:02d}")
        return ref

    def _event_ref(self, tale_id: str) -> firestore.DocumentReference:
        with self._event_lock:  # strictly increasing within this process
            ns = max(time.time_ns(), self._last_event_ns + 1)
            self._last_event_ns = ns
        event_id = f"{ns:020d}-{secrets.token_hex(4)}"
        ref: firestore.DocumentReference = (
            self._tale_ref(tale_id).collection("events").document(event_id)
        )
        return ref

    def _event(self, stage: str, message: str, level: str, tale_id: str) -> Doc:
        return {
            "tale_id": tale_id,
            "at": self.clock(),
            "stage": stage,
            "message": message,
            "level": level,
        }

    @staticmethod
    def _read(tx: firestore.Transaction, ref: firestore.DocumentReference) -> Doc | None:
        snap = ref.get(transaction=tx)
        return snap.to_dict() if snap.exists else None

    def _get(self, tx: firestore.Transaction, tale_id: str) -> TaleRecord:
        data = self._read(tx, self._tale_ref(tale_id))
        if data is None:
            raise TaleNotFound(tale_id)
        return _tale(data)

    # --- tales ---------------------------------------------------------------------------
    @mirrored
    def create(self, record: TaleRecord, submission: StorySubmission) -> bool:
        sealed = self._seal(record, submission)
        ref = self._tale_ref(record.tale_id)

        def body(tx: firestore.Transaction) -> bool:
            if ref.get(transaction=tx).exists:
                return False
            now = self.clock()
            tx.create(
                ref,
                {
                    "tale_id": record.tale_id,
                    "owner": record.owner,
                    "state": record.state.value,
                    "stage": record.stage,
                    "progress": record.progress,
                    "title": record.title,
                    "language": record.language,
                    "shot_count": record.shot_count,
                    "error_stage": None,
                    "error_reason": None,
                    "outputs": dict(record.outputs),
                    "fan_in_key": None,
                    "created_at": now,
                    "updated_at": now,
                },
            )
            tx.create(self._data_ref(record.tale_id, "submission"), {"json": sealed})
            return True

        return self._atomic(body)

    def find(self, tale_id: str) -> TaleRecord | None:
        snap = self._retrying(self._tale_ref(tale_id).get)
        data = snap.to_dict() if snap.exists else None
        return _tale(data) if data is not None else None

    def list_tales(
        self,
        *,
        owner: str | None = None,
        states: Iterable[TaleState] | None = None,
        limit: int = 100,
    ) -> list[TaleRecord]:
        query: Any = self._tales
        if owner is not None:
            query = query.where(filter=FieldFilter("owner", "==", owner))
        if states is not None:
            wanted = sorted({s.value for s in states})
            if not wanted:
                return []
            query = query.where(filter=FieldFilter("state", "in", wanted))
        query = query.order_by("created_at", direction=firestore.Query.DESCENDING).limit(limit)
        snaps = self._retrying(lambda: list(query.stream()))
        tales = [_tale(s.to_dict()) for s in snaps]
        return sorted(tales, key=lambda t: (-t.created_at, t.tale_id))

    def _seal(self, record: TaleRecord, submission: StorySubmission) -> str:
        """The submission as stored: the story text sealed (envelope encryption) when a
        key-encryption key is configured, so the database never holds it in the clear."""
        doc = submission.model_dump(mode="json")
        if self.keys is not None:
            sealed = seal(
                doc.pop("text"), tale_id=record.tale_id, owner=record.owner, keys=self.keys
            )
            doc["sealed_text"] = sealed.to_json()
        return json.dumps(doc)

    def submission(self, tale_id: str) -> StorySubmission:
        tale_ref, sub_ref = self._tale_ref(tale_id), self._data_ref(tale_id, "submission")
        snaps = self._retrying(lambda: list(self.client.get_all([tale_ref, sub_ref])))
        found = {s.reference.path: s.to_dict() for s in snaps if s.exists}
        tale, stored = found.get(tale_ref.path), found.get(sub_ref.path)
        if tale is None or stored is None:
            raise TaleNotFound(tale_id)
        doc = json.loads(stored["json"])
        if "sealed_text" in doc:
            if self.keys is None:
                raise DecryptionError(f"tale {tale_id}: the story is sealed and no key is set")
            doc["text"] = open_sealed(
                Sealed.from_json(doc.pop("sealed_text")),
                tale_id=tale_id,
                owner=tale["owner"],
                keys=self.keys,
            )
        return StorySubmission.model_validate(doc)

    @mirrored
    def transition(
        self,
        tale_id: str,
        sources: Iterable[TaleState],
        target: TaleState,
        *,
        stage: str,
        error_reason: str | None = None,
    ) -> bool:
        allowed = set(sources)

        def body(tx: firestore.Transaction) -> bool:
            tale = self._get(tx, tale_id)
            if tale.state not in allowed:
                return False
            check_transition(tale.state, target)
            value = (
                progress(target, previous=tale.progress)
                if not target.terminal or target is TaleState.COMPLETED
                else tale.progress
            )
            failed = target is TaleState.FAILED
            tx.update(
                self._tale_ref(tale_id),
                {
                    "state": target.value,
                    "stage": stage,
                    "progress": value,
                    "error_stage": stage if failed else tale.error_stage,
                    "error_reason": error_reason if failed else tale.error_reason,
                    "updated_at": self.clock(),
                },
            )
            message = f"{tale.state} → {target}" + (f": {error_reason}" if error_reason else "")
            tx.create(
                self._event_ref(tale_id),
                self._event(stage, message, "error" if failed else "info", tale_id),
            )
            return True

        return self._atomic(body)

    @mirrored
    def update(
        self,
        tale_id: str,
        *,
        stage: str | None = None,
        progress: int | None = None,
        title: str | None = None,
        outputs: dict[str, str] | None = None,
    ) -> None:
        def body(tx: firestore.Transaction) -> None:
            tale = self._get(tx, tale_id)
            tx.update(
                self._tale_ref(tale_id),
                {
                    "stage": stage or tale.stage,
                    "progress": max(progress or 0, tale.progress),
                    "title": title or tale.title,
                    "outputs": {**tale.outputs, **(outputs or {})},
                    "updated_at": self.clock(),
                },
            )

        self._atomic(body)

    # --- plan and characters -------------------------------------------------------------
    def save_plan(self, tale_id: str, plan: StoryPlan) -> StoryPlan:
        ref = self._data_ref(tale_id, "plan")
        text = plan.model_dump_json()

        def body(tx: firestore.Transaction) -> StoryPlan:
            self._get(tx, tale_id)
            stored = self._read(tx, ref)
            if stored is not None:
                return StoryPlan.model_validate_json(stored["json"])
            tx.create(ref, {"json": text})
            tx.update(
                self._tale_ref(tale_id),
                {"shot_count": len(plan.shots), "language": plan.language},
            )
            return StoryPlan.model_validate_json(text)

        return self._atomic(body)

    def plan(self, tale_id: str) -> StoryPlan | None:
        snap = self._retrying(self._data_ref(tale_id, "plan").get)
        data = snap.to_dict() if snap.exists else None
        return StoryPlan.model_validate_json(data["json"]) if data is not None else None

    def record_character(self, tale_id: str, name: str, image_path: str) -> None:
        ref = self._tale_ref(tale_id).collection("characters").document(doc_id(name))
        self._retrying(lambda: ref.set({"name": name, "image_path": image_path}))

    def characters(self, tale_id: str) -> dict[str, str]:
        docs = self._tale_ref(tale_id).collection("characters")
        snaps = self._retrying(lambda: list(docs.stream()))
        return {d["name"]: d["image_path"] for d in (s.to_dict() or {} for s in snaps)}

    # --- shots ---------------------------------------------------------------------------
    def init_shots(self, tale_id: str, count: int) -> None:
        refs = [self._shot_ref(tale_id, i) for i in range(count)]
        if not refs:
            return

        def body(tx: firestore.Transaction) -> None:
            snaps = self.client.get_all(refs, transaction=tx)
            existing = {s.reference.path for s in snaps if s.exists}
            now = self.clock()
            for index, ref in enumerate(refs):
                if ref.path not in existing:
                    tx.create(
                        ref,
                        {
                            "tale_id": tale_id,
                            "index": index,
                            "attempt": 1,
                            "status": ShotStatus.PENDING.value,
                            "operation_id": None,
                            "clip_path": None,
                            "error": None,
                            "starts": 0,
                            "claimed_at": None,
                            "claimant": None,
                            "updated_at": now,
                        },
                    )

        self._atomic(body)

    def shots(self, tale_id: str) -> list[ShotRecord]:
        docs = self._tale_ref(tale_id).collection("shots")
        snaps = self._retrying(lambda: list(docs.stream()))
        return sorted((_shot(s.to_dict() or {}) for s in snaps), key=lambda s: s.index)

    def shot(self, tale_id: str, index: int) -> ShotRecord | None:
        ref = self._shot_ref(tale_id, index)
        snap = self._retrying(lambda: ref.get())
        return _shot(snap.to_dict() or {}) if snap.exists else None

    def _shot_doc(self, tx: firestore.Transaction, tale_id: str, index: int) -> Doc:
        data = self._read(tx, self._shot_ref(tale_id, index))
        if data is None:
            raise TaleNotFound(f"{tale_id} shot {index}")
        return data

    def claim_shot(
        self,
        tale_id: str,
        index: int,
        attempt: int,
        *,
        claimant: str = "",
        lease_s: float | None = None,
    ) -> tuple[ShotRecord, bool]:
        def body(tx: firestore.Transaction) -> tuple[ShotRecord, bool]:
            data = self._shot_doc(tx, tale_id, index)
            shot = _shot(data)
            if shot.attempt != attempt:
                return shot, False
            now = self.clock()
            claimed_at = data.get("claimed_at")
            expired = (
                shot.status is ShotStatus.CLAIMED
                and lease_s is not None
                and claimed_at is not None
                and now - claimed_at >= lease_s
            )
            if shot.status is not ShotStatus.PENDING and not expired:
                return shot, False
            change = {
                "status": ShotStatus.CLAIMED.value,
                "claimed_at": now,
                "claimant": claimant,
                "updated_at": now,
            }
            tx.update(self._shot_ref(tale_id, index), change)
            return _shot({**data, **change}), True

        return self._atomic(body)

    def _change_shot(
        self,
        tale_id: str,
        index: int,
        change: Callable[[Doc], Doc | None],
    ) -> None:
        """Apply ``change`` (the shot's fields → the fields to set, or None) atomically; a
        missing shot is left alone."""
        ref = self._shot_ref(tale_id, index)

        def body(tx: firestore.Transaction) -> None:
            data = self._read(tx, ref)
            fields = change(data) if data is not None else None
            if fields is not None:
                tx.update(ref, {**fields, "updated_at": self.clock()})

        self._atomic(body)

    def release_claim(self, tale_id: str, index: int, attempt: int, claimant: str) -> None:
        def change(d: Doc) -> Doc | None:
            unstarted = d["status"] == ShotStatus.CLAIMED.value and not d.get("operation_id")
            if d["attempt"] != attempt or not unstarted or d.get("claimant") != claimant:
                return None
            return {"status": ShotStatus.PENDING.value, "claimed_at": None, "claimant": None}

        self._change_shot(tale_id, index, change)

    def mark_shot_started(self, tale_id: str, index: int, attempt: int, operation_id: str) -> None:
        def change(d: Doc) -> Doc | None:
            if d["attempt"] != attempt or d["status"] != ShotStatus.CLAIMED.value:
                return None
            return {
                "status": ShotStatus.STARTED.value,
                "operation_id": operation_id,
                "starts": d.get("starts", 0) + 1,
            }

        self._change_shot(tale_id, index, change)

    def finish_shot(self, tale_id: str, index: int, attempt: int, clip_path: str) -> None:
        live = {ShotStatus.CLAIMED.value, ShotStatus.STARTED.value}

        def change(d: Doc) -> Doc | None:
            if d["attempt"] != attempt or d["status"] not in live:
                return None
            return {"status": ShotStatus.RENDERED.value, "clip_path": clip_path}

        self._change_shot(tale_id, index, change)

    def fail_shot(self, tale_id: str, index: int, attempt: int, error: str) -> None:
        def change(d: Doc) -> Doc | None:
            if d["attempt"] != attempt or d["status"] == ShotStatus.RENDERED.value:
                return None
            return {"status": ShotStatus.FAILED.value, "error": error}

        self._change_shot(tale_id, index, change)

    def retry_shot(self, tale_id: str, index: int, attempt: int) -> int:
        def body(tx: firestore.Transaction) -> int:
            data = self._shot_doc(tx, tale_id, index)
            if data["attempt"] != attempt:
                return int(data["attempt"])
            tx.update(
                self._shot_ref(tale_id, index),
                {
                    "attempt": attempt + 1,
                    "status": ShotStatus.PENDING.value,
                    "operation_id": None,
                    "clip_path": None,
                    "error": None,
                    "claimed_at": None,
                    "updated_at": self.clock(),
                },
            )
            return attempt + 1

        return self._atomic(body)

    @mirrored
    def fan_in(self, tale_id: str, index: int, attempt: int, key: str) -> FanIn:
        shots = self._tale_ref(tale_id).collection("shots")

        def body(tx: firestore.Transaction) -> FanIn:
            tale = self._get(tx, tale_id)
            statuses = [(s.to_dict() or {}).get("status") for s in shots.stream(transaction=tx)]
            rendered = statuses.count(ShotStatus.RENDERED.value)
            total = tale.shot_count
            fan_in_key = tale.fan_in_key
            if tale.state is TaleState.RENDERING:
                if rendered == total and fan_in_key is None:
                    check_transition(tale.state, TaleState.STITCHING)
                    fan_in_key = key
                    tx.update(
                        self._tale_ref(tale_id),
                        {
                            "state": TaleState.STITCHING.value,
                            "stage": "stitching",
                            "progress": progress(TaleState.STITCHING),
                            "fan_in_key": key,
                            "updated_at": self.clock(),
                        },
                    )
                    tx.create(
                        self._event_ref(tale_id),
                        self._event(
                            "stitching",
                            f"rendering → stitching (all {total} shots rendered)",
                            "info",
                            tale_id,
                        ),
                    )
                else:
                    value = progress(
                        TaleState.RENDERING,
                        characters_done=True,
                        shots_done=rendered,
                        shot_count=total,
                        previous=tale.progress,
                    )
                    tx.update(
                        self._tale_ref(tale_id), {"progress": value, "updated_at": self.clock()}
                    )
            return FanIn(rendered=rendered, total=total, fan_in_key=fan_in_key)

        return self._atomic(body)

    # --- event log -----------------------------------------------------------------------
    def log(self, tale_id: str, stage: str, message: str, level: str = "info") -> None:
        ref, event = self._event_ref(tale_id), self._event(stage, message, level, tale_id)
        self._retrying(lambda: ref.set(event))

    def events(self, tale_id: str) -> list[TaleEvent]:
        docs = self._tale_ref(tale_id).collection("events")
        snaps = sorted(self._retrying(lambda: list(docs.stream())), key=lambda s: s.id)
        return [
            TaleEvent(d["tale_id"], d["at"], d["stage"], d["message"], d["level"])
            for d in (s.to_dict() or {} for s in snaps)
        ]

    def claim_once(self, key: str) -> bool:
        ref = self._markers.document(doc_id(key))

        def body(tx: firestore.Transaction) -> bool:
            if ref.get(transaction=tx).exists:
                return False
            tx.create(ref, {"key": key, "at": self.clock(), "claimant": None})
            return True

        return self._atomic(body)

    def claim(self, key: str, claimant: str) -> str:
        ref = self._markers.document(doc_id(key))

        def body(tx: firestore.Transaction) -> str:
            data = self._read(tx, ref)
            if data is not None:
                return str(data.get("claimant"))
            tx.create(ref, {"key": key, "at": self.clock(), "claimant": claimant})
            return claimant

        return self._atomic(body)

    def bump(self, key: str) -> int:
        ref = self._counters.document(doc_id(key))

        def body(tx: firestore.Transaction) -> int:
            data = self._read(tx, ref)
            value = int(data["value"]) + 1 if data is not None else 1
            tx.set(ref, {"key": key, "value": value})
            return value

        return self._atomic(body)

    def marked(self, key: str) -> bool:
        snap = self._retrying(self._markers.document(doc_id(key)).get)
        return bool(snap.exists)
