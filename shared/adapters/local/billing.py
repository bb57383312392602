"""SQLite billing book: the embedded default of ``BillingBook``, in the ledger's database.

Its tables sit beside ``profiles`` and ``credit_ledger`` in ``ledger.db`` and share the
ledger's connection, so ``apply`` writes the event id, the billing state, the plan, the credit
entries and the accounting lines in one ``BEGIN IMMEDIATE`` transaction — the same rules as
``billing.apply_payment_event`` in ``supabase/migrations`` (a withdrawal takes at most the
balance; a dispute closed in our favour gives back what its withdrawal lines took).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime

from shared.billing import state
from shared.domain.billing.account import Account
from shared.domain.billing.changes import Changes, Notice, Record
from shared.ports.billing import BillingBook, Outcome, PaymentRecord

from .ledger import SqliteLedger

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS billing_accounts (
    user_id TEXT PRIMARY KEY REFERENCES profiles(user_id),
    customer_id TEXT UNIQUE, language TEXT,
    state TEXT NOT NULL DEFAULT '{}', version INTEGER NOT NULL DEFAULT 0
)""",
    """CREATE TABLE IF NOT EXISTS billing_events (
    event_id TEXT PRIMARY KEY, user_id TEXT, type TEXT NOT NULL,
    notices TEXT NOT NULL DEFAULT '[]', at REAL NOT NULL
)""",
    """CREATE TABLE IF NOT EXISTS payments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL REFERENCES profiles(user_id),
    kind TEXT NOT NULL CHECK (kind IN ('payment', 'refund', 'dispute', 'dispute_won',
        'withdrawal')),
    object_id TEXT NOT NULL UNIQUE, invoice_id TEXT, amount INTEGER NOT NULL,
    currency TEXT NOT NULL, plan TEXT, credits INTEGER NOT NULL DEFAULT 0,
    credits_lost INTEGER NOT NULL DEFAULT 0, at REAL NOT NULL, period TEXT NOT NULL
)""",
    "CREATE INDEX IF NOT EXISTS payments_per_period ON payments(period)",
    "CREATE UNIQUE INDEX IF NOT EXISTS one_paid_per_invoice ON credit_ledger(invoice_id) "
    "WHERE kind = 'paid'",
)


class SqliteBilling(BillingBook):
    def __init__(self, ledger: SqliteLedger, clock: Callable[[], float] = time.time) -> None:
        self.ledger = ledger
        self.db = ledger.db
        self.clock = clock
        with self.db.transaction() as db:
            for statement in SCHEMA:
                db.execute(statement)

    def customer(self, user_id: str) -> str | None:
        rows = self.db.read("SELECT customer_id FROM billing_accounts WHERE user_id=?", (user_id,))
        return rows[0]["customer_id"] if rows else None

    def link_customer(self, user_id: str, customer_id: str, language: str | None = None) -> str:
        with self.db.transaction() as db:
            self._account_row(db, user_id)
            db.execute(
                "UPDATE billing_accounts SET customer_id=COALESCE(customer_id, ?), "
                "language=COALESCE(?, language) WHERE user_id=?",
                (customer_id, language, user_id),
            )
            row = db.execute(
                "SELECT customer_id FROM billing_accounts WHERE user_id=?", (user_id,)
            ).fetchone()
            return str(row["customer_id"])

    def user_of(self, customer_id: str) -> str | None:
        rows = self.db.read(
            "SELECT user_id FROM billing_accounts WHERE customer_id=?", (customer_id,)
        )
        return rows[0]["user_id"] if rows else None

    @staticmethod
    def _account_row(db: sqlite3.Connection, user_id: str) -> sqlite3.Row:
        profile = db.execute(
            "SELECT plan, subscribed FROM profiles WHERE user_id=?", (user_id,)
        ).fetchone()
        if profile is None:
            raise LookupError(f"no profile for {user_id}")
        db.execute("INSERT OR IGNORE INTO billing_accounts (user_id) VALUES (?)", (user_id,))
        row: sqlite3.Row = db.execute(
            "SELECT a.*, p.plan, p.subscribed FROM billing_accounts a "
            "JOIN profiles p ON p.user_id = a.user_id WHERE a.user_id=?",
            (user_id,),
        ).fetchone()
        return row

    def load(self, user_id: str) -> Account:
        with self.db.transaction() as db:
            row = self._account_row(db, user_id)
        return state.load(
            user_id,
            row["state"],
            plan=row["plan"],
            subscribed=bool(row["subscribed"]),
            language=row["language"],
            version=int(row["version"]),
        )

    def apply(
        self, event_id: str | None, event_type: str, version: int, changes: Changes
    ) -> Outcome:
        account = changes.account
        with self.db.transaction() as db:  # BEGIN IMMEDIATE: one change of the book at a time
            row = self._account_row(db, account.user_id)
            if event_id is not None and self._seen(db, event_id):
                return Outcome.DUPLICATE
            if int(row["version"]) != version:
                return Outcome.CONFLICT
            now = self.clock()
            if event_id is not None:
                db.execute(
                    "INSERT INTO billing_events (event_id, user_id, type, notices, at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (
                        event_id,
                        account.user_id,
                        event_type,
                        state.dump_notices(changes.notices),
                        now,
                    ),
                )
            db.execute(
                "UPDATE billing_accounts SET state=?, version=version+1 WHERE user_id=?",
                (state.dump(account), account.user_id),
            )
            db.execute(
                "UPDATE profiles SET plan=?, subscribed=? WHERE user_id=?",
                (account.plan, int(account.subscribed), account.user_id),
            )
            for record in changes.records:
                self._write(db, account.user_id, record, now)
            return Outcome.APPLIED

    def _write(self, db: sqlite3.Connection, user_id: str, record: Record, now: float) -> None:
        """One accounting line with its credits: a grant, a withdrawal of at most the balance
        (the rest lost), or what earlier lines of the account took given back. A line written
        before (its object id) changes nothing."""
        if db.execute("SELECT 1 FROM payments WHERE object_id=?", (record.object_id,)).fetchone():
            return
        credits, lost = record.grant, 0
        if record.grant:
            db.execute(
                "INSERT INTO credit_ledger (user_id, kind, amount, invoice_id, at) "
                "VALUES (?, 'paid', ?, ?, ?)",
                (user_id, record.grant, record.invoice_id, now),
            )
        if record.restore:
            restored = self._taken(db, user_id, record.restore)
            credits += restored
            if restored:
                db.execute(
                    "INSERT INTO credit_ledger (user_id, kind, amount, invoice_id, at) "
                    "VALUES (?, 'reinstate', ?, ?, ?)",
                    (user_id, restored, record.invoice_id, now),
                )
        if record.withdraw:
            taken = min(record.withdraw, max(0, SqliteLedger._balance(db, user_id)))
            credits, lost = -taken, record.withdraw - taken
            if taken:
                db.execute(
                    "INSERT INTO credit_ledger (user_id, kind, amount, invoice_id, at) "
                    "VALUES (?, 'revoke', ?, ?, ?)",
                    (user_id, -taken, record.invoice_id, now),
                )
        db.execute(
            "INSERT INTO payments (user_id, kind, object_id, invoice_id, amount, currency, plan, "
            "credits, credits_lost, at, period) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                user_id,
                record.kind,
                record.object_id,
                record.invoice_id,
                record.amount,
                record.currency,
                record.plan,
                credits,
                lost,
                now,
                datetime.fromtimestamp(now, UTC).strftime("%Y-%m"),
            ),
        )

    @staticmethod
    def _taken(db: sqlite3.Connection, user_id: str, lines: tuple[str, ...]) -> int:
        """Credits the account's lines ``lines`` took from the balance (not what they lost)."""
        marks = ",".join("?" * len(lines))
        row = db.execute(
            "SELECT COALESCE(-SUM(credits), 0) AS taken FROM payments "
            f"WHERE user_id=? AND kind='withdrawal' AND object_id IN ({marks})",
            (user_id, *lines),
        ).fetchone()
        return max(0, int(row["taken"]))

    @staticmethod
    def _seen(db: sqlite3.Connection, event_id: str) -> bool:
        found = db.execute("SELECT 1 FROM billing_events WHERE event_id=?", (event_id,))
        return found.fetchone() is not None

    def mark(self, event_id: str, event_type: str) -> bool:
        with self.db.transaction() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO billing_events (event_id, type, at) VALUES (?, ?, ?)",
                (event_id, event_type, self.clock()),
            )
            return cur.rowcount == 1

    def processed(self, event_id: str) -> bool:
        return bool(self.db.read("SELECT 1 FROM billing_events WHERE event_id=?", (event_id,)))

    def notices(self, event_id: str) -> list[Notice]:
        rows = self.db.read("SELECT notices FROM billing_events WHERE event_id=?", (event_id,))
        return state.load_notices(rows[0]["notices"]) if rows else []

    def records(self, user_id: str | None = None, period: str | None = None) -> list[PaymentRecord]:
        sql, params = "SELECT * FROM payments WHERE 1=1", list[str]()
        if user_id is not None:
            sql, params = sql + " AND user_id=?", [*params, user_id]
        if period is not None:
            sql, params = sql + " AND period=?", [*params, period]
        return [
            PaymentRecord(
                r["user_id"],
                r["kind"],
                r["object_id"],
                r["amount"],
                r["currency"],
                r["invoice_id"],
                r["plan"],
                r["credits"],
                r["credits_lost"],
                r["at"],
            )
            for r in self.db.read(sql + " ORDER BY id", tuple(params))
        ]
