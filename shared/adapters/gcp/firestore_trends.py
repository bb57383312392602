"""Firestore trend store: the ``TrendStore`` port on Cloud Firestore (same contract as SQLite).

Layout (``root`` prefixes the collections, default ``tale``), chosen so that every query is a
single-field one — Firestore serves those from its automatic indexes, so the trend scout
needs no composite index:

* ``{root}_trend_videos/{video_id}``: one document per video (``shared.trends.codec``).
* ``{root}_trend_regions/{region}/snapshots/{video_id}|{ms}``: snapshots, per region, so
  "the region's snapshots since t" is a range on ``at`` alone.
* ``{root}_trend_quota/{day}``: ``spent``, ``exhausted_until``, ``reason``; its ``calls``
  subcollection holds one document per request. A spend is a transaction that reads the day
  document and writes both (serializable, so concurrent collections cannot overspend).
* ``{root}_trends/{trend_id}``: ``analysis_id``, ``rank`` and the trend as JSON text;
  ``{root}_trend_latest/{region}``: the region's latest analysis.
  ``{root}_trend_daily/{region}|{day}``: the first analysis published on a UTC day (the free
  tier's daily top; ``daily`` of every region is an equality query on ``day``).
* ``{root}_trend_channels/{channel_id}``: channel baselines.
* ``{root}_trend_followers/{follower_id}`` and ``{root}_trend_keys/{sha256}`` (keys are
  found by their hash; revocation and rotation look the id up with an equality query);
  ``{root}_trend_key_calls/{key_id}|{period}``: a key's metered calls in a month, counted in a
  transaction.

Contention, timeouts and service hiccups are retried in ``firestore_tx`` (the same named
errors as every Firestore adapter), a bounded number of times; every retried write is
idempotent.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from shared.adapters.gcp.firestore_tx import atomic, doc_id, read, retrying
from shared.ports.trends import TrendStore
from shared.trends import codec
from shared.trends.models import (
    ApiKey,
    ChannelBaseline,
    Follower,
    QuotaCall,
    QuotaState,
    Snapshot,
    Trend,
    VideoInfo,
)

_BATCH = 400


class FirestoreTrendStore(TrendStore):
    def __init__(self, client: firestore.Client, root: str = "tale") -> None:
        """``client``: the process's Firestore client (``Container.firestore``)."""
        self.client = client
        self._videos = client.collection(f"{root}_trend_videos")
        self._regions = client.collection(f"{root}_trend_regions")
        self._quota = client.collection(f"{root}_trend_quota")
        self._trends = client.collection(f"{root}_trends")
        self._latest = client.collection(f"{root}_trend_latest")
        self._followers = client.collection(f"{root}_trend_followers")
        self._keys = client.collection(f"{root}_trend_keys")
        self._daily = client.collection(f"{root}_trend_daily")
        self._channels = client.collection(f"{root}_trend_channels")
        self._key_calls = client.collection(f"{root}_trend_key_calls")

    # --- plumbing --------------------------------------------------------------------------
    def _write_all(self, writes: list[tuple[Any, dict[str, Any] | None]]) -> None:
        """Set (or, with None, delete) documents in batches; each batch is idempotent."""
        for start in range(0, len(writes), _BATCH):
            batch = self.client.batch()
            for ref, data in writes[start : start + _BATCH]:
                if data is None:
                    batch.delete(ref)
                else:
                    batch.set(ref, data)
            retrying(batch.commit)

    @staticmethod
    def _docs(query: Any) -> list[dict[str, Any]]:
        return [s.to_dict() or {} for s in query.stream()]

    def _snapshots_of(self, region: str) -> Any:
        return self._regions.document(doc_id(region)).collection("snapshots")

    # --- videos and snapshots --------------------------------------------------------------
    def save_videos(self, videos: Iterable[VideoInfo]) -> None:
        self._write_all(
            [(self._videos.document(doc_id(v.video_id)), codec.to_doc(v)) for v in videos]
        )

    def videos(self, ids: Iterable[str]) -> dict[str, VideoInfo]:
        refs = [self._videos.document(doc_id(i)) for i in sorted(set(ids))]
        found: dict[str, VideoInfo] = {}
        for start in range(0, len(refs), 100):
            chunk = refs[start : start + 100]
            for snap in retrying(lambda c=chunk: list(self.client.get_all(c))):  # type: ignore[misc]
                if snap.exists:
                    v = codec.video(snap.to_dict() or {})
                    found[v.video_id] = v
        return found

    def add_snapshots(self, snapshots: Iterable[Snapshot]) -> None:
        self._write_all(
            [
                (
                    self._snapshots_of(s.region).document(
                        doc_id(f"{s.video_id}|{round(s.at * 1000)}")
                    ),
                    codec.to_doc(s),
                )
                for s in snapshots
            ]
        )

    def snapshots(self, region: str, since: float, until: float | None = None) -> list[Snapshot]:
        query = self._snapshots_of(region).where(filter=FieldFilter("at", ">=", since))
        if until is not None:
            query = query.where(filter=FieldFilter("at", "<=", until))
        found = [codec.snapshot(d) for d in retrying(lambda: self._docs(query))]
        return sorted(found, key=lambda s: (s.video_id, s.at))

    def prune_snapshots(self, region: str, before: float) -> int:
        query = self._snapshots_of(region).where(filter=FieldFilter("at", "<", before))
        refs = retrying(lambda: [s.reference for s in query.stream()])
        self._write_all([(ref, None) for ref in refs])
        return len(refs)

    def save_channel_baselines(self, baselines: Iterable[ChannelBaseline]) -> None:
        self._write_all(
            [(self._channels.document(doc_id(b.channel_id)), codec.to_doc(b)) for b in baselines]
        )

    def channel_baselines(self, ids: Iterable[str]) -> dict[str, ChannelBaseline]:
        refs = [self._channels.document(doc_id(i)) for i in sorted(set(ids))]
        found: dict[str, ChannelBaseline] = {}
        for start in range(0, len(refs), 100):
            chunk = refs[start : start + 100]
            for snap in retrying(lambda c=chunk: list(self.client.get_all(c))):  # type: ignore[misc]
                if snap.exists:
                    b = codec.channel_baseline(snap.to_dict() or {})
                    found[b.channel_id] = b
        return found

    # --- quota -----------------------------------------------------------------------------
    def spend_quota(self, call: QuotaCall, budget: int) -> int | None:
        day_ref = self._quota.document(doc_id(call.day))
        call_ref = day_ref.collection("calls").document(
            f"{round(call.at * 1e6):020d}-{secrets.token_hex(4)}"
        )

        def body(tx: firestore.Transaction) -> int | None:
            snap = day_ref.get(transaction=tx)
            data = (snap.to_dict() or {}) if snap.exists else {}
            spent = int(data.get("spent", 0))
            if spent + call.units > budget:
                return None
            tx.set(day_ref, {"spent": spent + call.units}, merge=True)
            tx.set(call_ref, codec.to_doc(call))
            return spent + call.units

        return atomic(self.client, body)

    def quota(self, day: str) -> QuotaState:
        snap = retrying(self._quota.document(doc_id(day)).get)
        if not snap.exists:
            return QuotaState()
        data = snap.to_dict() or {}
        until = data.get("exhausted_until")
        return QuotaState(
            int(data.get("spent", 0)),
            None if until is None else float(until),
            data.get("reason", ""),
        )

    def quota_calls(self, day: str) -> list[QuotaCall]:
        calls = self._quota.document(doc_id(day)).collection("calls")
        docs = retrying(lambda: [(s.id, s.to_dict() or {}) for s in calls.stream()])
        return [codec.quota_call(d) for _, d in sorted(docs, key=lambda p: p[0])]

    def quota_exhausted(self, day: str, until: float, reason: str) -> None:
        ref = self._quota.document(doc_id(day))
        retrying(lambda: ref.set({"exhausted_until": until, "reason": reason}, merge=True))

    # --- trends ----------------------------------------------------------------------------
    def save_analysis(
        self,
        region: str,
        analysis_id: str,
        at: float,
        trends: list[Trend],
        *,
        publish: bool = True,
    ) -> None:
        query = self._trends.where(filter=FieldFilter("analysis_id", "==", analysis_id))
        keep = {t.trend_id for t in trends}
        stale = retrying(lambda: [s.reference for s in query.stream() if s.id not in keep])
        writes: list[tuple[Any, dict[str, Any] | None]] = [(ref, None) for ref in stale]
        writes += [
            (
                self._trends.document(doc_id(t.trend_id)),
                {
                    "analysis_id": analysis_id,
                    "region": region,
                    "rank": t.rank,
                    "json": t.model_dump_json(),
                },
            )
            for t in trends
        ]
        self._write_all(writes)
        if not publish:
            return
        latest = self._latest.document(doc_id(region))
        day = codec.utc_day(at)
        daily = self._daily.document(doc_id(f"{region}|{day}"))

        def body(tx: firestore.Transaction) -> None:
            current = read(tx, latest)
            first = read(tx, daily)
            if current is None or float(current["at"]) <= at:
                tx.set(latest, {"region": region, "analysis_id": analysis_id, "at": at})
            if first is None:
                tx.set(daily, {"region": region, "day": day, "analysis_id": analysis_id, "at": at})

        atomic(self.client, body)

    def save_trend(self, trend: Trend) -> None:
        ref = self._trends.document(doc_id(trend.trend_id))
        doc = {
            "analysis_id": trend.analysis_id,
            "region": trend.region,
            "rank": trend.rank,
            "json": trend.model_dump_json(),
        }
        retrying(lambda: ref.set(doc))

    def daily(self, region: str | None, day: str) -> list[Trend]:
        if region is not None:
            snap = retrying(self._daily.document(doc_id(f"{region}|{day}")).get)
            heads = [snap.to_dict() or {}] if snap.exists else []
        else:
            query = self._daily.where(filter=FieldFilter("day", "==", day))
            heads = retrying(lambda: self._docs(query))
        found = [t for h in heads for t in self.analysis(h["analysis_id"])]
        return sorted(found, key=lambda t: (t.rank, t.region))

    def analysis(self, analysis_id: str) -> list[Trend]:
        query = self._trends.where(filter=FieldFilter("analysis_id", "==", analysis_id))
        docs = retrying(lambda: self._docs(query))
        return sorted((Trend.model_validate_json(d["json"]) for d in docs), key=lambda t: t.rank)

    def latest(self, region: str | None = None, limit: int = 20) -> list[Trend]:
        if region is not None:
            snap = retrying(self._latest.document(doc_id(region)).get)
            heads = [snap.to_dict() or {}] if snap.exists else []
        else:
            heads = retrying(lambda: self._docs(self._latest))
        found = [t for h in heads for t in self.analysis(h["analysis_id"])]
        return sorted(found, key=lambda t: (t.rank, t.region))[:limit]

    def trend(self, trend_id: str) -> Trend | None:
        snap = retrying(self._trends.document(doc_id(trend_id)).get)
        return Trend.model_validate_json((snap.to_dict() or {})["json"]) if snap.exists else None

    # --- followers -------------------------------------------------------------------------
    def follow(self, follower: Follower) -> None:
        ref = self._followers.document(follower.follower_id)
        retrying(lambda: ref.set(codec.to_doc(follower)))

    def unfollow(self, follower: Follower) -> bool:
        ref = self._followers.document(follower.follower_id)

        def body(tx: firestore.Transaction) -> bool:
            if not ref.get(transaction=tx).exists:
                return False
            tx.delete(ref)
            return True

        return atomic(self.client, body)

    def followers(self) -> list[Follower]:
        found = [codec.follower(d) for d in retrying(lambda: self._docs(self._followers))]
        return sorted(found, key=lambda f: (f.email, f.kind, f.value))

    def follower(self, follower_id: str) -> Follower | None:
        snap = retrying(self._followers.document(doc_id(follower_id)).get)
        return codec.follower(snap.to_dict() or {}) if snap.exists else None

    # --- API keys --------------------------------------------------------------------------
    def add_key(self, key: ApiKey) -> None:
        ref = self._keys.document(doc_id(key.key_hash))
        retrying(lambda: ref.set(codec.to_doc(key)))

    def key_by_hash(self, key_hash: str) -> ApiKey | None:
        snap = retrying(self._keys.document(doc_id(key_hash)).get)
        return codec.api_key(snap.to_dict() or {}) if snap.exists else None

    def revoke_key(self, key_id: str, at: float) -> bool:
        query = self._keys.where(filter=FieldFilter("key_id", "==", key_id))
        refs = retrying(lambda: [s.reference for s in query.stream()])
        if not refs:
            return False
        ref = refs[0]

        def body(tx: firestore.Transaction) -> bool:
            snap = ref.get(transaction=tx)
            data = (snap.to_dict() or {}) if snap.exists else {}
            if not data or data.get("revoked_at") is not None:
                return False
            tx.update(ref, {"revoked_at": at})
            return True

        return atomic(self.client, body)

    def replace_key(self, key: ApiKey) -> bool:
        query = self._keys.where(filter=FieldFilter("key_id", "==", key.key_id))
        refs = retrying(lambda: [s.reference for s in query.stream()])
        if not refs:
            return False
        ref = refs[0]

        def body(tx: firestore.Transaction) -> bool:
            if read(tx, ref) is None:
                return False
            tx.set(ref, codec.to_doc(key))
            return True

        return atomic(self.client, body)

    def api_keys(self) -> list[ApiKey]:
        keys = [codec.api_key(d) for d in retrying(lambda: self._docs(self._keys))]
        return sorted(keys, key=lambda k: (k.created_at, k.key_id))

    def count_call(self, key_id: str, period: str) -> int:
        ref = self._key_calls.document(doc_id(f"{key_id}|{period}"))

        def body(tx: firestore.Transaction) -> int:
            data = read(tx, ref)
            calls = int(data["calls"]) + 1 if data is not None else 1
            tx.set(ref, {"key_id": key_id, "period": period, "calls": calls})
            return calls

        return atomic(self.client, body)

    def calls(self, key_ids: Iterable[str], period: str) -> dict[str, int]:
        wanted = sorted(set(key_ids))
        counts = dict.fromkeys(wanted, 0)
        refs = [self._key_calls.document(doc_id(f"{k}|{period}")) for k in wanted]
        for start in range(0, len(refs), 100):
            chunk = refs[start : start + 100]
            for snap in retrying(lambda c=chunk: list(self.client.get_all(c))):  # type: ignore[misc]
                if snap.exists:
                    data = snap.to_dict() or {}
                    counts[str(data["key_id"])] = int(data["calls"])
        return counts
