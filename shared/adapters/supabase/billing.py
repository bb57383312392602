"""The billing book on Supabase: ``billing.*`` functions of
``supabase/migrations/20261222000000_payments.sql`` through their ``public`` wrappers.

``apply`` is one call of ``billing.apply_payment_event``, which does in one transaction what
``SqliteBilling.apply`` does (event id, compare-and-set of the state, plan, credits with the
withdrawal capped by the balance, accounting lines). Reads are plain selects with the
service-role key. Retries and the translation of refusals: ``SupabaseAdapter``.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any, cast

from shared.billing import state
from shared.domain.billing.account import Account
from shared.domain.billing.changes import Changes, Notice
from shared.ports.billing import BillingBook, Outcome, PaymentRecord

from .client import SupabaseAdapter, epoch
from .client import user_id as _user

RECORD_COLUMNS = (
    "user_id,kind,object_id,amount,currency,invoice_id,plan,credits,credits_lost,created_at"
)


class SupabaseBilling(SupabaseAdapter, BillingBook):
    def customer(self, user_id: str) -> str | None:
        uid = _user(user_id)
        rows = self._select(
            lambda: self.client.table("billing_accounts").select("customer_id").eq("user_id", uid)
        )
        return cast(str | None, rows[0]["customer_id"]) if rows else None

    def link_customer(self, user_id: str, customer_id: str, language: str | None = None) -> str:
        params = {"p_user": _user(user_id), "p_customer": customer_id, "p_language": language}
        return str(self._rpc("link_customer", params))

    def user_of(self, customer_id: str) -> str | None:
        rows = self._select(
            lambda: (
                self.client.table("billing_accounts")
                .select("user_id")
                .eq("customer_id", customer_id)
            )
        )
        return str(rows[0]["user_id"]) if rows else None

    def load(self, user_id: str) -> Account:
        uid = _user(user_id)
        row = cast(dict[str, Any], self._rpc("load_billing_account", {"p_user": uid}))
        return state.load(
            uid,
            row.get("state"),
            plan=str(row["plan"]),
            subscribed=bool(row["subscribed"]),
            language=row.get("language"),
            version=int(row["version"]),
        )

    def apply(
        self, event_id: str | None, event_type: str, version: int, changes: Changes
    ) -> Outcome:
        account = changes.account
        params = {
            "p_event": event_id,
            "p_type": event_type,
            "p_user": _user(account.user_id),
            "p_version": version,
            "p_state": json.loads(state.dump(account)),
            "p_plan": account.plan,
            "p_subscribed": account.subscribed,
            "p_records": [asdict(r) for r in changes.records],
            "p_notices": json.loads(state.dump_notices(changes.notices)),
        }
        return Outcome(str(self._rpc("apply_payment_event", params)))

    def mark(self, event_id: str, event_type: str) -> bool:
        return bool(self._rpc("mark_payment_event", {"p_event": event_id, "p_type": event_type}))

    def _event(self, event_id: str) -> list[Any]:
        return self._select(
            lambda: self.client.table("billing_events").select("notices").eq("event_id", event_id)
        )

    def processed(self, event_id: str) -> bool:
        return bool(self._event(event_id))

    def notices(self, event_id: str) -> list[Notice]:
        rows = self._event(event_id)
        return state.load_notices(rows[0]["notices"]) if rows else []

    def records(self, user_id: str | None = None, period: str | None = None) -> list[PaymentRecord]:
        def build() -> Any:
            query = self.client.table("payments").select(RECORD_COLUMNS)
            if user_id is not None:
                query = query.eq("user_id", _user(user_id))
            if period is not None:
                query = query.eq("period", period)
            return query.order("id")

        return [
            PaymentRecord(
                str(r["user_id"]),
                str(r["kind"]),
                str(r["object_id"]),
                int(r["amount"]),
                str(r["currency"]),
                r.get("invoice_id"),
                r.get("plan"),
                int(r["credits"]),
                int(r["credits_lost"]),
                epoch(r["created_at"]),
            )
            for r in self._select(build)
        ]
