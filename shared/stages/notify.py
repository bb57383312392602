"""Stage ``notify_user`` (trigger: ``tale.finished``): tell the owner, once per outcome.

The first message for an outcome claims the notification (duplicates drop themselves), the
notifier is idempotent per (tale, outcome), and a marker records that it was sent, so a
redelivered ``tale.finished`` sends nothing new.
"""

from __future__ import annotations

from schemas.events import TaleFinished
from shared.config import Settings
from shared.envelope import Envelope
from shared.notify.templates import render
from shared.observability.events import tale_finished
from shared.ports.blobs import BlobStore
from shared.ports.notifier import Notification, Notifier
from shared.ports.store import TaleStore
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
) -> None:
    marker = f"notified:{event.key}"
    if (
        store.marked(marker)
        or store.claim(f"notify:{event.key}", envelope.message_id) != envelope.message_id
    ):
        return
    tale = require_tale(store, event.tale_id)
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
    where = notifier.send(
        Notification(
            tale_id=tale.tale_id,
            outcome=event.outcome,
            to=settings.owner_email,
            subject=subject,
            text=text,
            html=html,
            language=tale.language,
        )
    )
    store.update(tale.tale_id, outputs={"email": where})  # before the marker: a redelivery
    if store.claim_once(marker):  # after it returns early, so this must not depend on it
        store.log(tale.tale_id, "notify", f"owner notified ({event.outcome}): {where}")
        tale_finished(tale.tale_id, event.outcome, tale.error_stage, tale.error_reason)
