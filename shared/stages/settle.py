"""Stage ``settle_credits`` (trigger: ``tale.finished``): the tale's reservation is settled
when it completed and refunded when it failed or was cancelled.

Each is at most once per tale in the ledger, so redelivery changes nothing; a tale that was
never charged (submitted by an operator from the CLI) has no reservation and is left alone.
"""

from __future__ import annotations

from schemas.events import TaleFinished
from shared.domain.credits import ledger_key
from shared.observability.events import credits_changed
from shared.ports.ledger import Ledger
from shared.ports.store import TaleStore


def settle_credits(event: TaleFinished, ledger: Ledger, store: TaleStore) -> None:
    key = ledger_key(event.tale_id, event.revision)
    what = f" for revision {event.revision}" if event.revision else ""
    if event.outcome == "completed":
        if ledger.settle(key):
            store.log(event.tale_id, "billing", f"credits settled{what}")
            credits_changed("credits.settled", key)
    elif ledger.refund(key):
        store.log(event.tale_id, "billing", f"credits refunded{what} ({event.outcome})")
        credits_changed("credits.refunded", key)
