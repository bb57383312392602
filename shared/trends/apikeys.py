"""Business API keys for reading trends programmatically (``X-API-Key`` on ``GET /v1/trends``).

A key belongs to a customer — the user id of an account on the business plan — and its calls
are that customer's. It is ``tsk_`` followed by 43 URL-safe characters (256 random bits),
shown once when issued; the store keeps only its SHA-256 (a lookup key — with 256 random bits
a fast hash is the right tool: there is nothing to brute-force), with a public id (``key-…``)
for listing, rotating and revoking.

- **Expiry**: a key expires ``TALE_TRENDS_KEY_DAYS`` after it is issued.
- **Rotation**: ``rotate`` issues a new key for the same customer, name and limits, and the
  old one keeps working for the grace period (``TALE_TRENDS_KEY_GRACE_DAYS``) so that the
  customer can switch without an outage.
- **Metering**: every call is counted per key and calendar month (UTC, ``YYYY-MM``);
  beyond the key's monthly allowance the call is refused (``MonthlyLimit``), besides the
  per-minute rate limit.

A revoked, expired, unknown or malformed key is refused the same way (401), without saying
which.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import replace
from datetime import UTC, datetime

from shared.ports.trends import TrendStore
from shared.trends.models import ApiKey

PREFIX = "tsk_"
_FORMAT = re.compile(r"^tsk_[A-Za-z0-9_-]{43}$")
_DAY = 86400.0


class InvalidApiKey(Exception):
    """Unknown, revoked, expired or malformed (deliberately not said which)."""


class MonthlyLimit(Exception):
    """The key used its calls of this month."""

    def __init__(self, limit: int, resets_at: float) -> None:
        super().__init__(f"the key's {limit:,} calls of this month are used")
        self.limit = limit
        self.resets_at = resets_at


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def month(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m")


def next_month(at: float) -> float:
    now = datetime.fromtimestamp(at, UTC)
    year, month_ = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
    return datetime(year, month_, 1, tzinfo=UTC).timestamp()


def issue(
    store: TrendStore,
    *,
    customer: str,
    name: str,
    rate_per_minute: int,
    monthly_calls: int,
    days: int,
    at: float,
) -> tuple[str, ApiKey]:
    """A new key: (the key itself — show it once — and its stored record)."""
    key = PREFIX + secrets.token_urlsafe(32)
    record = ApiKey(
        key_id=f"key-{secrets.token_hex(5)}",
        name=name,
        key_hash=key_hash(key),
        created_at=at,
        rate_per_minute=rate_per_minute,
        customer=customer,
        expires_at=at + days * _DAY,
        monthly_calls=monthly_calls,
    )
    store.add_key(record)
    return key, record


def find(store: TrendStore, key_id: str) -> ApiKey | None:
    return next((k for k in store.api_keys() if k.key_id == key_id), None)


def rotate(
    store: TrendStore, key_id: str, *, grace_days: int, days: int, at: float
) -> tuple[str, ApiKey, ApiKey]:
    """A new key in place of ``key_id`` (same customer, name and limits); the old one expires
    after the grace period. (new key, its record, the old record as updated). ``LookupError``
    for an unknown, revoked or expired key."""
    old = find(store, key_id)
    if old is None or old.revoked or old.expired(at):
        raise LookupError(f"no active key {key_id}")
    key, new = issue(
        store,
        customer=old.customer,
        name=old.name,
        rate_per_minute=old.rate_per_minute,
        monthly_calls=old.monthly_calls,
        days=days,
        at=at,
    )
    ends = at + grace_days * _DAY
    updated = replace(
        old,
        expires_at=min(old.expires_at, ends) if old.expires_at is not None else ends,
        rotated_to=new.key_id,
    )
    store.replace_key(updated)
    return key, new, updated


def verify(store: TrendStore, presented: str, at: float) -> ApiKey:
    """The key's record; ``InvalidApiKey`` unless it is well-formed, known, belongs to a
    customer, and is neither revoked nor expired."""
    if not _FORMAT.match(presented):
        raise InvalidApiKey("invalid API key")
    record = store.key_by_hash(key_hash(presented))
    if record is None or record.revoked or record.expired(at) or not record.customer:
        raise InvalidApiKey("invalid API key")
    return record


def meter(store: TrendStore, key: ApiKey, at: float, default_limit: int) -> int:
    """Count the call; its number this month, or ``MonthlyLimit`` beyond the allowance (the
    refused call is counted too: it was made)."""
    calls = store.count_call(key.key_id, month(at))
    limit = key.monthly_calls or default_limit
    if calls > limit:
        raise MonthlyLimit(limit, next_month(at))
    return calls
