"""SQLite tale records: the embedded default of the ``TaleRecords`` port."""

from __future__ import annotations

from dataclasses import astuple, fields
from pathlib import Path

from shared.ports.records import PublicTale, TaleRecords

from .sqlite import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS tales (
    tale_id TEXT PRIMARY KEY, owner TEXT NOT NULL, title TEXT NOT NULL, status TEXT NOT NULL,
    stage TEXT NOT NULL, progress INTEGER NOT NULL, poster_path TEXT, video_path TEXT,
    error_reason TEXT, created_at REAL NOT NULL, updated_at REAL NOT NULL,
    error_stage TEXT, shot_count INTEGER NOT NULL DEFAULT 0,
    shots_rendered INTEGER NOT NULL DEFAULT 0, shots_voiced INTEGER NOT NULL DEFAULT 0
);
"""
_COLUMNS = [f.name for f in fields(PublicTale)]
#: Columns added since the first schema (a home made before them gets them on open).
_ADDED = {
    "error_stage": "TEXT",
    "shot_count": "INTEGER NOT NULL DEFAULT 0",
    "shots_rendered": "INTEGER NOT NULL DEFAULT 0",
    "shots_voiced": "INTEGER NOT NULL DEFAULT 0",
}


class SqliteTaleRecords(TaleRecords):
    def __init__(self, path: Path) -> None:
        self.db = Database(path, SCHEMA)
        with self.db.transaction() as db:
            present = {r[1] for r in db.execute("PRAGMA table_info(tales)").fetchall()}
            for name, decl in _ADDED.items():
                if name not in present:
                    db.execute(f"ALTER TABLE tales ADD COLUMN {name} {decl}")

    def upsert(self, record: PublicTale) -> None:
        with self.db.transaction() as db:
            db.execute(
                f"INSERT OR REPLACE INTO tales ({', '.join(_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(_COLUMNS))})",
                astuple(record),
            )

    def get(self, tale_id: str) -> PublicTale | None:
        rows = self.db.read(f"SELECT {', '.join(_COLUMNS)} FROM tales WHERE tale_id=?", (tale_id,))
        return PublicTale(*rows[0]) if rows else None
