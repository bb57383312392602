"""SQLite audit log: the embedded default of the ``AuditLog`` port.

Append-only in the database itself: triggers abort every ``UPDATE`` and ``DELETE`` on the
table, and a ``CHECK`` admits only SHA-256 hex digests in ``prompt_sha256``, so no prompt text
can be stored even by a caller that bypasses this class.
"""

from __future__ import annotations

import time
from pathlib import Path

from shared.ports.audit import AuditLog, AuditRecord, check_record

from .sqlite import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    actor TEXT NOT NULL,
    tale_id TEXT NOT NULL,
    model TEXT NOT NULL,
    prompt_sha256 TEXT NOT NULL
        CHECK (length(prompt_sha256) = 64 AND prompt_sha256 NOT GLOB '*[^0-9a-f]*'),
    kind TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_by_tale ON audit (tale_id, seq);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: records cannot be updated');
END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: records cannot be deleted');
END;
"""


class SqliteAudit(AuditLog):
    def __init__(self, path: Path) -> None:
        self.db = Database(path, SCHEMA)

    def record(
        self,
        *,
        actor: str,
        tale_id: str,
        model: str,
        prompt_sha256: str,
        kind: str = "inference",
    ) -> None:
        check_record(actor=actor, model=model, prompt_sha256=prompt_sha256, kind=kind)
        with self.db.transaction() as db:
            db.execute(
                "INSERT INTO audit (at, actor, tale_id, model, prompt_sha256, kind) "
                "VALUES (?,?,?,?,?,?)",
                (time.time(), actor, tale_id, model, prompt_sha256, kind),
            )

    def for_tale(self, tale_id: str) -> list[AuditRecord]:
        rows = self.db.read(
            "SELECT at, actor, tale_id, model, prompt_sha256, kind FROM audit "
            "WHERE tale_id=? ORDER BY seq",
            (tale_id,),
        )
        return [
            AuditRecord(
                at=r["at"],
                actor=r["actor"],
                tale_id=r["tale_id"],
                model=r["model"],
                prompt_sha256=r["prompt_sha256"],
                kind=r["kind"],
            )
            for r in rows
        ]
