"""Stage ``settle_credits`` (trigger: ``tale.finished``): the tale's reservation is settled
when it completed and refunded when it failed or was cancelled.

Each is at most once per tale in the ledger, so redelivery changes nothing; a tale that was
never charged (submitted by an operator from the CLI) has no reservation and is left alone.
A completed tale keeps what its storyboard costs: what it holds beyond that (its storyboard
was edited to fewer or shorter shots before approval) is returned with the settlement.
"""

from __future__ import annotations

from schemas.events import TaleFinished
from shared.domain.credits import ledger_key, seconds_cost
from shared.observability.events import credits_changed
from shared.ports.ledger import Ledger
from shared.ports.store import TaleStore


def settle_credits(event: TaleFinished, ledger: Ledger, store: TaleStore) -> None:
    key = ledger_key(event.tale_id, event.revision)
    what = f" for revision {event.revision}" if event.revision else ""
    if event.outcome == "completed":
        cost = _storyboard_cost(store, event.tale_id) if event.revision == 0 else None
        if ledger.settle(key, cost):
            at = f" at {cost} credits" if cost is not None else ""
            store.log(event.tale_id, "billing", f"credits settled{what}{at}")
            credits_changed("credits.settled", key)
    elif ledger.refund(key):
        store.log(event.tale_id, "billing", f"credits refunded{what} ({event.outcome})")
        credits_changed("credits.refunded", key)


def _storyboard_cost(store: TaleStore, tale_id: str) -> int | None:
    """What the tale's storyboard costs (the first cut is settled under the tale's key; each
    revision keeps what it was admitted with)."""
    plan = store.plan(tale_id)
    return None if plan is None else seconds_cost(plan.total_seconds)
