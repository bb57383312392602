"""SQLite claims: the embedded default of the ``Claims`` port (in the tale store's file)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from shared.ports.claims import ClaimKey, Claims

from .sqlite import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS markers (key TEXT PRIMARY KEY, at REAL NOT NULL, claimant TEXT);
CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


class SqliteClaims(Claims):
    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        self.db = Database(path, SCHEMA, metered=True)
        self.clock = clock

    def claim_once(self, key: ClaimKey) -> bool:
        with self.db.transaction() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO markers VALUES (?,?,NULL)", (key.value, self.clock())
            )
            return cur.rowcount == 1

    def claim(self, key: ClaimKey, claimant: str) -> str:
        with self.db.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO markers VALUES (?,?,?)", (key.value, self.clock(), claimant)
            )
            row = db.execute("SELECT claimant FROM markers WHERE key=?", (key.value,)).fetchone()
            return str(row["claimant"])

    def bump(self, key: ClaimKey) -> int:
        with self.db.transaction() as db:
            db.execute(
                "INSERT INTO counters VALUES (?, 1) "
                "ON CONFLICT(key) DO UPDATE SET value = value + 1",
                (key.value,),
            )
            row = db.execute("SELECT value FROM counters WHERE key=?", (key.value,)).fetchone()
            return int(row["value"])

    def marked(self, key: ClaimKey) -> bool:
        return bool(self.db.read("SELECT 1 FROM markers WHERE key=?", (key.value,)))
