"""Fetching and caching a JSON Web Key Set (Supabase: ``<issuer>/.well-known/jwks.json``).

Keys are cached by ``kid`` for ``ttl_s``. A token naming a ``kid`` that is not in the cache
triggers a refresh, but fetches (of any cause) happen at most once per ``min_refresh_s``, so a
flood of tokens with made-up key ids costs at most one request per interval.

Only asymmetric signing keys (``kty`` RSA or EC) are kept: a symmetric (``oct``) key published
in a key set is never used, so an HMAC secret can never be confused with a public key.

When a refresh fails (network error, non-200 answer, malformed document) keys already cached
keep being served; a key that is not cached is then reported with status 503.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import jwt

from shared.auth.errors import AuthError

ASYMMETRIC_KEY_TYPES = frozenset({"RSA", "EC"})

KEYS_UNAVAILABLE = "signing keys unavailable"


def jwks_url(issuer: str) -> str:
    """The JWKS address Supabase publishes for an issuer (``https://<ref>.supabase.co/auth/v1``)."""
    return issuer.rstrip("/") + "/.well-known/jwks.json"


class _FetchError(Exception):
    pass


def parse_jwks(document: object) -> dict[str, jwt.PyJWK]:
    """The usable signing keys of a JWKS document, by ``kid``.

    Entries that are not asymmetric signing keys, have no ``kid`` or cannot be parsed are
    skipped; an empty ``keys`` list is valid (a project that only signs with the legacy
    HS256 secret publishes one). A document that is not a key set raises ``ValueError``.
    """
    if not isinstance(document, Mapping) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JWK set")
    keys: dict[str, jwt.PyJWK] = {}
    for entry in document["keys"]:
        if not isinstance(entry, dict):
            continue
        kid = entry.get("kid")
        if not isinstance(kid, str) or not kid:
            continue
        if entry.get("kty") not in ASYMMETRIC_KEY_TYPES:
            continue
        if entry.get("use", "sig") != "sig":
            continue
        try:
            key = jwt.PyJWK(entry)
        except (jwt.PyJWTError, ValueError, TypeError):
            continue
        keys[kid] = key
    return keys


class JwksSource:
    """Signing keys from a JWKS URL, fetched over an injected ``httpx.Client``."""

    def __init__(
        self,
        url: str,
        client: httpx.Client,
        *,
        ttl_s: float = 600.0,
        min_refresh_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl_s <= 0 or min_refresh_s < 0:
            raise ValueError("ttl_s must be positive and min_refresh_s not negative")
        self.url = url
        self._client = client
        self._ttl_s = ttl_s
        self._min_refresh_s = min_refresh_s
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None

    def get(self, kid: str) -> jwt.PyJWK:
        """The key named ``kid``; ``AuthError`` 401 if unknown, 503 if keys can't be fetched."""
        with self._lock:
            now = self._clock()
            fresh = self._fetched_at is not None and now - self._fetched_at < self._ttl_s
            if fresh and kid in self._keys:
                return self._keys[kid]
            if self._may_fetch(now):
                self._attempted_at = now
                try:
                    self._keys = self._fetch()
                    self._fetched_at = now
                except _FetchError:
                    if kid in self._keys:  # keep serving what we had during an outage
                        return self._keys[kid]
                    raise AuthError(503, KEYS_UNAVAILABLE) from None
            if kid in self._keys:
                return self._keys[kid]
            if self._fetched_at is None:
                raise AuthError(503, KEYS_UNAVAILABLE)
            raise AuthError(401, "unknown signing key")

    def _may_fetch(self, now: float) -> bool:
        return self._attempted_at is None or now - self._attempted_at >= self._min_refresh_s

    def _fetch(self) -> dict[str, jwt.PyJWK]:
        try:
            response = self._client.get(self.url, headers={"Accept": "application/json"})
        except httpx.HTTPError as error:
            raise _FetchError(type(error).__name__) from error
        if response.status_code != 200:
            raise _FetchError(f"HTTP {response.status_code}")
        try:
            document: Any = response.json()
            return parse_jwks(document)
        except ValueError as error:  # includes json.JSONDecodeError and UnicodeDecodeError
            raise _FetchError("malformed JWKS") from error
