"""SQLite usage records: the embedded default of the ``UsageRecorder`` port."""

from __future__ import annotations

import json
from pathlib import Path

from shared.ports.usage import Usage, UsageRecorder

from .sqlite import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS usage (
    tale_id TEXT NOT NULL, key TEXT NOT NULL, provider TEXT NOT NULL, model TEXT NOT NULL,
    units TEXT NOT NULL, at REAL NOT NULL, PRIMARY KEY (tale_id, key)
);
"""


class SqliteUsage(UsageRecorder):
    def __init__(self, path: Path) -> None:
        self.db = Database(path, SCHEMA)

    def record(self, usage: Usage) -> None:
        with self.db.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO usage VALUES (?,?,?,?,?,?)",
                (
                    usage.tale_id,
                    usage.key,
                    usage.provider,
                    usage.model,
                    json.dumps(usage.units, sort_keys=True),
                    usage.at,
                ),
            )

    def for_tale(self, tale_id: str) -> list[Usage]:
        rows = self.db.read("SELECT * FROM usage WHERE tale_id=? ORDER BY key", (tale_id,))
        return [
            Usage(
                r["tale_id"], r["key"], r["provider"], r["model"], json.loads(r["units"]), r["at"]
            )
            for r in rows
        ]
