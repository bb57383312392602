"""Trend records to and from plain dicts (JSON text in SQLite, documents in Firestore), so the
two adapters store exactly the same fields."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from shared.trends.models import (
    ApiKey,
    ChannelBaseline,
    Follower,
    QuotaCall,
    Snapshot,
    VideoInfo,
)


def _plain(value: Any) -> Any:
    return [_plain(v) for v in value] if isinstance(value, tuple) else value


def to_doc(record: Any) -> dict[str, Any]:
    """A dataclass as a dict of JSON values (tuples, nested ones too, become lists)."""
    return {f.name: _plain(getattr(record, f.name)) for f in dataclasses.fields(record)}


def video(doc: dict[str, Any]) -> VideoInfo:
    lists = ("tags", "topics", "niches", "charts")
    return VideoInfo(**{**_known(VideoInfo, doc), **{k: tuple(doc.get(k) or ()) for k in lists}})


def channel_baseline(doc: dict[str, Any]) -> ChannelBaseline:
    samples = tuple((str(v), float(n)) for v, n in doc.get("samples") or ())
    return ChannelBaseline(str(doc["channel_id"]), float(doc["at"]), samples)


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


def utc_day(at: float) -> str:
    """The UTC date of ``at`` (``YYYY-MM-DD``): the day of the daily pointer."""
    return datetime.fromtimestamp(at, UTC).date().isoformat()
