"""SQLite tale store: the embedded default of the ``TaleStore`` port."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from schemas.plan import StoryPlan
from schemas.story import StorySubmission
from shared.adapters.hooks import mirrored
from shared.crypto.envelope import DecryptionError, Sealed, open_sealed, seal
from shared.domain.errors import TaleNotFound
from shared.domain.tale import (
    ShotRecord,
    ShotStatus,
    TaleEvent,
    TaleRecord,
    TaleState,
    check_transition,
    progress,
)
from shared.ports.keys import KeyWrapper
from shared.ports.store import FanIn, TaleStore

from .sqlite import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS tales (
    tale_id TEXT PRIMARY KEY, owner TEXT NOT NULL, state TEXT NOT NULL, stage TEXT NOT NULL,
    progress INTEGER NOT NULL, title TEXT NOT NULL, language TEXT NOT NULL,
    shot_count INTEGER NOT NULL, error_stage TEXT, error_reason TEXT,
    outputs TEXT NOT NULL DEFAULT '{}', fan_in_key TEXT,
    created_at REAL NOT NULL, updated_at REAL NOT NULL,
    submission TEXT NOT NULL, plan TEXT
);
CREATE INDEX IF NOT EXISTS tales_owner ON tales(owner, created_at);
CREATE TABLE IF NOT EXISTS characters (
    tale_id TEXT NOT NULL, name TEXT NOT NULL, image_path TEXT NOT NULL,
    PRIMARY KEY (tale_id, name)
);
CREATE TABLE IF NOT EXISTS shots (
    tale_id TEXT NOT NULL, idx INTEGER NOT NULL, attempt INTEGER NOT NULL, status TEXT NOT NULL,
    operation_id TEXT, clip_path TEXT, error TEXT, starts INTEGER NOT NULL DEFAULT 0,
    claimed_at REAL, claimant TEXT, updated_at REAL NOT NULL,
    PRIMARY KEY (tale_id, idx)
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, tale_id TEXT NOT NULL, at REAL NOT NULL,
    stage TEXT NOT NULL, message TEXT NOT NULL, level TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_tale ON events(tale_id, id);
CREATE TABLE IF NOT EXISTS markers (key TEXT PRIMARY KEY, at REAL NOT NULL, claimant TEXT);
CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""

_TALE_COLUMNS = (
    "tale_id, owner, state, stage, progress, title, language, shot_count, "
    "error_stage, error_reason, outputs, fan_in_key, created_at, updated_at"
)


def _tale(row: sqlite3.Row) -> TaleRecord:
    return TaleRecord(
        tale_id=row["tale_id"],
        owner=row["owner"],
        state=TaleState(row["state"]),
        stage=row["stage"],
        progress=row["progress"],
        title=row["title"],
        language=row["language"],
        shot_count=row["shot_count"],
        error_stage=row["error_stage"],
        error_reason=row["error_reason"],
        outputs=json.loads(row["outputs"]),
        fan_in_key=row["fan_in_key"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _shot(row: sqlite3.Row) -> ShotRecord:
    return ShotRecord(
        tale_id=row["tale_id"],
        index=row["idx"],
        attempt=row["attempt"],
        status=ShotStatus(row["status"]),
        operation_id=row["operation_id"],
        clip_path=row["clip_path"],
        error=row["error"],
        starts=row["starts"],
        updated_at=row["updated_at"],
        claimant=row["claimant"],
    )


class SqliteTaleStore(TaleStore):
    def __init__(
        self,
        path: Path,
        clock: Callable[[], float] = time.time,
        keys: KeyWrapper | None = None,
        on_change: Callable[[TaleRecord], None] | None = None,
    ) -> None:
        self.db = Database(path, SCHEMA, metered=True)
        self.clock = clock
        self.keys = keys
        self.on_change = on_change
        """Called with the tale after every change of its user-facing fields, and on repeated
        calls too, so a retried handler re-syncs a copy whose first write failed."""

    # --- tales ---------------------------------------------------------------------------
    @mirrored
    def create(self, record: TaleRecord, submission: StorySubmission) -> bool:
        now = self.clock()
        with self.db.transaction() as db:
            cur = db.execute(
                f"INSERT OR IGNORE INTO tales ({_TALE_COLUMNS}, submission) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    record.tale_id,
                    record.owner,
                    record.state.value,
                    record.stage,
                    record.progress,
                    record.title,
                    record.language,
                    record.shot_count,
                    None,
                    None,
                    json.dumps(record.outputs),
                    None,
                    now,
                    now,
                    self._seal(record, submission),
                ),
            )
            return cur.rowcount == 1

    def _get(self, db: sqlite3.Connection, tale_id: str) -> TaleRecord:
        row = db.execute(
            f"SELECT {_TALE_COLUMNS} FROM tales WHERE tale_id=?", (tale_id,)
        ).fetchone()
        if row is None:
            raise TaleNotFound(tale_id)
        return _tale(row)

    def find(self, tale_id: str) -> TaleRecord | None:
        rows = self.db.read(f"SELECT {_TALE_COLUMNS} FROM tales WHERE tale_id=?", (tale_id,))
        return _tale(rows[0]) if rows else None

    def list_tales(
        self,
        *,
        owner: str | None = None,
        states: Iterable[TaleState] | None = None,
        limit: int = 100,
    ) -> list[TaleRecord]:
        sql, params = f"SELECT {_TALE_COLUMNS} FROM tales WHERE 1=1", []
        if owner is not None:
            sql += " AND owner=?"
            params.append(owner)
        if states is not None:
            wanted = [s.value for s in states]
            sql += f" AND state IN ({','.join('?' * len(wanted))})"
            params += wanted
        sql += " ORDER BY created_at DESC, tale_id LIMIT ?"
        return [_tale(r) for r in self.db.read(sql, (*params, limit))]

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

    def submission(self, tale_id: str) -> StorySubmission:
        rows = self.db.read("SELECT owner, submission FROM tales WHERE tale_id=?", (tale_id,))
        if not rows:
            raise TaleNotFound(tale_id)
        doc = json.loads(rows[0]["submission"])
        if "sealed_text" in doc:
            if self.keys is None:
                raise DecryptionError(f"tale {tale_id}: the story is sealed and no key is set")
            doc["text"] = open_sealed(
                Sealed.from_json(doc.pop("sealed_text")),
                tale_id=tale_id,
                owner=rows[0]["owner"],
                keys=self.keys,
            )
        return StorySubmission.model_validate(doc)

    @mirrored
    def transition(
        self,
        tale_id: str,
        sources: Iterable[TaleState],
        target: TaleState,
        *,
        stage: str,
        error_reason: str | None = None,
    ) -> bool:
        with self.db.transaction() as db:
            tale = self._get(db, tale_id)
            if tale.state not in set(sources):
                return False
            check_transition(tale.state, target)
            value = (
                progress(target, previous=tale.progress)
                if not target.terminal or target is TaleState.COMPLETED
                else tale.progress
            )
            failed = target is TaleState.FAILED
            db.execute(
                "UPDATE tales SET state=?, stage=?, progress=?, error_stage=?, error_reason=?, "
                "updated_at=? WHERE tale_id=?",
                (
                    target.value,
                    stage,
                    value,
                    stage if failed else tale.error_stage,
                    error_reason if failed else tale.error_reason,
                    self.clock(),
                    tale_id,
                ),
            )
            self._log(
                db,
                tale_id,
                stage,
                f"{tale.state} → {target}" + (f": {error_reason}" if error_reason else ""),
                "error" if failed else "info",
            )
            return True

    @mirrored
    def update(
        self,
        tale_id: str,
        *,
        stage: str | None = None,
        progress: int | None = None,
        title: str | None = None,
        outputs: dict[str, str] | None = None,
    ) -> None:
        with self.db.transaction() as db:
            tale = self._get(db, tale_id)
            db.execute(
                "UPDATE tales SET stage=?, progress=?, title=?, outputs=?, updated_at=? "
                "WHERE tale_id=?",
                (
                    stage or tale.stage,
                    max(progress or 0, tale.progress),
                    title or tale.title,
                    json.dumps({**tale.outputs, **(outputs or {})}),
                    self.clock(),
                    tale_id,
                ),
            )

    # --- plan and characters -------------------------------------------------------------
    def save_plan(self, tale_id: str, plan: StoryPlan) -> StoryPlan:
        with self.db.transaction() as db:
            self._get(db, tale_id)
            db.execute(
                "UPDATE tales SET plan=?, shot_count=?, language=? "
                "WHERE tale_id=? AND plan IS NULL",
                (plan.model_dump_json(), len(plan.shots), plan.language, tale_id),
            )
            row = db.execute("SELECT plan FROM tales WHERE tale_id=?", (tale_id,)).fetchone()
            return StoryPlan.model_validate_json(row["plan"])

    def plan(self, tale_id: str) -> StoryPlan | None:
        rows = self.db.read("SELECT plan FROM tales WHERE tale_id=?", (tale_id,))
        if not rows or rows[0]["plan"] is None:
            return None
        return StoryPlan.model_validate_json(rows[0]["plan"])

    def record_character(self, tale_id: str, name: str, image_path: str) -> None:
        with self.db.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO characters VALUES (?,?,?)", (tale_id, name, image_path)
            )

    def characters(self, tale_id: str) -> dict[str, str]:
        rows = self.db.read("SELECT name, image_path FROM characters WHERE tale_id=?", (tale_id,))
        return {r["name"]: r["image_path"] for r in rows}

    # --- shots ---------------------------------------------------------------------------
    def init_shots(self, tale_id: str, count: int) -> None:
        now = self.clock()
        with self.db.transaction() as db:
            db.executemany(
                "INSERT OR IGNORE INTO shots (tale_id, idx, attempt, status, updated_at) "
                "VALUES (?,?,1,'pending',?)",
                [(tale_id, i, now) for i in range(count)],
            )

    def shots(self, tale_id: str) -> list[ShotRecord]:
        rows = self.db.read("SELECT * FROM shots WHERE tale_id=? ORDER BY idx", (tale_id,))
        return [_shot(r) for r in rows]

    def shot(self, tale_id: str, index: int) -> ShotRecord | None:
        rows = self.db.read("SELECT * FROM shots WHERE tale_id=? AND idx=?", (tale_id, index))
        return _shot(rows[0]) if rows else None

    def _shot_row(self, db: sqlite3.Connection, tale_id: str, index: int) -> ShotRecord:
        row = db.execute(
            "SELECT * FROM shots WHERE tale_id=? AND idx=?", (tale_id, index)
        ).fetchone()
        if row is None:
            raise TaleNotFound(f"{tale_id} shot {index}")
        return _shot(row)

    def claim_shot(
        self,
        tale_id: str,
        index: int,
        attempt: int,
        *,
        claimant: str = "",
        lease_s: float | None = None,
    ) -> tuple[ShotRecord, bool]:
        now = self.clock()
        with self.db.transaction() as db:
            shot = self._shot_row(db, tale_id, index)
            if shot.attempt != attempt:
                return shot, False
            claimed_at = db.execute(
                "SELECT claimed_at FROM shots WHERE tale_id=? AND idx=?", (tale_id, index)
            ).fetchone()["claimed_at"]
            expired = (
                shot.status is ShotStatus.CLAIMED
                and lease_s is not None
                and claimed_at is not None
                and now - claimed_at >= lease_s
            )
            if shot.status is not ShotStatus.PENDING and not expired:
                return shot, False
            db.execute(
                "UPDATE shots SET status='claimed', claimed_at=?, claimant=?, updated_at=? "
                "WHERE tale_id=? AND idx=?",
                (now, claimant, now, tale_id, index),
            )
            return self._shot_row(db, tale_id, index), True

    def release_unstarted_claims(self) -> int:
        """Put claimed-but-never-started shots back to pending (only safe when no worker runs)."""
        with self.db.transaction() as db:
            cur = db.execute(
                "UPDATE shots SET status='pending', claimed_at=NULL "
                "WHERE status='claimed' AND operation_id IS NULL"
            )
            return cur.rowcount

    def release_claim(self, tale_id: str, index: int, attempt: int, claimant: str) -> None:
        with self.db.transaction() as db:
            db.execute(
                "UPDATE shots SET status='pending', claimed_at=NULL, claimant=NULL "
                "WHERE tale_id=? AND idx=? AND attempt=? AND status='claimed' "
                "AND operation_id IS NULL AND claimant=?",
                (tale_id, index, attempt, claimant),
            )

    def mark_shot_started(self, tale_id: str, index: int, attempt: int, operation_id: str) -> None:
        with self.db.transaction() as db:
            db.execute(
                "UPDATE shots SET status='started', operation_id=?, starts=starts+1, "
                "updated_at=? WHERE tale_id=? AND idx=? AND attempt=? AND status='claimed'",
                (operation_id, self.clock(), tale_id, index, attempt),
            )

    def finish_shot(self, tale_id: str, index: int, attempt: int, clip_path: str) -> None:
        with self.db.transaction() as db:
            db.execute(
                "UPDATE shots SET status='rendered', clip_path=?, updated_at=? "
                "WHERE tale_id=? AND idx=? AND attempt=? AND status IN ('claimed','started')",
                (clip_path, self.clock(), tale_id, index, attempt),
            )

    def fail_shot(self, tale_id: str, index: int, attempt: int, error: str) -> None:
        with self.db.transaction() as db:
            db.execute(
                "UPDATE shots SET status='failed', error=?, updated_at=? "
                "WHERE tale_id=? AND idx=? AND attempt=? AND status!='rendered'",
                (error, self.clock(), tale_id, index, attempt),
            )

    def retry_shot(self, tale_id: str, index: int, attempt: int) -> int:
        with self.db.transaction() as db:
            db.execute(
                "UPDATE shots SET attempt=attempt+1, status='pending', operation_id=NULL, "
                "clip_path=NULL, error=NULL, claimed_at=NULL, updated_at=? "
                "WHERE tale_id=? AND idx=? AND attempt=?",
                (self.clock(), tale_id, index, attempt),
            )
            return self._shot_row(db, tale_id, index).attempt

    @mirrored
    def fan_in(self, tale_id: str, index: int, attempt: int, key: str) -> FanIn:
        with self.db.transaction() as db:
            tale = self._get(db, tale_id)
            rows = db.execute("SELECT status FROM shots WHERE tale_id=?", (tale_id,)).fetchall()
            rendered = sum(1 for r in rows if r["status"] == ShotStatus.RENDERED.value)
            total = tale.shot_count
            fan_in_key = tale.fan_in_key
            if tale.state is TaleState.RENDERING:
                value = progress(
                    TaleState.RENDERING,
                    characters_done=True,
                    shots_done=rendered,
                    shot_count=total,
                    previous=tale.progress,
                )
                if rendered == total and fan_in_key is None:
                    check_transition(tale.state, TaleState.STITCHING)
                    fan_in_key = key
                    db.execute(
                        "UPDATE tales SET state='stitching', stage='stitching', "
                        "progress=?, fan_in_key=?, updated_at=? WHERE tale_id=?",
                        (progress(TaleState.STITCHING), key, self.clock(), tale_id),
                    )
                    self._log(
                        db,
                        tale_id,
                        "stitching",
                        f"rendering → stitching (all {total} shots rendered)",
                        "info",
                    )
                else:
                    db.execute(
                        "UPDATE tales SET progress=?, updated_at=? WHERE tale_id=?",
                        (value, self.clock(), tale_id),
                    )
            return FanIn(rendered=rendered, total=total, fan_in_key=fan_in_key)

    # --- event log -----------------------------------------------------------------------
    def _log(
        self, db: sqlite3.Connection, tale_id: str, stage: str, message: str, level: str
    ) -> None:
        db.execute(
            "INSERT INTO events (tale_id, at, stage, message, level) VALUES (?,?,?,?,?)",
            (tale_id, self.clock(), stage, message, level),
        )

    def log(self, tale_id: str, stage: str, message: str, level: str = "info") -> None:
        with self.db.transaction() as db:
            self._log(db, tale_id, stage, message, level)

    def events(self, tale_id: str) -> list[TaleEvent]:
        rows = self.db.read("SELECT * FROM events WHERE tale_id=? ORDER BY id", (tale_id,))
        return [
            TaleEvent(r["tale_id"], r["at"], r["stage"], r["message"], r["level"]) for r in rows
        ]

    def claim_once(self, key: str) -> bool:
        with self.db.transaction() as db:
            cur = db.execute("INSERT OR IGNORE INTO markers VALUES (?,?,NULL)", (key, self.clock()))
            return cur.rowcount == 1

    def claim(self, key: str, claimant: str) -> str:
        with self.db.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO markers VALUES (?,?,?)", (key, self.clock(), claimant)
            )
            row = db.execute("SELECT claimant FROM markers WHERE key=?", (key,)).fetchone()
            return str(row["claimant"])

    def bump(self, key: str) -> int:
        with self.db.transaction() as db:
            db.execute(
                "INSERT INTO counters VALUES (?, 1) "
                "ON CONFLICT(key) DO UPDATE SET value = value + 1",
                (key,),
            )
            row = db.execute("SELECT value FROM counters WHERE key=?", (key,)).fetchone()
            return int(row["value"])

    def marked(self, key: str) -> bool:
        return bool(self.db.read("SELECT 1 FROM markers WHERE key=?", (key,)))
