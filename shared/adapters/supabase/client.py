"""What the Supabase adapters share: the client, retries, the translation of refusals, and the
conversion of PostgREST's values.

``SupabaseAdapter`` holds a ``supabase.Client`` created with the service-role key (given, or
built on first use by ``from_settings``) and runs every request through ``_call``:

* transient failures (``httpx.TransportError``: connection refused or reset, timeouts; HTTP
  502/503/504 from the gateway; PostgREST's own 503/504 codes ``PGRST000``–``PGRST003``) are
  retried a bounded number of times with exponential backoff, then raised as
  ``TransientError``; adapters only send requests that are safe to repeat;
* the database's refusals become the ports' exceptions: invalid input ``ValueError``, a
  missing row that the request refers to ``LookupError``; any other ``APIError`` is raised
  as it is.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

import httpx
from postgrest.exceptions import APIError

from shared.domain.errors import TransientError

if TYPE_CHECKING:
    from supabase import Client

T = TypeVar("T")

RETRY_HTTP_STATUSES = frozenset({"502", "503", "504"})
"""An ``APIError`` from a non-JSON error page carries the HTTP status as its code."""
RETRY_POSTGREST_CODES = frozenset({"PGRST000", "PGRST001", "PGRST002", "PGRST003"})
"""PostgREST's 503/504 answers: no database connection, pool timeout, schema cache not ready."""
INVALID_INPUT_CODES = frozenset({"22023", "22P02", "22001", "23505", "23514"})
"""Invalid parameter value, invalid text representation, too long, unique violation (e.g. a
tale reserved by another account), check violation."""
MISSING_CODES = frozenset({"23503", "P0002"})
"""Foreign key violation (e.g. no such auth user or profile), no data found."""


def is_transient(exc: BaseException) -> bool:
    """Whether a failed request is worth repeating."""
    if isinstance(exc, httpx.TransportError):
        return True
    if isinstance(exc, APIError):
        return exc.code in RETRY_HTTP_STATUSES or exc.code in RETRY_POSTGREST_CODES
    return False


def translate(exc: Exception) -> Exception:
    """Invalid input becomes ``ValueError``, a missing referenced row ``LookupError``; the
    rest stays as it is."""
    if isinstance(exc, APIError):
        if exc.code in INVALID_INPUT_CODES:
            return ValueError(exc.message or str(exc))
        if exc.code in MISSING_CODES:
            return LookupError(exc.message or str(exc))
    return exc


def create_client(
    url: str, service_key: str, *, timeout_s: float = 10.0, http: httpx.Client | None = None
) -> Client:
    """A ``supabase.Client`` for the adapters: our own HTTP client carries the timeout
    (postgrest-py deprecates its own) — ``http``, the composition root's (through scenario B's
    egress guard), which every sub-client (PostgREST, auth, storage, functions) shares — and
    postgrest-py's retries are off (ours run instead)."""
    from supabase import ClientOptions
    from supabase import create_client as supabase_create_client

    options = ClientOptions(
        httpx_client=http if http is not None else httpx.Client(timeout=timeout_s),
        postgrest_client_retry=False,
        auto_refresh_token=False,
        persist_session=False,
    )
    return supabase_create_client(url, service_key, options=options)


def user_id(value: str) -> str:
    """Account ids are Supabase Auth user ids: UUIDs."""
    try:
        return str(uuid.UUID(value))
    except (ValueError, TypeError, AttributeError) as exc:
        raise ValueError(f"a user id must be a UUID, not {value!r}") from exc


def epoch(value: object) -> float:
    """A ``timestamptz`` as PostgREST sends it (ISO 8601) → seconds since the epoch."""
    if isinstance(value, int | float):
        return float(value)
    return datetime.fromisoformat(str(value)).timestamp()


def timestamptz(seconds: float) -> str:
    """Seconds since the epoch → an ISO 8601 ``timestamptz`` in UTC (microseconds, as
    PostgreSQL keeps them)."""
    return datetime.fromtimestamp(seconds, tz=UTC).isoformat(timespec="microseconds")


def rows(data: object) -> list[Mapping[str, Any]]:
    if not isinstance(data, list):
        raise TypeError(f"expected rows from PostgREST, got {type(data).__name__}")
    return [cast(Mapping[str, Any], row) for row in data]


class SupabaseAdapter:
    """An adapter over a ``supabase.Client`` created with the service-role key."""

    def __init__(
        self,
        client: Client | None = None,
        *,
        factory: Callable[[], Client] | None = None,
        attempts: int = 3,
        backoff_s: float = 0.2,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if (client is None) == (factory is None):
            raise TypeError("give either a client or a factory")
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self._client = client
        self._factory = factory
        self._lock = threading.Lock()
        self._attempts = attempts
        self._backoff_s = backoff_s
        self._sleep = sleep

    @classmethod
    def from_settings(
        cls,
        url: str,
        service_key: str,
        *,
        timeout_s: float = 10.0,
        http: Callable[[], httpx.Client] | None = None,
        **kw: Any,
    ) -> Self:
        """An adapter whose client is created on first use (``supabase.create_client``), over
        the HTTP client ``http`` makes (the composition root's egress policy)."""

        def build() -> Client:
            client = http() if http is not None else None
            return create_client(url, service_key, timeout_s=timeout_s, http=client)

        return cls(factory=build, **kw)

    @property
    def client(self) -> Client:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    assert self._factory is not None
                    self._client = self._factory()
        return self._client

    def _rpc(self, name: str, params: Mapping[str, object]) -> object:
        return self._call(lambda: self.client.rpc(name, dict(params)).retry(False).execute().data)

    def _select(self, build: Callable[[], Any]) -> list[Mapping[str, Any]]:
        """Run a table request (select, insert, upsert or update) built by ``build``; the rows
        it answers with."""
        return rows(self._call(lambda: build().retry(False).execute().data))

    def _call(self, request: Callable[[], T]) -> T:
        """Run ``request``, retrying transient failures; map the database's refusals."""
        for attempt in range(1, self._attempts + 1):
            try:
                return request()
            except (httpx.TransportError, APIError) as exc:
                if not is_transient(exc):
                    translated = translate(exc)
                    if translated is exc:
                        raise
                    raise translated from exc
                if attempt == self._attempts:
                    raise TransientError(
                        f"Supabase unavailable after {attempt} attempts: {exc!r}"
                    ) from exc
                self._sleep(self._backoff_s * 2 ** (attempt - 1))
        raise AssertionError("unreachable")
