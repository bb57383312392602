"""The Ledger on Supabase.

Money moves only through the SQL functions of ``supabase/migrations/`` (``billing.*``, reached
through their ``public`` wrappers with supabase-py's ``rpc``): they lock the account's profile
row, are idempotent on the tale id or the period, and keep the ledger append-only. This
adapter adds no logic of its own beyond mapping their answers onto the port (``admit_tale``'s
refusals, raised with SQLSTATEs ``TA001``–``TA003`` and their figures as JSON in the detail,
become the domain's errors); profiles and ledger entries are read with plain table selects,
and the plan is changed with an update.

Requests run with the service-role key, so row-level security does not apply; the functions
are executable by that role only.

Transient failures (``httpx.TransportError``: connection refused or reset, timeouts; HTTP
502/503/504 from the gateway; PostgREST's own 503/504 codes ``PGRST000``–``PGRST003``) are
retried a bounded number of times with exponential backoff, then raised as
``TransientError``. Retrying is safe because every operation is idempotent; the one thing a
retry can blur is the "this call did it" flag: when an attempt committed but its answer was
lost, the retry reports ``False`` ("already done"). The client, the retries and the
translation of refusals are shared with the other Supabase adapters (``client.py``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast, get_args

from postgrest.exceptions import APIError

from shared.domain import admission
from shared.domain.errors import SpendingCapExceeded, SubmissionExpired, TooManyRunningTales
from shared.ports.ledger import (
    EntryKind,
    InsufficientCredits,
    Ledger,
    LedgerEntry,
    OpenReservation,
    Plan,
    Profile,
)

from .client import SupabaseAdapter, epoch, rows, timestamptz
from .client import user_id as _user

PLANS: frozenset[str] = frozenset(get_args(Plan))
KINDS: frozenset[str] = frozenset(get_args(EntryKind))
ENTRY_COLUMNS = "id,user_id,kind,amount,tale_id,period,created_at"
PAGE_SIZE = 1000  # Supabase's default max_rows; a lower server limit only means more pages
REFUSALS = frozenset({"TA001", "TA002", "TA003", "TA004"})
"""``billing.admit_tale``'s refusals (``supabase/migrations/20261216000000_admission.sql``;
TA004, a closed reservation: ``…_orphan_reservations.sql``), and
``billing.reserve_more_credits``'s (TA002, TA003: ``…_storyboard_edits.sql``)."""


class SupabaseLedger(SupabaseAdapter, Ledger):
    """Ledger over a ``supabase.Client`` created with the service-role key (the client,
    retries and error translation: ``SupabaseAdapter``)."""

    # -- the port --------------------------------------------------------------------------

    def ensure_profile(self, user_id: str, email: str, plan: Plan = "free") -> bool:
        if plan not in PLANS:
            raise ValueError(f"unknown plan {plan!r}")
        params = {"p_user": _user(user_id), "p_email": email, "p_plan": plan}
        return bool(self._rpc("ensure_profile", params))

    def profile(self, user_id: str) -> Profile | None:
        uid = _user(user_id)
        rows = self._select(
            lambda: self.client.table("profiles").select("id,email,plan,subscribed").eq("id", uid)
        )
        if not rows:
            return None
        row = rows[0]
        return Profile(
            user_id=str(row["id"]),
            email=str(row.get("email") or ""),
            plan=cast(Plan, row["plan"]),
            balance=self._balance(uid),
            subscribed=bool(row.get("subscribed")),
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
        admission.Request(credits, estimate_usd, period, cap_usd, max_running)  # checks
        params = {
            "p_user": _user(user_id),
            "p_tale": tale_id,
            "p_credits": credits,
            "p_estimate_micro_usd": admission.micro_usd(estimate_usd),
            "p_period": period,
            "p_cap_micro_usd": admission.micro_usd(cap_usd),
            "p_max_running": max_running,
        }
        try:
            return bool(self._rpc("admit_tale", params))
        except APIError as exc:
            if exc.code in REFUSALS:
                raise refusal(exc, cap_usd) from exc
            raise

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
        admission.Extension(version, credits, estimate_usd, period, cap_usd)  # checks
        params = {
            "p_user": _user(user_id),
            "p_tale": tale_id,
            "p_version": version,
            "p_credits": credits,
            "p_estimate_micro_usd": admission.micro_usd(estimate_usd),
            "p_period": period,
            "p_cap_micro_usd": admission.micro_usd(cap_usd),
        }
        try:
            return bool(self._rpc("reserve_more_credits", params))
        except APIError as exc:
            if exc.code in REFUSALS:
                raise refusal(exc, cap_usd) from exc
            raise

    def settle(self, tale_id: str, cost: int | None = None) -> bool:
        if cost is not None and cost < 0:
            raise ValueError(f"a cost is ≥ 0, not {cost!r}")
        return bool(self._rpc("settle_credits", {"p_tale": tale_id, "p_cost": cost}))

    def refund(self, tale_id: str) -> bool:
        return bool(self._rpc("refund_credits", {"p_tale": tale_id}))

    def open_reservations(
        self, opened_before: float, *, after: str = "", limit: int = 500
    ) -> list[OpenReservation]:
        if limit < 1:
            raise ValueError(f"a page holds at least one reservation, not {limit!r}")
        params = {"p_before": timestamptz(opened_before), "p_after": after, "p_limit": limit}
        return [
            OpenReservation(
                tale_id=str(row["tale_id"]),
                user_id=str(row["user_id"]),
                credits=int(row["credits"]),
                opened_at=epoch(row["opened_at"]),
            )
            for row in rows(self._rpc("open_reservations", params))
        ]

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
                        at=epoch(row["created_at"]),
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


def refusal(exc: APIError, cap_usd: float) -> Exception:
    """A refusal of ``admit_tale`` or ``reserve_more_credits`` (its figures are a JSON object
    in ``details``) as the domain's error."""
    figures = json.loads(exc.details or "{}")
    if exc.code == "TA004":
        return SubmissionExpired(str(figures["tale"]))
    if exc.code == "TA001":
        return TooManyRunningTales(int(figures["running"]), int(figures["limit"]))
    if exc.code == "TA002":
        return SpendingCapExceeded(
            admission.usd(int(figures["estimate_micro_usd"])),
            admission.usd(int(figures["committed_micro_usd"])),
            cap_usd,
            str(figures["period"]),
        )
    return InsufficientCredits(int(figures["needed"]), int(figures["balance"]))
