"""Business API keys for reading trends programmatically (``X-API-Key`` on ``GET /v1/trends``).

A key is ``tsk_`` followed by 43 URL-safe characters (256 random bits). It is shown once, when
issued; the store keeps only its SHA-256 (a lookup key — with 256 random bits a fast hash is
the right tool: there is nothing to brute-force), with a public id (``key-…``) for listing
and revoking. A revoked, unknown or malformed key is refused the same way (401), without
saying which. Each key has its own rate limit (requests a minute).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time

from shared.ports.trends import TrendStore
from shared.trends.models import ApiKey

PREFIX = "tsk_"
_FORMAT = re.compile(r"^tsk_[A-Za-z0-9_-]{43}$")


class InvalidApiKey(Exception):
    """Unknown, revoked or malformed (deliberately not said which)."""


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def issue(store: TrendStore, name: str, rate_per_minute: int) -> tuple[str, ApiKey]:
    """A new key: (the key itself — show it once — and its stored record)."""
    key = PREFIX + secrets.token_urlsafe(32)
    record = ApiKey(
        key_id=f"key-{secrets.token_hex(5)}",
        name=name,
        key_hash=key_hash(key),
        created_at=time.time(),
        rate_per_minute=rate_per_minute,
    )
    store.add_key(record)
    return key, record


def verify(store: TrendStore, presented: str) -> ApiKey:
    """The key's record; ``InvalidApiKey`` unless it is well-formed, known and not revoked."""
    if not _FORMAT.match(presented):
        raise InvalidApiKey("invalid API key")
    record = store.key_by_hash(key_hash(presented))
    if record is None or record.revoked:
        raise InvalidApiKey("invalid API key")
    return record
