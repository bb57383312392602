"""SQLite trend store: the embedded default of the ``TrendStore`` port (``<home>/trends.db``).

Records are JSON text (``shared.trends.codec``) beside the columns the queries use. The quota
spend is one ``BEGIN IMMEDIATE`` transaction (sum, compare, insert), atomic across threads and
processes sharing the home.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from shared.ports.trends import TrendStore
from shared.trends import codec
from shared.trends.models import (
    ApiKey,
    ChannelBaseline,
    Follower,
    QuotaCall,
    QuotaState,
    Snapshot,
    Trend,
    VideoInfo,
)

from .sqlite import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS videos (video_id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS snapshots (
    region TEXT NOT NULL, video_id TEXT NOT NULL, at REAL NOT NULL, views INTEGER NOT NULL,
    likes INTEGER, comments INTEGER, PRIMARY KEY (region, video_id, at)
);
CREATE INDEX IF NOT EXISTS snapshots_by_time ON snapshots (region, at);
CREATE TABLE IF NOT EXISTS quota_days (
    day TEXT PRIMARY KEY, spent INTEGER NOT NULL, exhausted_until REAL, reason TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS quota_calls (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, day TEXT NOT NULL, data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS quota_calls_by_day ON quota_calls (day, seq);
CREATE TABLE IF NOT EXISTS trends (
    trend_id TEXT PRIMARY KEY, analysis_id TEXT NOT NULL, rank INTEGER NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS trends_by_analysis ON trends (analysis_id, rank);
CREATE TABLE IF NOT EXISTS latest (
    region TEXT PRIMARY KEY, analysis_id TEXT NOT NULL, at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS daily (
    region TEXT NOT NULL, day TEXT NOT NULL, analysis_id TEXT NOT NULL, at REAL NOT NULL,
    PRIMARY KEY (region, day)
);
CREATE TABLE IF NOT EXISTS followers (follower_id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS api_keys (
    key_hash TEXT PRIMARY KEY, key_id TEXT UNIQUE NOT NULL, data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS key_calls (
    key_id TEXT NOT NULL, period TEXT NOT NULL, calls INTEGER NOT NULL,
    PRIMARY KEY (key_id, period)
);
CREATE TABLE IF NOT EXISTS baselines (channel_id TEXT PRIMARY KEY, data TEXT NOT NULL);
"""


class SqliteTrendStore(TrendStore):
    def __init__(self, path: Path) -> None:
        self.db = Database(path, SCHEMA)

    # --- videos and snapshots --------------------------------------------------------------
    def save_videos(self, videos: Iterable[VideoInfo]) -> None:
        rows = [(v.video_id, json.dumps(codec.to_doc(v), ensure_ascii=False)) for v in videos]
        with self.db.transaction() as db:
            db.executemany("INSERT OR REPLACE INTO videos VALUES (?,?)", rows)

    def videos(self, ids: Iterable[str]) -> dict[str, VideoInfo]:
        wanted = sorted(set(ids))
        found: dict[str, VideoInfo] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows = self.db.read(
                f"SELECT data FROM videos WHERE video_id IN ({','.join('?' * len(chunk))})",
                tuple(chunk),
            )
            for r in rows:
                v = codec.video(json.loads(r["data"]))
                found[v.video_id] = v
        return found

    def add_snapshots(self, snapshots: Iterable[Snapshot]) -> None:
        rows = [(s.region, s.video_id, s.at, s.views, s.likes, s.comments) for s in snapshots]
        with self.db.transaction() as db:
            db.executemany("INSERT OR REPLACE INTO snapshots VALUES (?,?,?,?,?,?)", rows)

    def snapshots(self, region: str, since: float, until: float | None = None) -> list[Snapshot]:
        rows = self.db.read(
            "SELECT * FROM snapshots WHERE region=? AND at>=? AND at<=? ORDER BY video_id, at",
            (region, since, float("inf") if until is None else until),
        )
        return [codec.snapshot(dict(r)) for r in rows]

    def prune_snapshots(self, region: str, before: float) -> int:
        with self.db.transaction() as db:
            return db.execute(
                "DELETE FROM snapshots WHERE region=? AND at<?", (region, before)
            ).rowcount

    def save_channel_baselines(self, baselines: Iterable[ChannelBaseline]) -> None:
        rows = [(b.channel_id, json.dumps(codec.to_doc(b))) for b in baselines]
        with self.db.transaction() as db:
            db.executemany("INSERT OR REPLACE INTO baselines VALUES (?,?)", rows)

    def channel_baselines(self, ids: Iterable[str]) -> dict[str, ChannelBaseline]:
        wanted = sorted(set(ids))
        found: dict[str, ChannelBaseline] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows = self.db.read(
                f"SELECT data FROM baselines WHERE channel_id IN ({','.join('?' * len(chunk))})",
                tuple(chunk),
            )
            for r in rows:
                b = codec.channel_baseline(json.loads(r["data"]))
                found[b.channel_id] = b
        return found

    # --- quota -----------------------------------------------------------------------------
    def spend_quota(self, call: QuotaCall, budget: int) -> int | None:
        with self.db.transaction() as db:
            row = db.execute("SELECT spent FROM quota_days WHERE day=?", (call.day,)).fetchone()
            spent = int(row["spent"]) if row else 0
            if spent + call.units > budget:
                return None
            if row:
                db.execute(
                    "UPDATE quota_days SET spent=? WHERE day=?", (spent + call.units, call.day)
                )
            else:
                db.execute("INSERT INTO quota_days VALUES (?,?,NULL,'')", (call.day, call.units))
            db.execute(
                "INSERT INTO quota_calls (day, data) VALUES (?,?)",
                (call.day, json.dumps(codec.to_doc(call))),
            )
            return spent + call.units

    def quota(self, day: str) -> QuotaState:
        rows = self.db.read("SELECT * FROM quota_days WHERE day=?", (day,))
        if not rows:
            return QuotaState()
        r = rows[0]
        return QuotaState(int(r["spent"]), r["exhausted_until"], r["reason"])

    def quota_calls(self, day: str) -> list[QuotaCall]:
        rows = self.db.read("SELECT data FROM quota_calls WHERE day=? ORDER BY seq", (day,))
        return [codec.quota_call(json.loads(r["data"])) for r in rows]

    def quota_exhausted(self, day: str, until: float, reason: str) -> None:
        with self.db.transaction() as db:
            db.execute("INSERT OR IGNORE INTO quota_days VALUES (?,0,NULL,'')", (day,))
            db.execute(
                "UPDATE quota_days SET exhausted_until=?, reason=? WHERE day=?",
                (until, reason, day),
            )

    # --- trends ----------------------------------------------------------------------------
    def save_analysis(
        self,
        region: str,
        analysis_id: str,
        at: float,
        trends: list[Trend],
        *,
        publish: bool = True,
    ) -> None:
        with self.db.transaction() as db:
            db.execute("DELETE FROM trends WHERE analysis_id=?", (analysis_id,))
            db.executemany(
                "INSERT OR REPLACE INTO trends VALUES (?,?,?,?)",
                [(t.trend_id, analysis_id, t.rank, t.model_dump_json()) for t in trends],
            )
            if not publish:
                return
            row = db.execute("SELECT at FROM latest WHERE region=?", (region,)).fetchone()
            if row is None or float(row["at"]) <= at:
                db.execute(
                    "INSERT OR REPLACE INTO latest VALUES (?,?,?)", (region, analysis_id, at)
                )
            db.execute(
                "INSERT OR IGNORE INTO daily VALUES (?,?,?,?)",
                (region, codec.utc_day(at), analysis_id, at),
            )

    def save_trend(self, trend: Trend) -> None:
        with self.db.transaction() as db:
            db.execute(
                "UPDATE trends SET data=? WHERE trend_id=?",
                (trend.model_dump_json(), trend.trend_id),
            )

    def daily(self, region: str | None, day: str) -> list[Trend]:
        rows = (
            self.db.read("SELECT analysis_id FROM daily WHERE region=? AND day=?", (region, day))
            if region is not None
            else self.db.read("SELECT analysis_id FROM daily WHERE day=? ORDER BY region", (day,))
        )
        found = [t for r in rows for t in self.analysis(r["analysis_id"])]
        return sorted(found, key=lambda t: (t.rank, t.region))

    def analysis(self, analysis_id: str) -> list[Trend]:
        rows = self.db.read(
            "SELECT data FROM trends WHERE analysis_id=? ORDER BY rank", (analysis_id,)
        )
        return [Trend.model_validate_json(r["data"]) for r in rows]

    def latest(self, region: str | None = None, limit: int = 20) -> list[Trend]:
        rows = (
            self.db.read("SELECT analysis_id FROM latest WHERE region=?", (region,))
            if region is not None
            else self.db.read("SELECT analysis_id FROM latest ORDER BY region")
        )
        found = [t for r in rows for t in self.analysis(r["analysis_id"])]
        return sorted(found, key=lambda t: (t.rank, t.region))[:limit]

    def trend(self, trend_id: str) -> Trend | None:
        rows = self.db.read("SELECT data FROM trends WHERE trend_id=?", (trend_id,))
        return Trend.model_validate_json(rows[0]["data"]) if rows else None

    # --- followers -------------------------------------------------------------------------
    def follow(self, follower: Follower) -> None:
        with self.db.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO followers VALUES (?,?)",
                (follower.follower_id, json.dumps(codec.to_doc(follower), ensure_ascii=False)),
            )

    def unfollow(self, follower: Follower) -> bool:
        with self.db.transaction() as db:
            cursor = db.execute(
                "DELETE FROM followers WHERE follower_id=?", (follower.follower_id,)
            )
            return cursor.rowcount > 0

    def followers(self) -> list[Follower]:
        rows = self.db.read("SELECT data FROM followers")
        found = [codec.follower(json.loads(r["data"])) for r in rows]
        return sorted(found, key=lambda f: (f.email, f.kind, f.value))

    def follower(self, follower_id: str) -> Follower | None:
        rows = self.db.read("SELECT data FROM followers WHERE follower_id=?", (follower_id,))
        return codec.follower(json.loads(rows[0]["data"])) if rows else None

    # --- API keys --------------------------------------------------------------------------
    def add_key(self, key: ApiKey) -> None:
        with self.db.transaction() as db:
            db.execute(
                "INSERT INTO api_keys VALUES (?,?,?)",
                (key.key_hash, key.key_id, json.dumps(codec.to_doc(key), ensure_ascii=False)),
            )

    def key_by_hash(self, key_hash: str) -> ApiKey | None:
        rows = self.db.read("SELECT data FROM api_keys WHERE key_hash=?", (key_hash,))
        return codec.api_key(json.loads(rows[0]["data"])) if rows else None

    def revoke_key(self, key_id: str, at: float) -> bool:
        with self.db.transaction() as db:
            row = db.execute("SELECT data FROM api_keys WHERE key_id=?", (key_id,)).fetchone()
            if row is None:
                return False
            doc = json.loads(row["data"])
            if doc.get("revoked_at") is not None:
                return False
            doc["revoked_at"] = at
            db.execute(
                "UPDATE api_keys SET data=? WHERE key_id=?",
                (json.dumps(doc, ensure_ascii=False), key_id),
            )
            return True

    def replace_key(self, key: ApiKey) -> bool:
        with self.db.transaction() as db:
            return (
                db.execute(
                    "UPDATE api_keys SET data=? WHERE key_id=?",
                    (json.dumps(codec.to_doc(key), ensure_ascii=False), key.key_id),
                ).rowcount
                > 0
            )

    def api_keys(self) -> list[ApiKey]:
        rows = self.db.read("SELECT data FROM api_keys")
        keys = [codec.api_key(json.loads(r["data"])) for r in rows]
        return sorted(keys, key=lambda k: (k.created_at, k.key_id))

    def count_call(self, key_id: str, period: str) -> int:
        with self.db.transaction() as db:
            db.execute(
                "INSERT INTO key_calls VALUES (?,?,1) "
                "ON CONFLICT (key_id, period) DO UPDATE SET calls = calls + 1",
                (key_id, period),
            )
            row = db.execute(
                "SELECT calls FROM key_calls WHERE key_id=? AND period=?", (key_id, period)
            ).fetchone()
            return int(row["calls"])

    def calls(self, key_ids: Iterable[str], period: str) -> dict[str, int]:
        wanted = sorted(set(key_ids))
        counts = dict.fromkeys(wanted, 0)
        if wanted:
            rows = self.db.read(
                f"SELECT key_id, calls FROM key_calls WHERE period=? AND key_id IN "
                f"({','.join('?' * len(wanted))})",
                (period, *wanted),
            )
            counts.update({r["key_id"]: int(r["calls"]) for r in rows})
        return counts
