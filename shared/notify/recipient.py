"""Who is told that a tale finished: its owner, at the address of the owner's profile.

A tale submitted through the API belongs to a user; the address is the one the sign-up
webhook or the user's access token put on their profile (the ledger). A tale of the operator
owner (``TALE_OWNER``: ``tale run`` and the other CLI commands submit as it) goes to
``TALE_OWNER_EMAIL``. No other address is ever used: a tale whose owner has no profile or no
address is not deliverable — it is never sent to the operator instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parseaddr

from shared.config import Settings
from shared.domain.tale import TaleRecord
from shared.ports.ledger import Ledger


@dataclass(frozen=True)
class Recipient:
    address: str | None
    """None: not deliverable (``why`` says why)."""
    why: str
    """Where the address comes from (without the user's address: it goes to logs), or why
    there is none."""


def is_address(text: str) -> bool:
    """One plain address (``name@domain``), nothing that could smuggle a header or a list."""
    name, address = parseaddr(text)
    local, at, domain = address.partition("@")
    return (
        bool(local and at and domain)
        and address == text.strip()
        and not name
        and not any(c in text for c in "\r\n,;<>")
    )


def recipient(tale: TaleRecord, settings: Settings, ledger: Ledger) -> Recipient:
    if tale.owner == settings.owner:
        if is_address(settings.owner_email):
            why = f"TALE_OWNER_EMAIL ({settings.owner_email}), an operator's run"
            return Recipient(settings.owner_email, why)
        return Recipient(None, f"operator run, but TALE_OWNER_EMAIL is {settings.owner_email!r}")
    try:
        profile = ledger.profile(tale.owner)
    except (ValueError, LookupError):  # an owner id that is no account (not a UUID)
        profile = None
    if profile is None:
        return Recipient(None, f"the owner {tale.owner} has no profile")
    if not profile.email:
        return Recipient(None, f"the owner {tale.owner}'s profile has no email address")
    if not is_address(profile.email):
        return Recipient(None, f"the owner {tale.owner}'s profile email is not an address")
    return Recipient(profile.email, "the address on the owner's profile")
