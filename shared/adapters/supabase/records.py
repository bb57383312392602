"""Tale records on Supabase: ``public.tales``, what the owner's client reads and watches.

The backend writes with the service-role key (row-level security lets owners read their own
rows; Realtime publishes the changes). ``upsert`` is PostgREST's
``INSERT … ON CONFLICT (id) DO UPDATE`` with every column of the record, so it is safe to
repeat and the latest write wins; ``get`` is a select by id. Timestamps travel as ISO 8601
``timestamptz`` and come back as seconds since the epoch.

The table's ``tales_touch_updated_at`` trigger stamps ``updated_at`` with the database's
``now()`` whenever an upsert replaces a row: the record's own ``updated_at`` is kept only
when the row is first inserted.

Retries of transient failures and the translation of refusals (an owner without a profile:
``LookupError``; an unknown status, a progress out of 0–100, an owner that is not a UUID:
``ValueError``) are those of every Supabase adapter (``client.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.ports.records import PublicTale, TaleRecords

from .client import SupabaseAdapter, epoch, timestamptz, user_id

TABLE = "tales"
COLUMNS = (
    "id,owner,title,status,stage,progress,poster_path,video_path,error_reason,created_at,"
    "updated_at,error_stage,shot_count,shots_rendered,shots_voiced"
)


def _row(record: PublicTale) -> dict[str, Any]:
    return {
        "id": record.tale_id,
        "owner": user_id(record.owner),
        "title": record.title,
        "status": record.status,
        "stage": record.stage,
        "progress": record.progress,
        "poster_path": record.poster_path,
        "video_path": record.video_path,
        "error_reason": record.error_reason,
        "created_at": timestamptz(record.created_at),
        "updated_at": timestamptz(record.updated_at),
        "error_stage": record.error_stage,
        "shot_count": record.shot_count,
        "shots_rendered": record.shots_rendered,
        "shots_voiced": record.shots_voiced,
    }


def _record(row: Mapping[str, Any]) -> PublicTale:
    return PublicTale(
        tale_id=str(row["id"]),
        owner=str(row["owner"]),
        title=str(row.get("title") or ""),
        status=str(row["status"]),
        stage=str(row.get("stage") or ""),
        progress=int(row["progress"]),
        poster_path=row.get("poster_path"),
        video_path=row.get("video_path"),
        error_reason=row.get("error_reason"),
        created_at=epoch(row["created_at"]),
        updated_at=epoch(row["updated_at"]),
        error_stage=row.get("error_stage"),
        shot_count=int(row.get("shot_count") or 0),
        shots_rendered=int(row.get("shots_rendered") or 0),
        shots_voiced=int(row.get("shots_voiced") or 0),
    )


class SupabaseTaleRecords(SupabaseAdapter, TaleRecords):
    """Tale records over a ``supabase.Client`` created with the service-role key."""

    def upsert(self, record: PublicTale) -> None:
        row = _row(record)
        self._select(lambda: self.client.table(TABLE).upsert(row, on_conflict="id"))

    def get(self, tale_id: str) -> PublicTale | None:
        found = self._select(
            lambda: self.client.table(TABLE).select(COLUMNS).eq("id", tale_id).limit(1)
        )
        return _record(found[0]) if found else None
