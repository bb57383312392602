"""The Ledger on Supabase.

Money moves only through the SQL functions of ``supabase/migrations/`` (``billing.*``, reached
through their ``public`` wrappers with supabase-py's ``rpc``): they lock the account's profile
row, are idempotent on the tale id or the period, and keep the ledger append-only. This
adapter adds no logic of its own beyond mapping their answers onto the port; profiles and
ledger entries are read with plain table selects, and the plan is changed with an update.

Requests run with the service-role key, so row-level security does not apply; the functions
are executable by that role only.

Transient failures (``httpx.TransportError``: connection refused or reset, timeouts; HTTP
502/503/504 from the gateway; PostgREST's own 503/504 codes ``PGRST000``–``PGRST003``) are
retried a bounded number of times with exponential backoff, then raised as
``TransientError``. Retrying is safe because every operation is idempotent; the one thing a
retry can blur is the "this call did it" flag: when an attempt committed but its answer was
lost, the retry reports ``False`` ("already done").
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast, get_args

import httpx
from postgrest.exceptions import APIError

from shared.domain.errors import TransientError
from shared.ports.ledger import (
    EntryKind,
    InsufficientCredits,
    Ledger,
    LedgerEntry,
    Plan,
    Profile,
)

if TYPE_CHECKING:
    from supabase import Client

T = TypeVar("T")

RETRY_HTTP_STATUSES = frozenset({"502", "503", "504"})
"""An ``APIError`` from a non-JSON error page carries the HTTP status as its code."""
RETRY_POSTGREST_CODES = frozenset({"PGRST000", "PGRST001", "PGRST002", "PGRST003"})
"""PostgREST's 503/504 answers: no database connection, pool timeout, schema cache not ready."""
INVALID_INPUT_CODES = frozenset({"22023", "22P02", "22001", "23505", "23514"})
"""Invalid parameter value, invalid text representation, too long, unique violation (a tale
reserved by another account), check violation."""
MISSING_CODES = frozenset({"23503", "P0002"})
"""Foreign key violation (no such auth user), no data found (no such profile)."""

PLANS: frozenset[str] = frozenset(get_args(Plan))
KINDS: frozenset[str] = frozenset(get_args(EntryKind))
ENTRY_COLUMNS = "id,user_id,kind,amount,tale_id,period,created_at"
PAGE_SIZE = 1000  # Supabase's default max_rows; a lower server limit only means more pages


def is_transient(exc: BaseException) -> bool:
    """Whether a failed request is worth repeating."""
    if isinstance(exc, httpx.TransportError):
        return True
    if isinstance(exc, APIError):
        return exc.code in RETRY_HTTP_STATUSES or exc.code in RETRY_POSTGREST_CODES
    return False


def _user(user_id: str) -> str:
    """Account ids are Supabase Auth user ids: UUIDs."""
    try:
        return str(uuid.UUID(user_id))
    except (ValueError, TypeError, AttributeError) as exc:
        raise ValueError(f"a user id must be a UUID, not {user_id!r}") from exc


def _timestamp(value: object) -> float:
    if isinstance(value, int | float):
        return float(value)
    return datetime.fromisoformat(str(value)).timestamp()


def _rows(data: object) -> list[Mapping[str, Any]]:
    if not isinstance(data, list):
        raise TypeError(f"expected rows from PostgREST, got {type(data).__name__}")
    return [cast(Mapping[str, Any], row) for row in data]


class SupabaseLedger(Ledger):
    """Ledger over a ``supabase.Client`` created with the service-role key."""

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
        cls, url: str, service_key: str, *, timeout_s: float = 10.0, **kw: Any
    ) -> SupabaseLedger:
        """A ledger whose client is created on first use (``supabase.create_client``)."""

        def build() -> Client:
            from supabase import ClientOptions, create_client

            options = ClientOptions(
                # Our own HTTP client: the timeout is set here (postgrest-py deprecates its
                # own), and retries are this adapter's, so postgrest-py's are switched off.
                httpx_client=httpx.Client(timeout=timeout_s),
                postgrest_client_retry=False,
                auto_refresh_token=False,
                persist_session=False,
            )
            return create_client(url, service_key, options=options)

        return cls(factory=build, **kw)

    @property
    def client(self) -> Client:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    assert self._factory is not None
                    self._client = self._factory()
        return self._client

    # -- the port --------------------------------------------------------------------------

    def ensure_profile(self, user_id: str, email: str, plan: Plan = "free") -> bool:
        if plan not in PLANS:
            raise ValueError(f"unknown plan {plan!r}")
        params = {"p_user": _user(user_id), "p_email": email, "p_plan": plan}
        return bool(self._rpc("ensure_profile", params))

    def profile(self, user_id: str) -> Profile | None:
        uid = _user(user_id)
        rows = self._select(
            lambda: self.client.table("profiles").select("id,email,plan").eq("id", uid)
        )
        if not rows:
            return None
        row = rows[0]
        return Profile(
            user_id=str(row["id"]),
            email=str(row.get("email") or ""),
            plan=cast(Plan, row["plan"]),
            balance=self._balance(uid),
        )

    def set_plan(self, user_id: str, plan: Plan) -> None:
        if plan not in PLANS:
            raise ValueError(f"unknown plan {plan!r}")
        uid = _user(user_id)
        rows = self._select(
            lambda: self.client.table("profiles").update({"plan": plan}).eq("id", uid)
        )
        if not rows:
            raise LookupError(f"no profile for {uid}")

    def grant_monthly(self, user_id: str, period: str, amount: int) -> bool:
        params = {"p_user": _user(user_id), "p_period": period, "p_amount": amount}
        return bool(self._rpc("grant_monthly", params))

    def reserve(self, user_id: str, tale_id: str, amount: int) -> bool:
        uid = _user(user_id)
        answer = self._rpc(
            "reserve_credits", {"p_user": uid, "p_tale": tale_id, "p_amount": amount}
        )
        if answer == "reserved":
            return True
        if answer == "already_reserved":
            return False
        if answer == "insufficient":
            raise InsufficientCredits(amount, self._balance(uid))
        raise RuntimeError(f"reserve_credits answered {answer!r}")

    def settle(self, tale_id: str) -> bool:
        return bool(self._rpc("settle_credits", {"p_tale": tale_id}))

    def refund(self, tale_id: str) -> bool:
        return bool(self._rpc("refund_credits", {"p_tale": tale_id}))

    def entries(self, user_id: str) -> list[LedgerEntry]:
        uid = _user(user_id)
        out: list[LedgerEntry] = []
        after = 0
        while page := self._entries_page(uid, after):  # keyset pages until one is empty
            for row in page:
                kind = str(row["kind"])
                if kind not in KINDS:
                    raise ValueError(f"unknown ledger entry kind {kind!r}")
                out.append(
                    LedgerEntry(
                        user_id=str(row["user_id"]),
                        kind=cast(EntryKind, kind),
                        amount=int(row["amount"]),
                        tale_id=row.get("tale_id"),
                        period=row.get("period"),
                        at=_timestamp(row["created_at"]),
                    )
                )
            after = int(page[-1]["id"])
        return out

    # -- requests --------------------------------------------------------------------------

    def _entries_page(self, uid: str, after: int) -> list[Mapping[str, Any]]:
        return self._select(
            lambda: (
                self.client.table("credit_ledger")
                .select(ENTRY_COLUMNS)
                .eq("user_id", uid)
                .gt("id", after)
                .order("id")
                .limit(PAGE_SIZE)
            )
        )

    def _balance(self, uid: str) -> int:
        return int(cast(int, self._rpc("balance", {"p_user": uid})))

    def _rpc(self, name: str, params: Mapping[str, object]) -> object:
        return self._call(lambda: self.client.rpc(name, dict(params)).retry(False).execute().data)

    def _select(self, build: Callable[[], Any]) -> list[Mapping[str, Any]]:
        """Run a table request (select or update) built by ``build``; its rows."""
        return _rows(self._call(lambda: build().retry(False).execute().data))

    def _call(self, request: Callable[[], T]) -> T:
        """Run ``request``, retrying transient failures; map the database's refusals."""
        for attempt in range(1, self._attempts + 1):
            try:
                return request()
            except (httpx.TransportError, APIError) as exc:
                if not is_transient(exc):
                    translated = _translate(exc)
                    if translated is exc:
                        raise
                    raise translated from exc
                if attempt == self._attempts:
                    raise TransientError(
                        f"Supabase unavailable after {attempt} attempts: {exc!r}"
                    ) from exc
                self._sleep(self._backoff_s * 2 ** (attempt - 1))
        raise AssertionError("unreachable")


def _translate(exc: Exception) -> Exception:
    """Invalid input becomes ``ValueError``, a missing account ``LookupError``; the rest
    stays as it is."""
    if isinstance(exc, APIError):
        if exc.code in INVALID_INPUT_CODES:
            return ValueError(exc.message or str(exc))
        if exc.code in MISSING_CODES:
            return LookupError(exc.message or str(exc))
    return exc
