"""Firestore tale store: the ``TaleStore`` port on Cloud Firestore (native mode).

A unit of work is one Firestore transaction: read the tale document and the shot documents
asked for, let the domain decide (``shared.domain.aggregate``), write the changed documents
and the new event-log lines. Firestore runs transactions serializably and re-runs the body
on contention, which is what makes claims, compare-and-set transitions and the fan-in
exactly-once under concurrent, redelivered handlers. This adapter holds no rules of its own;
the store contract suite runs it, the SQLite store and the fake against one set of tests.

Layout (``root`` prefixes the top-level collection, default ``tale``), chosen for
Firestore's limit of about one sustained write per second per document:

* ``{root}_tales/{tale_id}``: the tale (``TaleRecord``): state, progress, the fan-in key, the
  count of rendered shots, and its markers as a map (escaped name → ``{name, holder}``).
* ``{root}_tales/{tale_id}/shots/{index:02d}``: one document per shot. A shot's unit of work
  reads the tale and that shot only; a completion changes the tale's rendered count in the
  same transaction, so the fan-in reads one document, not every shot (O(1) per completion).
* ``{root}_tales/{tale_id}/data/plan`` and ``.../data/submission``: the plan and the
  submission as JSON text (``{"json": ...}``); the story text is sealed (envelope
  encryption) when a ``KeyWrapper`` is given, so Firestore never holds it in the clear.
* ``{root}_tales/{tale_id}/characters/{name}``: character reference images.
* ``{root}_tales/{tale_id}/events/{time}-{random}``: the event log; ``log`` appends without a
  transaction, units of work append theirs inside it. The id sorts by time (and by call
  order within one process).

Markers that are not about one tale (rate limits, webhooks, trends) are the ``Claims``
port's (``shared.adapters.gcp.firestore_claims``). A tale stored before the rendered count
existed gets it counted from its shots the first time a unit of work loads it.

Document ids cannot contain ``/``: names and keys are percent-escaped (``:`` stays).

``list_tales`` orders by ``created_at`` descending with equality / ``in`` filters, which needs
these composite indexes on collection ``{root}_tales`` (single-field indexes are automatic):

* ``owner`` ASC, ``created_at`` DESC
* ``state`` ASC, ``created_at`` DESC
* ``owner`` ASC, ``state`` ASC, ``created_at`` DESC

Transient errors are retried in ``shared.adapters.gcp.firestore_tx``.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import replace
from typing import Any, TypeVar

from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from schemas.plan import StoryPlan
from schemas.story import StoryOptions, StorySubmission
from shared.adapters.gcp.firestore_metering import meter_client
from shared.adapters.gcp.firestore_tx import Doc, atomic, doc_id, read, retrying
from shared.crypto.sealing import DecryptionError, Sealed, open_sealed, seal
from shared.domain.aggregate import TaleAggregate
from shared.domain.errors import TaleNotFound
from shared.domain.music import MusicTrack
from shared.domain.tale import ShotRecord, ShotStatus, TaleEvent, TaleRecord, TaleState
from shared.ports.keys import KeyWrapper
from shared.ports.store import TaleStore

T = TypeVar("T")

__all__ = ["FirestoreTaleStore", "doc_id"]


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
        rendered=data.get("rendered", 0),
        markers={m["name"]: m["holder"] for m in (data.get("markers") or {}).values()},
        retries=data.get("retries", 0),
        voiced=data.get("voiced", 0),
        voices_expected=data.get("voices_expected", False),
        plan_version=data.get("plan_version", 0),
        revision=data.get("revision", 0),
        music=MusicTrack.from_json(data["music"]) if data.get("music") else None,
    )


def _tale_doc(t: TaleRecord) -> Doc:
    return {
        "tale_id": t.tale_id,
        "owner": t.owner,
        "state": t.state.value,
        "stage": t.stage,
        "progress": t.progress,
        "title": t.title,
        "language": t.language,
        "shot_count": t.shot_count,
        "error_stage": t.error_stage,
        "error_reason": t.error_reason,
        "outputs": dict(t.outputs),
        "fan_in_key": t.fan_in_key,
        "created_at": t.created_at,
        "updated_at": t.updated_at,
        "rendered": t.rendered,
        "markers": {doc_id(k): {"name": k, "holder": v} for k, v in t.markers.items()},
        "retries": t.retries,
        "voiced": t.voiced,
        "voices_expected": t.voices_expected,
        "plan_version": t.plan_version,
        "revision": t.revision,
        "music": t.music.to_json() if t.music else None,
    }


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
        claimed_at=data.get("claimed_at"),
        voice_path=data.get("voice_path"),
    )


def _shot_doc(s: ShotRecord) -> Doc:
    return {
        "tale_id": s.tale_id,
        "index": s.index,
        "attempt": s.attempt,
        "status": s.status.value,
        "operation_id": s.operation_id,
        "clip_path": s.clip_path,
        "error": s.error,
        "starts": s.starts,
        "claimed_at": s.claimed_at,
        "claimant": s.claimant,
        "updated_at": s.updated_at,
        "voice_path": s.voice_path,
    }


class FirestoreTaleStore(TaleStore):
    """Tales in Firestore; a unit of work is one Firestore transaction."""

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
        self.root = root
        self.clock = clock
        self._tales = client.collection(f"{root}_tales")
        self._event_lock = threading.Lock()
        self._last_event_ns = 0

    # --- references ----------------------------------------------------------------------
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

    # --- the unit of work ----------------------------------------------------------------
    def _run_unit(
        self,
        tale_id: str,
        shots: Collection[int] | None,
        decide: Callable[[TaleAggregate], T],
        with_plan: bool = False,
    ) -> T:
        tale_ref, plan_ref = self._tale_ref(tale_id), self._data_ref(tale_id, "plan")

        def body(tx: firestore.Transaction) -> T:
            data = read(tx, tale_ref)
            if data is None:
                raise TaleNotFound(tale_id)
            stored_plan = read(tx, plan_ref) if with_plan else None
            loaded = self._load_shots(tx, tale_id, shots)
            tale = _tale(data)
            if "rendered" not in data:  # a tale stored before the count existed
                every = loaded if shots is None else self._load_shots(tx, tale_id, None)
                rendered = sum(s.status is ShotStatus.RENDERED for s in every.values())
                tale = replace(tale, rendered=rendered)
            if "plan_version" not in data and with_plan and stored_plan is not None:
                tale = replace(tale, plan_version=1)  # planned before versions existed
            agg = TaleAggregate(tale, loaded, self.clock())
            if stored_plan is not None:
                agg.plan = StoryPlan.model_validate_json(stored_plan["json"])
            result = decide(agg)
            if agg.plan_changed and agg.plan is not None:
                tx.set(plan_ref, {"json": agg.plan.model_dump_json()})
            if agg.tale_changed:
                tx.set(tale_ref, _tale_doc(agg.tale))
            for index in sorted(agg.changed_shots):
                tx.set(self._shot_ref(tale_id, index), _shot_doc(agg.shots[index]))
            for line in agg.log:
                tx.create(
                    self._event_ref(tale_id),
                    self._event(line.stage, line.message, line.level, tale_id),
                )
            return result

        return atomic(self.client, body)

    def _load_shots(
        self, tx: firestore.Transaction, tale_id: str, indexes: Collection[int] | None
    ) -> dict[int, ShotRecord]:
        if indexes is None:
            snaps = list(self._tale_ref(tale_id).collection("shots").stream(transaction=tx))
        elif indexes:
            refs = [self._shot_ref(tale_id, i) for i in sorted(set(indexes))]
            snaps = list(self.client.get_all(refs, transaction=tx))
        else:
            return {}
        found = [_shot(s.to_dict() or {}) for s in snaps if s.exists]
        return {shot.index: shot for shot in found}

    # --- tales ---------------------------------------------------------------------------
    def _create(self, record: TaleRecord, submission: StorySubmission) -> bool:
        sealed = self._seal(record, submission)
        ref = self._tale_ref(record.tale_id)

        def body(tx: firestore.Transaction) -> bool:
            if ref.get(transaction=tx).exists:
                return False
            now = self.clock()
            fresh = replace(
                record,
                error_stage=None,
                error_reason=None,
                fan_in_key=None,
                created_at=now,
                updated_at=now,
                rendered=0,
                markers={},
                retries=0,
            )
            tx.create(ref, _tale_doc(fresh))
            tx.create(self._data_ref(record.tale_id, "submission"), {"json": sealed})
            return True

        return atomic(self.client, body)

    def find(self, tale_id: str) -> TaleRecord | None:
        snap = retrying(self._tale_ref(tale_id).get)
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
        snaps = retrying(lambda: list(query.stream()))
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

    def options(self, tale_id: str) -> StoryOptions:
        snap = retrying(self._data_ref(tale_id, "submission").get)
        if not snap.exists:
            raise TaleNotFound(tale_id)
        stored = snap.to_dict() or {}
        return StoryOptions.model_validate(json.loads(stored["json"]).get("options", {}))

    def submission(self, tale_id: str) -> StorySubmission:
        tale_ref, sub_ref = self._tale_ref(tale_id), self._data_ref(tale_id, "submission")
        snaps = retrying(lambda: list(self.client.get_all([tale_ref, sub_ref])))
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

    # --- plan and characters -------------------------------------------------------------
    def _save_plan(self, tale_id: str, plan: StoryPlan) -> StoryPlan:
        ref = self._data_ref(tale_id, "plan")
        text = plan.model_dump_json()

        def body(tx: firestore.Transaction) -> StoryPlan:
            if read(tx, self._tale_ref(tale_id)) is None:
                raise TaleNotFound(tale_id)
            stored = read(tx, ref)
            if stored is not None:
                return StoryPlan.model_validate_json(stored["json"])
            tx.create(ref, {"json": text})
            tx.update(
                self._tale_ref(tale_id),
                {"shot_count": len(plan.shots), "language": plan.language, "plan_version": 1},
            )
            return StoryPlan.model_validate_json(text)

        return atomic(self.client, body)

    def plan(self, tale_id: str) -> StoryPlan | None:
        snap = retrying(self._data_ref(tale_id, "plan").get)
        data = snap.to_dict() if snap.exists else None
        return StoryPlan.model_validate_json(data["json"]) if data is not None else None

    def record_character(self, tale_id: str, name: str, image_path: str) -> None:
        ref = self._tale_ref(tale_id).collection("characters").document(doc_id(name))
        retrying(lambda: ref.set({"name": name, "image_path": image_path}))

    def characters(self, tale_id: str) -> dict[str, str]:
        docs = self._tale_ref(tale_id).collection("characters")
        snaps = retrying(lambda: list(docs.stream()))
        return {d["name"]: d["image_path"] for d in (s.to_dict() or {} for s in snaps)}

    # --- shots ---------------------------------------------------------------------------
    def shots(self, tale_id: str) -> list[ShotRecord]:
        docs = self._tale_ref(tale_id).collection("shots")
        snaps = retrying(lambda: list(docs.stream()))
        return sorted((_shot(s.to_dict() or {}) for s in snaps), key=lambda s: s.index)

    def shot(self, tale_id: str, index: int) -> ShotRecord | None:
        ref = self._shot_ref(tale_id, index)
        snap = retrying(lambda: ref.get())
        return _shot(snap.to_dict() or {}) if snap.exists else None

    # --- event log -----------------------------------------------------------------------
    def log(self, tale_id: str, stage: str, message: str, level: str = "info") -> None:
        ref, event = self._event_ref(tale_id), self._event(stage, message, level, tale_id)
        retrying(lambda: ref.set(event))

    def events(self, tale_id: str) -> list[TaleEvent]:
        docs = self._tale_ref(tale_id).collection("events")
        snaps = sorted(retrying(lambda: list(docs.stream())), key=lambda s: s.id)
        return [
            TaleEvent(d["tale_id"], d["at"], d["stage"], d["message"], d["level"])
            for d in (s.to_dict() or {} for s in snaps)
        ]
