"""Standard Webhooks verification (the scheme Supabase auth hooks use).

A delivery carries three headers: ``webhook-id``, ``webhook-timestamp`` (Unix seconds) and
``webhook-signature`` (one or more space-separated ``v1,<base64 HMAC-SHA256>`` entries). The
signed content is ``"{id}.{timestamp}.{body}"`` keyed with the base64-decoded secret
(``v1,whsec_<base64>`` as Supabase shows it, or bare ``whsec_<base64>``).

``WebhookVerifier.verify`` checks, in order: the headers, the timestamp window, the signature
(constant-time, any entry may match) and finally that the id was not seen before. The replay
guard only needs to remember an id until its timestamp leaves the tolerance window, after
which the timestamp check rejects it anyway.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import heapq
import hmac
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Protocol

__all__ = [
    "InMemoryReplayGuard",
    "ReplayGuard",
    "WebhookError",
    "WebhookVerifier",
    "parse_secret",
    "sign",
]

SECRET_PREFIX = "whsec_"
SECRET_VERSION = "v1,"
SIGNATURE_VERSION = "v1"
MAX_ID_CHARS = 256
MAX_SIGNATURES = 16
_TIMESTAMP = re.compile(r"[1-9][0-9]{0,11}")


class WebhookError(Exception):
    """A webhook delivery was rejected; ``reason`` says why (never the secret)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ReplayGuard(Protocol):
    def first_time(self, webhook_id: str, expires_at: float) -> bool:
        """Record ``webhook_id`` until ``expires_at`` (Unix seconds); False if already seen."""
        ...


class InMemoryReplayGuard:
    """A process-local ``ReplayGuard``; entries are dropped once they expire."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._expiry: dict[str, float] = {}
        self._heap: list[tuple[float, str]] = []

    def first_time(self, webhook_id: str, expires_at: float) -> bool:
        with self._lock:
            self._purge(self._clock())
            if webhook_id in self._expiry:
                return False
            self._expiry[webhook_id] = expires_at
            heapq.heappush(self._heap, (expires_at, webhook_id))
            return True

    def __len__(self) -> int:
        return len(self._expiry)

    def _purge(self, now: float) -> None:
        while self._heap and self._heap[0][0] <= now:
            expires_at, webhook_id = heapq.heappop(self._heap)
            if self._expiry.get(webhook_id) == expires_at:
                del self._expiry[webhook_id]


def parse_secret(secret: str) -> bytes:
    """The HMAC key of a ``v1,whsec_<base64>`` or ``whsec_<base64>`` secret."""
    if not isinstance(secret, str):
        raise ValueError("webhook secret must be a string like 'v1,whsec_<base64>'")
    value = secret.strip()
    value = value.removeprefix(SECRET_VERSION)
    if not value.startswith(SECRET_PREFIX):
        raise ValueError("webhook secret must look like 'v1,whsec_<base64>' or 'whsec_<base64>'")
    encoded = value[len(SECRET_PREFIX) :]
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("webhook secret after 'whsec_' is not valid base64") from None
    if len(key) < 16:
        raise ValueError("webhook secret is too short (need at least 16 bytes)")
    return key


def _signature(key: bytes, webhook_id: str, timestamp: int, body: bytes) -> str:
    content = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, content, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value (``v1,<base64>``) for one delivery."""
    return f"{SIGNATURE_VERSION},{_signature(parse_secret(secret), webhook_id, timestamp, body)}"


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() == name:
            if not isinstance(value, str) or not value.strip():
                break
            return value.strip()
    raise WebhookError(f"missing {name} header")


class WebhookVerifier:
    """Verifies Standard Webhooks deliveries signed with one secret."""

    def __init__(
        self,
        secret: str,
        *,
        tolerance_s: int = 300,
        clock: Callable[[], float] = time.time,
        seen: ReplayGuard | None = None,
    ) -> None:
        if tolerance_s <= 0:
            raise ValueError("tolerance_s must be positive")
        self._key = parse_secret(secret)
        self._tolerance_s = tolerance_s
        self._clock = clock
        self._seen: ReplayGuard = seen if seen is not None else InMemoryReplayGuard(clock)

    def verify(self, headers: Mapping[str, str], body: bytes) -> str:
        """Check one delivery; returns its ``webhook-id`` or raises ``WebhookError``."""
        webhook_id = _header(headers, "webhook-id")
        raw_timestamp = _header(headers, "webhook-timestamp")
        signatures = _header(headers, "webhook-signature")
        if len(webhook_id) > MAX_ID_CHARS:
            raise WebhookError("webhook-id too long")
        timestamp = self._timestamp(raw_timestamp)
        expected = _signature(self._key, webhook_id, timestamp, body).encode("ascii")
        if not self._any_matches(signatures, expected):
            raise WebhookError("no matching signature")
        if not self._seen.first_time(webhook_id, float(timestamp + self._tolerance_s)):
            raise WebhookError("replayed webhook-id")
        return webhook_id

    def _timestamp(self, raw: str) -> int:
        # Unix seconds as Standard Webhooks writes them: ASCII digits, no sign, no leading
        # zero, no fraction, no padding (one timestamp, one spelling: no signature variants).
        if not _TIMESTAMP.fullmatch(raw):
            raise WebhookError("invalid webhook-timestamp")
        timestamp = int(raw)
        now = self._clock()
        if timestamp < now - self._tolerance_s:
            raise WebhookError("webhook-timestamp too old")
        if timestamp > now + self._tolerance_s:
            raise WebhookError("webhook-timestamp in the future")
        return timestamp

    @staticmethod
    def _any_matches(header_value: str, expected: bytes) -> bool:
        entries = header_value.split()
        if len(entries) > MAX_SIGNATURES:
            raise WebhookError("too many signatures")
        matched = False
        for entry in entries:
            version, _, candidate = entry.partition(",")
            if version != SIGNATURE_VERSION or not candidate.isascii():
                continue
            # Compare every entry (no early exit) in constant time per entry.
            matched |= hmac.compare_digest(candidate.encode("ascii"), expected)
        return matched
