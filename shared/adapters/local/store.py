"""SQLite tale store: the embedded default of the ``TaleStore`` port."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

from schemas.plan import StoryPlan
from schemas.story import StoryOptions, StorySubmission
from shared.crypto.sealing import DecryptionError, Sealed, open_sealed, seal
from shared.domain.aggregate import TaleAggregate
from shared.domain.errors import TaleNotFound
from shared.domain.music import MusicTrack
from shared.domain.tale import ShotRecord, ShotStatus, TaleEvent, TaleRecord, TaleState
from shared.ports.keys import KeyWrapper
from shared.ports.store import TaleStore

from .sqlite import Database

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS tales (
    tale_id TEXT PRIMARY KEY, owner TEXT NOT NULL, state TEXT NOT NULL, stage TEXT NOT NULL,
    progress INTEGER NOT NULL, title TEXT NOT NULL, language TEXT NOT NULL,
    shot_count INTEGER NOT NULL, error_stage TEXT, error_reason TEXT,
    outputs TEXT NOT NULL DEFAULT '{}', fan_in_key TEXT,
    created_at REAL NOT NULL, updated_at REAL NOT NULL,
    submission TEXT NOT NULL, plan TEXT,
    rendered INTEGER NOT NULL DEFAULT 0, markers TEXT NOT NULL DEFAULT '{}',
    retries INTEGER NOT NULL DEFAULT 0, voiced INTEGER NOT NULL DEFAULT 0,
    voices_expected INTEGER NOT NULL DEFAULT 0, plan_version INTEGER NOT NULL DEFAULT 0,
    revision INTEGER NOT NULL DEFAULT 0, music TEXT
);
CREATE INDEX IF NOT EXISTS tales_owner ON tales(owner, created_at);
CREATE TABLE IF NOT EXISTS characters (
    tale_id TEXT NOT NULL, name TEXT NOT NULL, image_path TEXT NOT NULL,
    PRIMARY KEY (tale_id, name)
);
CREATE TABLE IF NOT EXISTS shots (
    tale_id TEXT NOT NULL, idx INTEGER NOT NULL, attempt INTEGER NOT NULL, status TEXT NOT NULL,
    operation_id TEXT, clip_path TEXT, error TEXT, starts INTEGER NOT NULL DEFAULT 0,
    claimed_at REAL, claimant TEXT, updated_at REAL NOT NULL, voice_path TEXT,
    PRIMARY KEY (tale_id, idx)
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, tale_id TEXT NOT NULL, at REAL NOT NULL,
    stage TEXT NOT NULL, message TEXT NOT NULL, level TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_tale ON events(tale_id, id);
"""

#: Columns added since the first schema, with how an existing row gets its value.
_ADDED_SHOT_COLUMNS = {"voice_path": "TEXT"}
_ADDED_COLUMNS = {
    "rendered": (
        "INTEGER NOT NULL DEFAULT 0",
        "UPDATE tales SET rendered = (SELECT COUNT(*) FROM shots "
        "WHERE shots.tale_id = tales.tale_id AND shots.status = 'rendered')",
    ),
    "markers": ("TEXT NOT NULL DEFAULT '{}'", None),
    "retries": ("INTEGER NOT NULL DEFAULT 0", None),
    "voiced": ("INTEGER NOT NULL DEFAULT 0", None),
    "voices_expected": ("INTEGER NOT NULL DEFAULT 0", None),
    "plan_version": (
        "INTEGER NOT NULL DEFAULT 0",
        "UPDATE tales SET plan_version = 1 WHERE plan IS NOT NULL",
    ),
    "revision": ("INTEGER NOT NULL DEFAULT 0", None),
    "music": ("TEXT", None),
}

_TALE_COLUMNS = (
    "tale_id, owner, state, stage, progress, title, language, shot_count, "
    "error_stage, error_reason, outputs, fan_in_key, created_at, updated_at, "
    "rendered, markers, retries, voiced, voices_expected, plan_version, revision, music"
)
_TALE_ASSIGNMENTS = ", ".join(f"{c.strip()}=?" for c in _TALE_COLUMNS.split(","))
_SHOT_COLUMNS = (
    "tale_id, idx, attempt, status, operation_id, clip_path, error, starts, "
    "claimed_at, claimant, updated_at, voice_path"
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
        rendered=row["rendered"],
        markers=json.loads(row["markers"]),
        retries=row["retries"],
        voiced=row["voiced"],
        voices_expected=bool(row["voices_expected"]),
        plan_version=row["plan_version"],
        revision=row["revision"],
        music=MusicTrack.from_json(json.loads(row["music"])) if row["music"] else None,
    )


def _tale_values(t: TaleRecord) -> tuple[object, ...]:
    return (
        t.tale_id,
        t.owner,
        t.state.value,
        t.stage,
        t.progress,
        t.title,
        t.language,
        t.shot_count,
        t.error_stage,
        t.error_reason,
        json.dumps(t.outputs),
        t.fan_in_key,
        t.created_at,
        t.updated_at,
        t.rendered,
        json.dumps(t.markers),
        t.retries,
        t.voiced,
        int(t.voices_expected),
        t.plan_version,
        t.revision,
        json.dumps(t.music.to_json()) if t.music else None,
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
        claimed_at=row["claimed_at"],
        voice_path=row["voice_path"],
    )


def _shot_values(s: ShotRecord) -> tuple[object, ...]:
    return (
        s.tale_id,
        s.index,
        s.attempt,
        s.status.value,
        s.operation_id,
        s.clip_path,
        s.error,
        s.starts,
        s.claimed_at,
        s.claimant,
        s.updated_at,
        s.voice_path,
    )


class SqliteTaleStore(TaleStore):
    """Tales in one SQLite file; a unit of work is one ``BEGIN IMMEDIATE`` transaction."""

    def __init__(
        self,
        path: Path,
        clock: Callable[[], float] = time.time,
        keys: KeyWrapper | None = None,
        on_change: Callable[[TaleRecord], None] | None = None,
    ) -> None:
        self.db = Database(path, SCHEMA, metered=True)
        self._migrate()
        self.clock = clock
        self.keys = keys
        self.on_change = on_change

    def _migrate(self) -> None:
        with self.db.transaction() as db:
            present = {r["name"] for r in db.execute("PRAGMA table_info(tales)").fetchall()}
            for name, (decl, fill) in _ADDED_COLUMNS.items():
                if name not in present:
                    db.execute(f"ALTER TABLE tales ADD COLUMN {name} {decl}")
                    if fill:
                        db.execute(fill)
            shots = {r["name"] for r in db.execute("PRAGMA table_info(shots)").fetchall()}
            for name, decl in _ADDED_SHOT_COLUMNS.items():
                if name not in shots:
                    db.execute(f"ALTER TABLE shots ADD COLUMN {name} {decl}")

    # --- the unit of work ----------------------------------------------------------------
    def _run_unit(
        self,
        tale_id: str,
        shots: Collection[int] | None,
        decide: Callable[[TaleAggregate], T],
        with_plan: bool = False,
    ) -> T:
        with self.db.transaction() as db:
            agg = TaleAggregate(self._get(db, tale_id), self._load_shots(db, tale_id, shots), 0.0)
            agg.now = self.clock()
            if with_plan:
                row = db.execute("SELECT plan FROM tales WHERE tale_id=?", (tale_id,)).fetchone()
                agg.plan = StoryPlan.model_validate_json(row["plan"]) if row["plan"] else None
            result = decide(agg)
            if agg.plan_changed and agg.plan is not None:
                db.execute(
                    "UPDATE tales SET plan=? WHERE tale_id=?",
                    (agg.plan.model_dump_json(), tale_id),
                )
            if agg.tale_changed:
                db.execute(
                    f"UPDATE tales SET {_TALE_ASSIGNMENTS} WHERE tale_id=?",
                    (*_tale_values(agg.tale), tale_id),
                )
            db.executemany(
                f"REPLACE INTO shots ({_SHOT_COLUMNS}) VALUES ({', '.join('?' * 12)})",
                [_shot_values(agg.shots[i]) for i in sorted(agg.changed_shots)],
            )
            for line in agg.log:
                self._log(db, tale_id, line.stage, line.message, line.level)
            return result

    def _load_shots(
        self, db: sqlite3.Connection, tale_id: str, indexes: Collection[int] | None
    ) -> dict[int, ShotRecord]:
        if indexes is not None and not indexes:
            return {}
        sql = f"SELECT {_SHOT_COLUMNS} FROM shots WHERE tale_id=?"
        params: list[object] = [tale_id]
        if indexes is not None:
            wanted = sorted(set(indexes))
            sql += f" AND idx IN ({','.join('?' * len(wanted))})"
            params += wanted
        rows = db.execute(sql, params).fetchall()
        return {r["idx"]: _shot(r) for r in rows}

    # --- tales ---------------------------------------------------------------------------
    def _create(self, record: TaleRecord, submission: StorySubmission) -> bool:
        now = self.clock()
        fresh = replace(
            record,
            error_stage=None,
            error_reason=None,
            fan_in_key=None,
            created_at=now,
            updated_at=now,
            rendered=0,
            markers={},
            retries=0,
        )
        with self.db.transaction() as db:
            cur = db.execute(
                f"INSERT OR IGNORE INTO tales ({_TALE_COLUMNS}, submission) "
                f"VALUES ({', '.join('?' * 23)})",
                (*_tale_values(fresh), self._seal(record, submission)),
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

    def options(self, tale_id: str) -> StoryOptions:
        rows = self.db.read("SELECT submission FROM tales WHERE tale_id=?", (tale_id,))
        if not rows:
            raise TaleNotFound(tale_id)
        return StoryOptions.model_validate(json.loads(rows[0]["submission"]).get("options", {}))

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

    # --- plan and characters -------------------------------------------------------------
    def _save_plan(self, tale_id: str, plan: StoryPlan) -> StoryPlan:
        with self.db.transaction() as db:
            self._get(db, tale_id)
            db.execute(
                "UPDATE tales SET plan=?, shot_count=?, language=?, plan_version=1 "
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
    def shots(self, tale_id: str) -> list[ShotRecord]:
        rows = self.db.read("SELECT * FROM shots WHERE tale_id=? ORDER BY idx", (tale_id,))
        return [_shot(r) for r in rows]

    def shot(self, tale_id: str, index: int) -> ShotRecord | None:
        rows = self.db.read("SELECT * FROM shots WHERE tale_id=? AND idx=?", (tale_id, index))
        return _shot(rows[0]) if rows else None

    def release_unstarted_claims(self) -> int:
        """Put claimed-but-never-started shots back to pending (only safe when no worker runs)."""
        with self.db.transaction() as db:
            cur = db.execute(
                "UPDATE shots SET status='pending', claimed_at=NULL "
                "WHERE status='claimed' AND operation_id IS NULL"
            )
            return cur.rowcount

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
