"""Stage ``settle_credits`` (trigger: ``tale.finished``): the tale's reservation is settled
when it completed and refunded when it failed or was cancelled.

Each is at most once per tale in the ledger, so redelivery changes nothing; a tale that was
never charged (submitted by an operator from the CLI) has no reservation and is left alone.
"""

from __future__ import annotations

from schemas.events import TaleFinished
from shared.observability.events import credits_changed
from shared.ports.ledger import Ledger
from shared.ports.store import TaleStore


def settle_credits(event: TaleFinished, ledger: Ledger, store: TaleStore) -> None:
    if event.outcome == "completed":
        if ledger.settle(event.tale_id):
            store.log(event.tale_id, "billing", "credits settled")
            credits_changed("credits.settled", event.tale_id)
    elif ledger.refund(event.tale_id):
        store.log(event.tale_id, "billing", f"credits refunded ({event.outcome})")
        credits_changed("credits.refunded", event.tale_id)
