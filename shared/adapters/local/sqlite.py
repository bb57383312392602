"""A small SQLite helper shared by the local adapters.

One connection per thread (SQLite connections must not be shared across threads), WAL
journaling so readers never block the writer, and ``BEGIN IMMEDIATE`` transactions so that a
read-modify-write sequence is atomic across threads *and* processes.

With ``metered=True`` (the tale store) every row a statement returns counts as a document read
(at least one per query, as Firestore bills) and every row it inserts, updates or deletes as a
document write or delete, into the invocation's meter (``shared.metering``): the embedded
store keeps one row where Firestore keeps one document.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from shared.metering import count


class _MeteredConnection(sqlite3.Connection):
    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        cursor = super().execute(sql, parameters)
        verb = sql.lstrip()[:6].upper()
        if verb == "SELECT":
            return _CountingCursor(cursor)
        if verb == "DELETE":
            count("firestore_deletes", max(cursor.rowcount, 0))
        elif verb in ("INSERT", "UPDATE", "REPLAC"):
            count("firestore_writes", max(cursor.rowcount, 0))
        return cursor

    def executemany(self, sql: str, parameters: Any, /) -> Any:
        cursor = super().executemany(sql, parameters)
        unit = "firestore_deletes" if sql.lstrip()[:6].upper() == "DELETE" else "firestore_writes"
        count(unit, max(cursor.rowcount, 0))
        return cursor


class _CountingCursor:
    """Counts the rows fetched from a query (at least one read per query)."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    def fetchall(self) -> list[Any]:
        rows = self._cursor.fetchall()
        count("firestore_reads", max(len(rows), 1))
        return rows

    def fetchone(self) -> Any:
        row = self._cursor.fetchone()
        count("firestore_reads")
        return row

    def __iter__(self) -> Any:
        return iter(self.fetchall())


class Database:
    def __init__(self, path: Path, schema: str, *, metered: bool = False) -> None:
        self.path = path
        self.metered = metered
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._connection().executescript(schema)  # executescript manages its own transaction

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path,
                timeout=30.0,
                isolation_level=None,
                check_same_thread=False,
                factory=_MeteredConnection if self.metered else sqlite3.Connection,
            )
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """An exclusive-write transaction: committed on success, rolled back on error."""
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def read(self, sql: str, params: tuple[object, ...] = ()) -> list[sqlite3.Row]:
        return self._connection().execute(sql, params).fetchall()

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()
