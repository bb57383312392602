"""Stage ``notify_user`` (trigger: ``tale.finished``): tell the owner, once per outcome.

The first message for an outcome claims the notification (duplicates drop themselves), the
notifier is idempotent per (tale, outcome), and a marker records that it was sent, so a
redelivered ``tale.finished`` sends nothing new.

The email goes to the owner (``shared.notify.recipient``: the address of the owner's profile;
``TALE_OWNER_EMAIL`` for an operator's run) in the tale's language. A tale whose owner has no
address, and an email the provider refuses for good, are recorded in the tale's event log as
not delivered — the tale itself is left as it is, and nothing goes to anyone else.
"""

from __future__ import annotations

from schemas.events import TaleFinished
from shared.config import Settings
from shared.domain import markers
from shared.domain.errors import PermanentError
from shared.notify.recipient import Recipient, recipient
from shared.notify.templates import render
from shared.observability.events import tale_finished
from shared.ports.blobs import BlobStore
from shared.ports.ledger import Ledger
from shared.ports.notifier import Notification, Notifier
from shared.ports.store import TaleStore
from shared.pubsub_message import Envelope
from shared.stages.common import require_tale

LINK_TTL_S = 7 * 24 * 3600
#: The outputs that are media in the blob store (``email`` records where a notice went).
MEDIA_OUTPUTS = ("video", "poster", "storyboard")


def notify_user(
    event: TaleFinished,
    store: TaleStore,
    notifier: Notifier,
    blobs: BlobStore,
    settings: Settings,
    envelope: Envelope,
    ledger: Ledger,
) -> None:
    marker = markers.notified(event.key)
    tale = require_tale(store, event.tale_id)
    if (
        marker in tale.markers
        or store.claim(event.tale_id, markers.handling(event.key), envelope.message_id)
        != envelope.message_id
    ):
        return
    links = (
        {
            name: blobs.signed_url(tale.outputs[name], LINK_TTL_S)
            for name in MEDIA_OUTPUTS
            if name in tale.outputs
        }
        if event.outcome == "completed"
        else {}
    )
    subject, text, html = render(tale, event.outcome, links)
    owner = recipient(tale, settings, ledger)
    notification = Notification(
        tale_id=tale.tale_id,
        outcome=event.outcome,
        to=owner.address or "",
        subject=subject,
        text=text,
        html=html,
        language=tale.language,
        revision=event.revision,
    )
    where, line, level = _deliver(notifier, notification, owner)
    store.update(tale.tale_id, outputs={"email": where})  # before the marker: a redelivery
    if store.mark(event.tale_id, marker):  # after it returns early, so this must not depend on it
        store.log(tale.tale_id, "notify", line, level)
        tale_finished(tale.tale_id, event.outcome, tale.error_stage, tale.error_reason)


def _deliver(
    notifier: Notifier, notification: Notification, owner: Recipient
) -> tuple[str, str, str]:
    """Send it to the owner: (where it went, the event-log line, its level). No address, or a
    refusal for good, is recorded instead of failing (retrying cannot help, and the tale's
    outcome stands); transient errors propagate, so the message is redelivered."""
    outcome = notification.outcome
    if owner.address is None:
        kept = notifier.keep_undeliverable(notification, owner.why)
        also = f"; kept at {kept}" if kept else ""
        line = f"email not deliverable ({outcome}): {owner.why}; nothing was sent{also}"
        return kept or "not deliverable", line, "warning"
    try:
        where = notifier.send(notification)
    except PermanentError as exc:
        return f"not delivered: {exc}", f"email not delivered ({outcome}): {exc}", "warning"
    return where, f"owner notified ({outcome}), to {owner.why}: {where}", "info"
