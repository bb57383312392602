"""The billing state as the book stores it: one JSON document per account.

Subscriptions, invoices and disputes are few per account (one invoice a month), so an
account's whole billing state is one document, loaded and replaced as a unit under its
version. Unknown keys are ignored and missing ones take their defaults, so a document written
by an earlier version still loads (one without disputes has none: the disputes it applied are
counted in their invoices' figures, and are never restored). Disputes keep their order, the
order they were opened in (``shared.domain.billing.withdrawals.settle`` shares credits out in it).
"""

from __future__ import annotations

import json
from dataclasses import asdict, fields, replace
from typing import Any, TypeVar, cast

from shared.domain.billing.account import Account, Dispute, Invoice, Subscription
from shared.domain.billing.changes import Notice
from shared.ports.ledger import Plan

T = TypeVar("T")


def _build(cls: type[T], raw: dict[str, Any]) -> T:
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in raw.items() if k in names})


def dump(account: Account) -> str:
    """The state of ``account`` (not its plan, language or version: the book keeps those)."""
    return json.dumps(
        {
            "subscriptions": [asdict(s) for s in account.subscriptions.values()],
            "invoices": [asdict(i) for i in account.invoices.values()],
            "disputes": [asdict(d) for d in account.disputes.values()],
        },
        sort_keys=True,
        separators=(",", ":"),
    )


def load(
    user_id: str,
    state: str | dict[str, Any] | None,
    *,
    plan: str,
    subscribed: bool,
    language: str | None,
    version: int,
) -> Account:
    raw: dict[str, Any] = json.loads(state) if isinstance(state, str) else dict(state or {})
    subs = [_build(Subscription, s) for s in raw.get("subscriptions", [])]
    invoices = [_build(Invoice, i) for i in raw.get("invoices", [])]
    disputes = [_build(Dispute, d) for d in raw.get("disputes", [])]
    return Account(
        user_id,
        cast(Plan, plan),
        subscribed,
        {s.id: s for s in subs},
        {i.id: i for i in invoices},
        language,
        version,
        {d.id: replace(d, lines=tuple(d.lines)) for d in disputes},
    )


def dump_notices(notices: tuple[Notice, ...] | list[Notice]) -> str:
    return json.dumps([asdict(n) for n in notices], separators=(",", ":"))


def load_notices(raw: str | list[Any] | None) -> list[Notice]:
    items: list[Any] = json.loads(raw) if isinstance(raw, str) else list(raw or [])
    return [_build(Notice, n) for n in items]
