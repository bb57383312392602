"""``MemoryLedger``: the ``Ledger`` port in memory, for service tests.

It runs in the ledger contract suite next to the real adapters, so it cannot drift from them;
its admission applies the domain's rule (``shared.domain.admission``) under one lock.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Callable
from typing import get_args

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

PERIOD = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


class MemoryLedger(Ledger):
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        """When entries are made (a test moves it to age a reservation)."""
        self._lock = threading.Lock()
        self._profiles: dict[str, tuple[str, Plan]] = {}
        self._entries: list[LedgerEntry] = []
        self._admitted: dict[str, tuple[str, int, str]] = {}  # tale → (user, micro-$, period)
        self._extended: list[tuple[str, str, int, str]] = []  # (tale, user, micro-$, period)

    # -- reads (callers hold the lock) -------------------------------------------------------

    def _balance(self, user_id: str) -> int:
        return sum(e.amount for e in self._entries if e.user_id == user_id)

    def _of_tale(self, tale_id: str, *kinds: EntryKind) -> LedgerEntry | None:
        return next((e for e in self._entries if e.tale_id == tale_id and e.kind in kinds), None)

    def _closed(self, tale_id: str | None) -> bool:
        return self._of_tale(tale_id or "", "settle", "refund") is not None

    def _reserved(self, user_id: str, tale_id: str) -> bool:
        held = self._of_tale(tale_id, "reserve")
        if held is not None and held.user_id != user_id:
            raise ValueError(f"tale {tale_id} is reserved by another account")
        return held is not None

    def _add(self, user_id: str, kind: EntryKind, amount: int, tale: str | None = None) -> None:
        self._entries.append(LedgerEntry(user_id, kind, amount, tale, None, self.clock()))

    def _committed(self, user_id: str, period: str) -> int:
        admitted = [(user, micro, when) for user, micro, when in self._admitted.values()]
        extended = [(user, micro, when) for _, user, micro, when in self._extended]
        return sum(m for user, m, when in admitted + extended if (user, when) == (user_id, period))

    def _held(self, tale_id: str) -> admission.Held:
        credits = -sum(
            e.amount
            for e in self._entries
            if e.tale_id == tale_id and e.kind in ("reserve", "reserve_more")
        )
        micro = self._admitted.get(tale_id, ("", 0, ""))[1]
        micro += sum(m for tale, _, m, _ in self._extended if tale == tale_id)
        return admission.Held(credits, micro)

    # -- the port ----------------------------------------------------------------------------

    def ensure_profile(self, user_id: str, email: str, plan: Plan = "free") -> bool:
        uuid.UUID(user_id)
        with self._lock:
            if user_id in self._profiles:
                known, current = self._profiles[user_id]
                if email and not known:
                    self._profiles[user_id] = (email, current)
                return False
            self._profiles[user_id] = (email, plan)
            return True

    def profile(self, user_id: str) -> Profile | None:
        with self._lock:
            if user_id not in self._profiles:
                return None
            email, plan = self._profiles[user_id]
            return Profile(user_id, email, plan, self._balance(user_id))

    def set_plan(self, user_id: str, plan: Plan) -> None:
        if plan not in get_args(Plan):
            raise ValueError(f"unknown plan {plan!r}")
        with self._lock:
            if user_id not in self._profiles:
                raise LookupError(f"no profile for {user_id}")
            self._profiles[user_id] = (self._profiles[user_id][0], plan)

    def grant_monthly(self, user_id: str, period: str, amount: int) -> bool:
        if amount < 0 or not PERIOD.fullmatch(period):
            raise ValueError(f"a grant needs an amount ≥ 0 and a YYYY-MM period, not {period!r}")
        with self._lock:
            if user_id not in self._profiles:
                raise LookupError(f"no profile for {user_id}")
            if any(
                e.kind == "grant" and e.user_id == user_id and e.period == period
                for e in self._entries
            ):
                return False
            self._entries.append(LedgerEntry(user_id, "grant", amount, None, period, self.clock()))
            return True

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
        with self._lock:
            if self._reserved(user_id, tale_id):
                if self._closed(tale_id):
                    raise SubmissionExpired(tale_id)
                return False
            reserves = [e for e in self._entries if e.user_id == user_id and e.kind == "reserve"]
            running = sum(1 for e in reserves if not self._closed(e.tale_id))
            committed = self._committed(user_id, period)
            admission.check(admission.Standing(running, committed, self._balance(user_id)), request)
            self._add(user_id, "reserve", -credits, tale_id)
            self._admitted[tale_id] = (user_id, admission.micro_usd(estimate_usd), period)
            return True

    def reserve(self, user_id: str, tale_id: str, amount: int) -> bool:
        if amount <= 0:
            raise ValueError(f"a reservation must be positive, not {amount!r}")
        with self._lock:
            if self._reserved(user_id, tale_id):
                return False
            balance = self._balance(user_id)
            if balance < amount:
                raise InsufficientCredits(amount, balance)
            self._add(user_id, "reserve", -amount, tale_id)
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
        with self._lock:
            if not self._reserved(user_id, tale_id) or self._closed(tale_id):
                return False
            more, micro = admission.extend(
                self._held(tale_id),
                request,
                self._committed(user_id, period),
                self._balance(user_id),
            )
            if not more and not micro:
                return False
            self._add(user_id, "reserve_more", -more, tale_id)
            self._extended.append((tale_id, user_id, micro, period))
            return True

    def _close(self, tale_id: str, kind: EntryKind, cost: int | None = None) -> bool:
        if cost is not None and cost < 0:
            raise ValueError(f"a cost is ≥ 0, not {cost!r}")
        with self._lock:
            reserved = self._of_tale(tale_id, "reserve")
            if reserved is None or self._closed(tale_id):
                return False
            held = self._held(tale_id).credits
            kept = held if cost is None else min(held, cost)
            self._add(reserved.user_id, kind, held if kind == "refund" else held - kept, tale_id)
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
        with self._lock:
            found = sorted(
                (
                    OpenReservation(e.tale_id, e.user_id, -e.amount, e.at)
                    for e in self._entries
                    if e.kind == "reserve"
                    and e.tale_id is not None
                    and e.at < opened_before
                    and e.tale_id > after
                    and not self._closed(e.tale_id)
                ),
                key=lambda r: r.tale_id,
            )
            return found[:limit]

    def entries(self, user_id: str) -> list[LedgerEntry]:
        with self._lock:
            return [e for e in self._entries if e.user_id == user_id]
