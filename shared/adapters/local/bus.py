"""Durable SQLite event bus with Pub/Sub semantics (the embedded default of ``EventBus``).

- A message published on a topic gets one delivery per subscription of that topic.
- Delivery is at-least-once: a leased delivery that is not acked before its deadline (or
  whose process died) is delivered again.
- A nacked delivery is retried with exponential backoff between ``min_backoff`` and
  ``max_backoff``; after ``max_delivery_attempts`` it is forwarded to the dead-letter topic
  with the attributes Pub/Sub adds (``CloudPubSubDeadLetterSource…``) and marked dead.
- A delivery that fails on the dead-letter subscription itself is marked dead (never loops).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from schemas.events import Event
from shared.metering import count_message
from shared.ports.bus import EventBus, message_attributes
from shared.ports.dead_letters import DeadLetter, DeadLetterQueue, original_attributes

from .sqlite import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, message_id TEXT UNIQUE NOT NULL, topic TEXT NOT NULL,
    data BLOB NOT NULL, attributes TEXT NOT NULL, published_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
    message_id TEXT NOT NULL, subscription TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL, available_at REAL NOT NULL, lease_until REAL, last_error TEXT,
    PRIMARY KEY (message_id, subscription)
);
CREATE INDEX IF NOT EXISTS deliveries_ready ON deliveries(state, available_at);
"""


@dataclass(frozen=True)
class Delivery:
    message_id: str
    subscription: str
    topic: str
    data: bytes
    attributes: dict[str, str]
    attempt: int
    published_at: float


@dataclass(frozen=True)
class BusPolicy:
    max_delivery_attempts: int = 5
    min_backoff_s: float = 0.5
    max_backoff_s: float = 10.0
    ack_deadline_s: float = 600.0
    dead_letter_topic: str = "tale.dead-letter"


class SqliteEventBus(EventBus, DeadLetterQueue):
    def __init__(
        self,
        path: Path,
        subscriptions: Mapping[str, list[str]],
        policy: BusPolicy = BusPolicy(),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = Database(path, SCHEMA)
        self.subscriptions = {t: list(s) for t, s in subscriptions.items()}
        self.policy = policy
        self.clock = clock

    # --- publishing (the port) -----------------------------------------------------------
    def publish(self, event: Event) -> str:
        return self.publish_raw(
            event.TYPE, event.model_dump_json().encode(), message_attributes(event)
        )

    def publish_raw(self, topic: str, data: bytes, attributes: Mapping[str, str]) -> str:
        """Publish bytes as they are (tests use it to send malformed messages)."""
        if topic not in self.subscriptions:
            raise KeyError(f"unknown topic {topic!r}")
        count_message(data, dict(attributes))
        message_id = uuid.uuid4().hex
        now = self.clock()
        with self.db.transaction() as db:
            db.execute(
                "INSERT INTO messages (message_id, topic, data, attributes, published_at) "
                "VALUES (?,?,?,?,?)",
                (message_id, topic, data, json.dumps(dict(attributes)), now),
            )
            db.executemany(
                "INSERT INTO deliveries (message_id, subscription, state, available_at) "
                "VALUES (?,?,'pending',?)",
                [(message_id, sub, now) for sub in self.subscriptions[topic]],
            )
        return message_id

    # --- consuming (the runtime) ---------------------------------------------------------
    def lease(self, limit: int) -> list[Delivery]:
        """Take up to ``limit`` deliveries that are due, oldest first."""
        now = self.clock()
        with self.db.transaction() as db:
            rows = db.execute(
                "SELECT d.message_id, d.subscription, d.attempts, m.topic, m.data, m.attributes, "
                "m.published_at FROM deliveries d JOIN messages m USING (message_id) "
                "WHERE (d.state='pending' AND d.available_at<=?) "
                "OR (d.state='leased' AND d.lease_until<=?) ORDER BY m.seq LIMIT ?",
                (now, now, limit),
            ).fetchall()
            out = []
            for r in rows:
                db.execute(
                    "UPDATE deliveries SET state='leased', attempts=attempts+1, "
                    "lease_until=? WHERE message_id=? AND subscription=?",
                    (now + self.policy.ack_deadline_s, r["message_id"], r["subscription"]),
                )
                out.append(
                    Delivery(
                        r["message_id"],
                        r["subscription"],
                        r["topic"],
                        r["data"],
                        json.loads(r["attributes"]),
                        r["attempts"] + 1,
                        r["published_at"],
                    )
                )
            return out

    def ack(self, delivery: Delivery) -> None:
        with self.db.transaction() as db:
            db.execute(
                "UPDATE deliveries SET state='acked', lease_until=NULL "
                "WHERE message_id=? AND subscription=?",
                (delivery.message_id, delivery.subscription),
            )

    def nack(self, delivery: Delivery, error: str) -> bool:
        """Schedule a retry, or dead-letter after the last attempt. True when dead-lettered."""
        policy = self.policy
        if delivery.attempt < policy.max_delivery_attempts:
            backoff = min(policy.max_backoff_s, policy.min_backoff_s * 2 ** (delivery.attempt - 1))
            with self.db.transaction() as db:
                db.execute(
                    "UPDATE deliveries SET state='pending', available_at=?, "
                    "lease_until=NULL, last_error=? WHERE message_id=? AND subscription=?",
                    (
                        self.clock() + backoff,
                        error[:2000],
                        delivery.message_id,
                        delivery.subscription,
                    ),
                )
            return False
        if delivery.topic != policy.dead_letter_topic:
            attributes = {
                **delivery.attributes,
                "CloudPubSubDeadLetterSourceDeliveryCount": str(delivery.attempt),
                "CloudPubSubDeadLetterSourceSubscription": delivery.subscription,
                "CloudPubSubDeadLetterSourceSubscriptionProject": "local",
                "CloudPubSubDeadLetterSourceTopicPublishTime": str(delivery.published_at),
            }
            self.publish_raw(policy.dead_letter_topic, delivery.data, attributes)
        with self.db.transaction() as db:
            db.execute(
                "UPDATE deliveries SET state='dead', lease_until=NULL, last_error=? "
                "WHERE message_id=? AND subscription=?",
                (error[:2000], delivery.message_id, delivery.subscription),
            )
        return True

    def release_leases(self) -> int:
        """Make every leased delivery due now (the runtime that held them is gone)."""
        with self.db.transaction() as db:
            return db.execute(
                "UPDATE deliveries SET state='pending', lease_until=NULL, "
                "available_at=? WHERE state='leased'",
                (self.clock(),),
            ).rowcount

    def outstanding(self) -> int:
        """Deliveries not yet acked or dead (pending, waiting for a retry, or leased)."""
        rows = self.db.read(
            "SELECT COUNT(*) AS n FROM deliveries WHERE state IN ('pending','leased')"
        )
        return int(rows[0]["n"])

    def next_due_in(self) -> float | None:
        """Seconds until the next pending delivery is due; None when nothing is pending."""
        rows = self.db.read("SELECT MIN(available_at) AS t FROM deliveries WHERE state='pending'")
        t = rows[0]["t"]
        return None if t is None else max(0.0, t - self.clock())

    def stats(self) -> dict[str, int]:
        rows = self.db.read("SELECT state, COUNT(*) AS n FROM deliveries GROUP BY state")
        return {r["state"]: int(r["n"]) for r in rows}

    def published(self, topic: str | None = None) -> list[tuple[str, dict[str, str], bytes]]:
        """(topic, attributes, data) of published messages in order (operators and tests)."""
        sql = "SELECT topic, attributes, data FROM messages"
        rows = (
            self.db.read(sql + " WHERE topic=? ORDER BY seq", (topic,))
            if topic
            else self.db.read(sql + " ORDER BY seq")
        )
        return [(r["topic"], json.loads(r["attributes"]), r["data"]) for r in rows]

    def dead_letters(self) -> list[DeadLetter]:
        """Deliveries a subscription gave up on (excluding the dead-letter handler's own)."""
        rows = self.db.read(
            "SELECT d.message_id, d.subscription, d.last_error, m.topic, m.attributes "
            "FROM deliveries d JOIN messages m USING (message_id) WHERE d.state='dead' "
            "AND m.topic != ? ORDER BY m.seq",
            (self.policy.dead_letter_topic,),
        )
        return [
            DeadLetter(
                r["message_id"],
                r["subscription"],
                r["topic"],
                json.loads(r["attributes"]),
                r["last_error"] or "",
            )
            for r in rows
        ]

    def replay(self, message_id: str) -> str:
        """Publish a dead-lettered message again on its topic (operators: after a fix)."""
        rows = self.db.read(
            "SELECT topic, data, attributes FROM messages WHERE message_id=?", (message_id,)
        )
        if not rows:
            raise KeyError(f"no message {message_id}")
        attributes = original_attributes(json.loads(rows[0]["attributes"]))
        return self.publish_raw(rows[0]["topic"], rows[0]["data"], attributes)
