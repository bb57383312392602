"""SQLite ledger: the embedded default of the ``Ledger`` port (same rules as the SQL in
``supabase/migrations``: an append-only ledger with one grant per period and one reserve,
settle and refund per tale, and the same admission of a new tale in one ``BEGIN IMMEDIATE``
transaction).

A database made before admissions existed gets their columns when it is opened
(``ADMISSION_COLUMNS``); its earlier reservations carry no estimate and count as nothing
against a spending cap. One made before storyboard edits has its ledger table rebuilt once
(in one transaction, every row kept) so that its kinds include ``reserve_more``: SQLite
cannot change a table's CHECK constraint in place; so does one made before paid plans (whose
kinds lack ``paid`` and ``revoke``), and its profiles get the ``subscribed`` column, and one
made before disputes won gave credits back (whose kinds lack ``reinstate``)."""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

from shared.domain import admission
from shared.domain.errors import SubmissionExpired
from shared.ports.ledger import (
    EntryKind,
    InsufficientCredits,
    Ledger,
    LedgerEntry,
    OpenReservation,
    Plan,
    Profile,
)

from .sqlite import Database

_PERIOD = re.compile(r"\d{4}-(0[1-9]|1[0-2])")

LEDGER_TABLE = """CREATE TABLE IF NOT EXISTS {name} (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL REFERENCES profiles(user_id),
    kind TEXT NOT NULL CHECK (kind IN ('grant', 'paid', 'revoke', 'reinstate', 'reserve',
        'reserve_more', 'settle', 'refund')),
    amount INTEGER NOT NULL, tale_id TEXT, period TEXT, at REAL NOT NULL
)"""
LEDGER_RULES = (
    """CREATE UNIQUE INDEX IF NOT EXISTS one_grant_per_period
    ON credit_ledger(user_id, period) WHERE kind = 'grant'""",
    """CREATE UNIQUE INDEX IF NOT EXISTS one_per_tale
    ON credit_ledger(tale_id, kind) WHERE kind IN ('reserve', 'settle', 'refund')""",
    """CREATE TRIGGER IF NOT EXISTS ledger_no_update BEFORE UPDATE ON credit_ledger
    BEGIN SELECT RAISE(ABORT, 'the credit ledger is append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS ledger_no_delete BEFORE DELETE ON credit_ledger
    BEGIN SELECT RAISE(ABORT, 'the credit ledger is append-only'); END""",
)
"""One grant per period, one reservation and one outcome per tale, append-only."""
SCHEMA = (
    ";\n".join(
        [
            """CREATE TABLE IF NOT EXISTS profiles (
    user_id TEXT PRIMARY KEY, email TEXT NOT NULL, plan TEXT NOT NULL
        CHECK (plan IN ('free', 'pro', 'business')),
    created_at REAL NOT NULL, subscribed INTEGER NOT NULL DEFAULT 0
)""",
            LEDGER_TABLE.format(name="credit_ledger"),
            *LEDGER_RULES,
        ]
    )
    + ";\n"
)
ADMISSION_COLUMNS = {
    "estimate_micro_usd": "INTEGER",
    "spend_period": "TEXT",
    "plan_version": "INTEGER",
}
"""Kept on a reservation made by ``admit`` or ``reserve_more``: the estimate it commits and
the month that counts in; on ``reserve_more``, the plan version of the edit too."""
PAYMENT_COLUMNS = {"invoice_id": "TEXT"}
"""Kept on ``paid``, ``revoke`` and ``reinstate`` entries: the invoice they are for."""
ADMISSION_INDEXES = (
    "CREATE INDEX IF NOT EXISTS spend_per_period ON credit_ledger(user_id, spend_period) "
    "WHERE spend_period IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS more_per_tale ON credit_ledger(tale_id) "
    "WHERE kind = 'reserve_more'",
)
HELD = (
    "SELECT -COALESCE(SUM(amount), 0) AS credits, COALESCE(SUM(estimate_micro_usd), 0) AS micro "
    "FROM credit_ledger WHERE tale_id=? AND kind IN ('reserve', 'reserve_more')"
)
"""What a tale holds: its reservation and what edits added, in credits and micro-dollars."""
OPEN_RESERVATIONS = (
    "SELECT r.tale_id, r.user_id, -r.amount AS credits, r.at FROM credit_ledger r "
    "WHERE r.kind='reserve' AND r.at < ? AND r.tale_id > ? "
    "AND NOT EXISTS (SELECT 1 FROM credit_ledger o WHERE o.tale_id=r.tale_id "
    "AND o.kind IN ('settle', 'refund')) ORDER BY r.tale_id LIMIT ?"
)
"""Reservations neither settled nor refunded, made before a moment, a page in tale-id order
(both lookups by tale id use the ``one_per_tale`` index)."""


class SqliteLedger(Ledger):
    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        self.db = Database(path, SCHEMA)
        self.clock = clock
        self._migrate()

    def _migrate(self) -> None:
        """Add what a database made by an earlier version lacks (once; safe to race)."""
        with self.db.transaction() as db:
            table = db.execute(
                "SELECT sql FROM sqlite_master WHERE type='table' AND name='credit_ledger'"
            ).fetchone()
            if "'reinstate'" not in table["sql"]:
                self._rebuild(db)
            self._add_columns(db, "credit_ledger")
            profiles = {row["name"] for row in db.execute("PRAGMA table_info(profiles)")}
            if "subscribed" not in profiles:
                db.execute("ALTER TABLE profiles ADD COLUMN subscribed INTEGER NOT NULL DEFAULT 0")
            for index in ADMISSION_INDEXES:
                db.execute(index)

    @staticmethod
    def _add_columns(db: sqlite3.Connection, table: str) -> None:
        have = {row["name"] for row in db.execute(f"PRAGMA table_info({table})")}
        for name, kind in {**ADMISSION_COLUMNS, **PAYMENT_COLUMNS}.items():
            if name not in have:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")

    def _rebuild(self, db: sqlite3.Connection) -> None:
        """The ledger table of an earlier version, with every row, under today's CHECK
        (dropping a table fires no DELETE trigger; its indexes and triggers are made again)."""
        db.execute(LEDGER_TABLE.format(name="credit_ledger_new"))
        self._add_columns(db, "credit_ledger")
        self._add_columns(db, "credit_ledger_new")
        columns = ", ".join(
            row["name"] for row in db.execute("PRAGMA table_info(credit_ledger_new)")
        )
        db.execute(f"INSERT INTO credit_ledger_new ({columns}) SELECT {columns} FROM credit_ledger")
        db.execute("DROP TABLE credit_ledger")
        db.execute("ALTER TABLE credit_ledger_new RENAME TO credit_ledger")
        for statement in LEDGER_RULES:
            db.execute(statement)

    @staticmethod
    def _balance(db: sqlite3.Connection, user_id: str) -> int:
        row = db.execute(
            "SELECT COALESCE(SUM(amount), 0) AS b FROM credit_ledger WHERE user_id=?", (user_id,)
        ).fetchone()
        return int(row["b"])

    def ensure_profile(self, user_id: str, email: str, plan: Plan = "free") -> bool:
        with self.db.transaction() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO profiles (user_id, email, plan, created_at) "
                "VALUES (?,?,?,?)",
                (user_id, email, plan, self.clock()),
            )
            if cur.rowcount == 1:
                return True
            if email:  # a profile created without an address takes the first one known
                db.execute(
                    "UPDATE profiles SET email=? WHERE user_id=? AND email=''", (email, user_id)
                )
            return False

    def profile(self, user_id: str) -> Profile | None:
        with self.db.transaction() as db:
            row = db.execute("SELECT * FROM profiles WHERE user_id=?", (user_id,)).fetchone()
            if row is None:
                return None
            return Profile(
                row["user_id"],
                row["email"],
                cast(Plan, row["plan"]),
                self._balance(db, user_id),
                bool(row["subscribed"]),
            )

    @staticmethod
    def _require_profile(db: sqlite3.Connection, user_id: str) -> None:
        if db.execute("SELECT 1 FROM profiles WHERE user_id=?", (user_id,)).fetchone() is None:
            raise LookupError(f"no profile for {user_id}")

    def set_plan(self, user_id: str, plan: Plan) -> None:
        with self.db.transaction() as db:
            self._require_profile(db, user_id)
            db.execute("UPDATE profiles SET plan=? WHERE user_id=?", (plan, user_id))

    def grant_monthly(self, user_id: str, period: str, amount: int) -> bool:
        if amount < 0 or not _PERIOD.fullmatch(period):
            raise ValueError(
                f"a grant needs an amount ≥ 0 and a YYYY-MM period, not {amount!r} for {period!r}"
            )
        with self.db.transaction() as db:
            self._require_profile(db, user_id)
            cur = db.execute(
                "INSERT OR IGNORE INTO credit_ledger "
                "(user_id, kind, amount, period, at) VALUES (?, 'grant', ?, ?, ?)",
                (user_id, amount, period, self.clock()),
            )
            return cur.rowcount == 1

    @staticmethod
    def _reserved(db: sqlite3.Connection, user_id: str, tale_id: str) -> bool:
        """Whether the tale is reserved already (by this account; another's is refused)."""
        held = db.execute(
            "SELECT user_id FROM credit_ledger WHERE tale_id=? AND kind='reserve'", (tale_id,)
        ).fetchone()
        if held is not None and held["user_id"] != user_id:
            raise ValueError(f"tale {tale_id} is reserved by another account")
        return held is not None

    @staticmethod
    def _standing(db: sqlite3.Connection, user_id: str, period: str) -> admission.Standing:
        running = db.execute(
            "SELECT COUNT(*) AS n FROM credit_ledger r WHERE r.user_id=? AND r.kind='reserve' "
            "AND NOT EXISTS (SELECT 1 FROM credit_ledger o WHERE o.tale_id=r.tale_id "
            "AND o.kind IN ('settle', 'refund'))",
            (user_id,),
        ).fetchone()
        return admission.Standing(
            int(running["n"]),
            SqliteLedger._committed(db, user_id, period),
            SqliteLedger._balance(db, user_id),
        )

    @staticmethod
    def _committed(db: sqlite3.Connection, user_id: str, period: str) -> int:
        """The estimates admitted in ``period`` and what edits added to them (micro-$)."""
        row = db.execute(
            "SELECT COALESCE(SUM(estimate_micro_usd), 0) AS m FROM credit_ledger "
            "WHERE user_id=? AND spend_period=?",
            (user_id, period),
        ).fetchone()
        return int(row["m"])

    def admit(
        self,
        user_id: str,
        tale_id: str,
        *,
        credits: int,
        estimate_usd: float,
        period: str,
        cap_usd: float,
        max_running: int,
    ) -> bool:
        request = admission.Request(credits, estimate_usd, period, cap_usd, max_running)
        with self.db.transaction() as db:  # BEGIN IMMEDIATE: one admission at a time
            if self._reserved(db, user_id, tale_id):
                if self._closed(db, tale_id):
                    raise SubmissionExpired(tale_id)
                return False
            admission.check(self._standing(db, user_id, period), request)
            db.execute(
                "INSERT INTO credit_ledger (user_id, kind, amount, tale_id, at, "
                "estimate_micro_usd, spend_period) VALUES (?, 'reserve', ?, ?, ?, ?, ?)",
                (
                    user_id,
                    -credits,
                    tale_id,
                    self.clock(),
                    admission.micro_usd(estimate_usd),
                    period,
                ),
            )
            return True

    def reserve(self, user_id: str, tale_id: str, amount: int) -> bool:
        if amount <= 0:
            raise ValueError(f"a reservation must be positive, not {amount!r}")
        with self.db.transaction() as db:
            if self._reserved(db, user_id, tale_id):
                return False
            balance = self._balance(db, user_id)
            if balance < amount:
                raise InsufficientCredits(amount, balance)
            db.execute(
                "INSERT INTO credit_ledger (user_id, kind, amount, tale_id, at) "
                "VALUES (?, 'reserve', ?, ?, ?)",
                (user_id, -amount, tale_id, self.clock()),
            )
            return True

    def reserve_more(
        self,
        user_id: str,
        tale_id: str,
        *,
        version: int,
        credits: int,
        estimate_usd: float,
        period: str,
        cap_usd: float,
    ) -> bool:
        request = admission.Extension(version, credits, estimate_usd, period, cap_usd)
        with self.db.transaction() as db:  # BEGIN IMMEDIATE: one change of the account at a time
            if not self._reserved(db, user_id, tale_id) or self._closed(db, tale_id):
                return False
            row = db.execute(HELD, (tale_id,)).fetchone()
            held = admission.Held(int(row["credits"]), int(row["micro"]))
            more, micro = admission.extend(
                held, request, self._committed(db, user_id, period), self._balance(db, user_id)
            )
            if not more and not micro:
                return False
            db.execute(
                "INSERT INTO credit_ledger (user_id, kind, amount, tale_id, at, "
                "estimate_micro_usd, spend_period, plan_version) "
                "VALUES (?, 'reserve_more', ?, ?, ?, ?, ?, ?)",
                (user_id, -more, tale_id, self.clock(), micro, period, version),
            )
            return True

    @staticmethod
    def _closed(db: sqlite3.Connection, tale_id: str) -> bool:
        return (
            db.execute(
                "SELECT 1 FROM credit_ledger WHERE tale_id=? AND kind IN ('settle', 'refund')",
                (tale_id,),
            ).fetchone()
            is not None
        )

    def _close(self, tale_id: str, kind: EntryKind, cost: int | None = None) -> bool:
        if cost is not None and cost < 0:
            raise ValueError(f"a cost is ≥ 0, not {cost!r}")
        with self.db.transaction() as db:
            reserved = db.execute(
                "SELECT user_id FROM credit_ledger WHERE tale_id=? AND kind='reserve'",
                (tale_id,),
            ).fetchone()
            if reserved is None or self._closed(db, tale_id):
                return False
            held = int(db.execute(HELD, (tale_id,)).fetchone()["credits"])
            kept = held if cost is None else min(held, cost)
            amount = held if kind == "refund" else held - kept
            db.execute(
                "INSERT INTO credit_ledger (user_id, kind, amount, tale_id, at) "
                "VALUES (?, ?, ?, ?, ?)",
                (reserved["user_id"], kind, amount, tale_id, self.clock()),
            )
            return True

    def settle(self, tale_id: str, cost: int | None = None) -> bool:
        return self._close(tale_id, "settle", cost)

    def refund(self, tale_id: str) -> bool:
        return self._close(tale_id, "refund")

    def open_reservations(
        self, opened_before: float, *, after: str = "", limit: int = 500
    ) -> list[OpenReservation]:
        if limit < 1:
            raise ValueError(f"a page holds at least one reservation, not {limit!r}")
        rows = self.db.read(OPEN_RESERVATIONS, (opened_before, after, limit))
        return [
            OpenReservation(r["tale_id"], r["user_id"], int(r["credits"]), float(r["at"]))
            for r in rows
        ]

    def entries(self, user_id: str) -> list[LedgerEntry]:
        rows = self.db.read("SELECT * FROM credit_ledger WHERE user_id=? ORDER BY id", (user_id,))
        return [
            LedgerEntry(
                r["user_id"],
                cast(EntryKind, r["kind"]),
                r["amount"],
                r["tale_id"],
                r["period"],
                r["at"],
            )
            for r in rows
        ]
