"""Trend records to and from plain dicts (JSON text in SQLite, documents in Firestore), so the
two adapters store exactly the same fields."""

from __future__ import annotations

import dataclasses
from typing import Any

from shared.trends.models import ApiKey, Follower, QuotaCall, Snapshot, VideoInfo


def to_doc(record: Any) -> dict[str, Any]:
    """A dataclass as a dict of JSON values (tuples become lists)."""
    return {
        f.name: list(v) if isinstance(v := getattr(record, f.name), tuple) else v
        for f in dataclasses.fields(record)
    }


def video(doc: dict[str, Any]) -> VideoInfo:
    return VideoInfo(
        **{
            **_known(VideoInfo, doc),
            "tags": tuple(doc.get("tags") or ()),
            "topics": tuple(doc.get("topics") or ()),
        }
    )


def snapshot(doc: dict[str, Any]) -> Snapshot:
    return Snapshot(**_known(Snapshot, doc))


def quota_call(doc: dict[str, Any]) -> QuotaCall:
    return QuotaCall(**_known(QuotaCall, doc))


def follower(doc: dict[str, Any]) -> Follower:
    return Follower(**_known(Follower, doc))


def api_key(doc: dict[str, Any]) -> ApiKey:
    return ApiKey(**_known(ApiKey, doc))


def _known(cls: Any, doc: dict[str, Any]) -> dict[str, Any]:
    """Only the dataclass' fields (documents may carry index fields besides them)."""
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in doc.items() if k in names}
