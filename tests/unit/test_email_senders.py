"""The SendGrid sender against a stand-in that refuses what SendGrid refuses
(``tests/sendgrid.py``): sent at most once per key, its failures mapped onto transient and
permanent errors; the notify stage with a sender that fails; the composition root's wiring."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from schemas.events import TaleFinished
from shared.adapters.email.sendgrid import SendGridTransport
from shared.adapters.email.sending import Outgoing, SendingNotifier
from shared.adapters.local.ledger import SqliteLedger
from shared.bootstrap import Container
from shared.config import Settings
from shared.domain.errors import PermanentError, TransientError
from shared.domain.tale import TaleState
from shared.ports.notifier import Message, Notification
from shared.pubsub_message import Envelope
from shared.registry import FUNCTIONS
from shared.stages.notify import notify_user
from tests.conftest import make_record, make_submission
from tests.fakes import InMemoryTaleStore, MemoryBlobs
from tests.sendgrid import API_KEY, SendGridStandIn

URL = "https://api.sendgrid.com/v3/mail/send"
SENDER = "Tale <noreply@tale.example>"
NOTE = Notification(
    tale_id="tale-0a1b2c3d4e",
    outcome="completed",
    to="mina@example.com",
    subject="“달빛 토끼” 영상이 완성되었습니다",
    text="완성되었습니다.\n",
    html='<!doctype html><html lang="ko"><p>완성되었습니다.</p></html>',
    language="ko",
)


class Marks:
    """One-time markers in a set (what the ``Claims`` port's ``marked``/``claim_once`` do)."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def marked(self, name: str) -> bool:
        return name in self.names

    def mark(self, name: str) -> bool:
        first = name not in self.names
        self.names.add(name)
        return first


@pytest.fixture
def sendgrid() -> SendGridStandIn:
    return SendGridStandIn()


def sender(
    stand_in: SendGridStandIn, marks: Marks | None = None, *, key: str = API_KEY, frm: str = SENDER
) -> SendingNotifier:
    marks = marks or Marks()
    transport = SendGridTransport(stand_in.client(), key, frm)
    return SendingNotifier(transport, marked=marks.marked, mark=marks.mark)


# -- the stand-in refuses what SendGrid refuses ----------------------------------------------


def test_the_stand_in_refuses_as_sendgrid_documents(sendgrid: SendGridStandIn) -> None:
    http = sendgrid.client()
    assert http.post(URL, json={}).status_code == 401  # no Authorization
    wrong = http.post(URL, json={}, headers={"Authorization": "Bearer SG.wrong"})
    assert wrong.status_code == 401
    assert wrong.json()["errors"][0]["message"].startswith("The provided authorization grant")
    auth = {"Authorization": f"Bearer {API_KEY}"}
    empty = http.post(URL, json={}, headers=auth)
    assert empty.status_code == 400
    errors = empty.json()["errors"]
    assert {"personalizations", "from", "content", "subject"} <= {e["field"] for e in errors}
    assert all(set(e) == {"field", "message", "help"} and e["message"] for e in errors)
    body = SendGridTransport(http, API_KEY, SENDER).body(Outgoing.of(NOTE))
    for missing in ("personalizations", "from", "content"):
        partial = {k: v for k, v in body.items() if k != missing}
        refused = http.post(URL, json=partial, headers=auth)
        assert refused.status_code == 400
        assert [e["field"] for e in refused.json()["errors"]] == [missing]
    backwards = {**body, "content": body["content"][::-1]}
    assert http.post(URL, json=backwards, headers=auth).status_code == 400
    not_json = http.post(URL, content=b"{", headers={**auth, "Content-Type": "application/json"})
    assert not_json.status_code == 400
    assert sendgrid.accepted == []
    accepted = http.post(URL, json=body, headers=auth)
    assert accepted.status_code == 202 and accepted.content == b""
    assert accepted.headers["X-Message-Id"]


# -- what the sender sends -------------------------------------------------------------------


def test_the_request_is_the_documented_mail_send_body(sendgrid: SendGridStandIn) -> None:
    where = sender(sendgrid).send(NOTE)
    assert where == "sendgrid:tale-0a1b2c3d4e-completed"
    (request,) = sendgrid.requests
    assert request.method == "POST" and str(request.url) == URL
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert request.headers["Content-Type"] == "application/json"
    (body,) = sendgrid.accepted
    assert body["personalizations"] == [{"to": [{"email": "mina@example.com"}]}]
    assert body["from"] == {"email": "noreply@tale.example", "name": "Tale"}
    assert body["subject"] == NOTE.subject
    assert body["content"] == [
        {"type": "text/plain", "value": NOTE.text},
        {"type": "text/html", "value": NOTE.html},
    ]
    # The key travels with the message, so a copy sent twice can be recognised.
    assert body["custom_args"] == {"tale_key": NOTE.key, "tale_id": NOTE.tale_id}
    assert body["headers"]["X-Tale-Key"] == NOTE.key


def test_a_redelivery_sends_once(sendgrid: SendGridStandIn) -> None:
    marks = Marks()
    first, second = sender(sendgrid, marks), sender(sendgrid, marks)  # two instances, one store
    assert first.send(NOTE) == second.send(NOTE)
    assert len(sendgrid.requests) == 1 and len(sendgrid.accepted) == 1
    assert marks.names == {f"notification:{NOTE.key}"}
    digest = Message("trends-KR-1", "mina@example.com", "Rising", "text", "<p>html</p>", "ko")
    first.send_message(digest)
    second.send_message(digest)
    assert len(sendgrid.accepted) == 2
    assert sendgrid.accepted[1]["custom_args"] == {"tale_key": "trends-KR-1"}


@pytest.mark.parametrize("fault", [429, 500, 502, 503, 504, 408])
def test_throttling_and_outages_are_transient(sendgrid: SendGridStandIn, fault: int) -> None:
    marks = Marks()
    sendgrid.faults.append(fault)
    with pytest.raises(TransientError, match=str(fault)):
        sender(sendgrid, marks).send(NOTE)
    assert marks.names == set()  # not recorded as sent: the redelivery sends it
    sender(sendgrid, marks).send(NOTE)
    assert len(sendgrid.accepted) == 1 and len(sendgrid.requests) == 2


@pytest.mark.parametrize(
    "error",
    [
        httpx.ReadTimeout("read timed out"),
        httpx.ConnectTimeout("connect timed out"),
        httpx.ConnectError("connection refused"),
        httpx.RemoteProtocolError("server disconnected"),
    ],
    ids=["read-timeout", "connect-timeout", "refused", "disconnected"],
)
def test_timeouts_and_connection_errors_are_transient(
    sendgrid: SendGridStandIn, error: Exception
) -> None:
    marks = Marks()
    sendgrid.faults.append(error)
    with pytest.raises(TransientError):
        sender(sendgrid, marks).send(NOTE)
    assert marks.names == set()


def test_refusals_are_permanent(sendgrid: SendGridStandIn) -> None:
    marks = Marks()
    with pytest.raises(PermanentError, match=r"\(401\).*authorization grant"):
        sender(sendgrid, marks, key="SG.revoked").send(NOTE)
    with pytest.raises(PermanentError, match=r"\(403\).*verified Sender Identity"):
        sender(sendgrid, marks, frm="Tale <someone@elsewhere.example>").send(NOTE)
    with pytest.raises(PermanentError, match=r"\(400\): from: The from object"):
        sender(sendgrid, marks, frm="Tale").send(NOTE)  # no address in the From setting
    sendgrid.faults.append(413)
    with pytest.raises(PermanentError, match="413"):
        sender(sendgrid, marks).send(NOTE)
    assert sendgrid.accepted == [] and marks.names == set()


def test_no_address_is_refused_before_any_request(sendgrid: SendGridStandIn) -> None:
    for to in ("", "not an address"):
        with pytest.raises(PermanentError, match="not an email address"):
            sender(sendgrid).send(Notification(**{**NOTE.__dict__, "to": to}))
    assert sendgrid.requests == []


# -- the notify stage with a real sender -------------------------------------------------------


class CrashAfterSend(InMemoryTaleStore):
    """The process dies after the email was accepted, before the stage recorded it."""

    crashes = 1

    def update(self, tale_id: str, **kw: Any) -> Any:
        if "email" in kw.get("outputs", {}) and self.crashes:
            self.crashes -= 1
            raise RuntimeError("killed after the send")
        return super().update(tale_id, **kw)


def finished_tale(tmp_path: Path, store: InMemoryTaleStore) -> SqliteLedger:
    store.create(make_record(), make_submission())
    store.transition("tale-000001", [TaleState.SUBMITTED], TaleState.CANCELLED, stage="cancelled")
    ledger = SqliteLedger(tmp_path / "ledger.db")
    ledger.ensure_profile("user-1", "mina@example.com")
    return ledger


MSG = Envelope(topic="tale.finished", message_id="m-1", data=b"")
EVENT = TaleFinished(tale_id="tale-000001", outcome="cancelled")


def test_a_tale_finished_redelivered_after_a_crash_sends_one_email(
    tmp_path: Path, sendgrid: SendGridStandIn
) -> None:
    store = CrashAfterSend()
    ledger = finished_tale(tmp_path, store)
    notifier = sender(sendgrid)
    with pytest.raises(RuntimeError, match="killed"):
        notify_user(EVENT, store, notifier, MemoryBlobs(), Settings(), MSG, ledger=ledger)
    notify_user(EVENT, store, notifier, MemoryBlobs(), Settings(), MSG, ledger=ledger)  # again
    notify_user(EVENT, store, notifier, MemoryBlobs(), Settings(), MSG, ledger=ledger)
    assert len(sendgrid.requests) == 1
    (body,) = sendgrid.accepted
    assert body["personalizations"][0]["to"] == [{"email": "mina@example.com"}]
    tale = store.find("tale-000001")
    assert tale is not None and tale.outputs["email"] == "sendgrid:tale-000001-cancelled"


def test_a_refused_email_is_recorded_and_the_tale_is_left_alone(
    tmp_path: Path, sendgrid: SendGridStandIn
) -> None:
    store = InMemoryTaleStore()
    ledger = finished_tale(tmp_path, store)
    notifier = sender(sendgrid, key="SG.revoked")
    for _ in range(2):  # a refusal is final: recorded once, not retried, not raised
        notify_user(EVENT, store, notifier, MemoryBlobs(), Settings(), MSG, ledger=ledger)
    assert len(sendgrid.requests) == 1
    tale = store.find("tale-000001")
    assert tale is not None and tale.state is TaleState.CANCELLED
    assert tale.outputs["email"].startswith("not delivered: SendGrid refused")
    (line,) = [e for e in store.events("tale-000001") if e.stage == "notify"]
    assert line.level == "warning" and "email not delivered (cancelled)" in line.message


def test_a_transient_failure_is_raised_for_redelivery(
    tmp_path: Path, sendgrid: SendGridStandIn
) -> None:
    store = InMemoryTaleStore()
    ledger = finished_tale(tmp_path, store)
    notifier = sender(sendgrid)
    sendgrid.faults.append(503)
    with pytest.raises(TransientError):
        notify_user(EVENT, store, notifier, MemoryBlobs(), Settings(), MSG, ledger=ledger)
    notify_user(EVENT, store, notifier, MemoryBlobs(), Settings(), MSG, ledger=ledger)
    assert len(sendgrid.accepted) == 1


def test_an_outbox_keeps_an_undeliverable_message_addressed_to_no_one() -> None:
    from email import message_from_bytes, policy

    from shared.adapters.local.outbox import BlobOutboxNotifier

    blobs = MemoryBlobs()
    no_one = Notification(**{**NOTE.__dict__, "to": ""})
    where = BlobOutboxNotifier(blobs, SENDER).keep_undeliverable(no_one, "no address")
    assert where.endswith("outbox/tale-0a1b2c3d4e-completed.eml")
    msg = message_from_bytes(
        blobs.objects["outbox/tale-0a1b2c3d4e-completed.eml"], policy=policy.default
    )
    assert msg["To"] is None and msg["X-Tale-Undeliverable"] == "no address"
    assert msg["From"] == SENDER


# -- wiring ------------------------------------------------------------------------------------


def test_the_composition_root_builds_the_configured_sender(
    tmp_path: Path, sendgrid: SendGridStandIn
) -> None:
    settings = Settings(
        home=tmp_path / "home",
        email_provider="sendgrid",
        email_api_key=API_KEY,
        email_from=SENDER,
    )
    notifier = Container(settings).notifier
    assert isinstance(notifier, SendingNotifier)
    assert isinstance(notifier.transport, SendGridTransport)
    notifier.transport.http = sendgrid.client()
    again = Container(settings).notifier  # another instance: the markers are shared state
    assert isinstance(again, SendingNotifier) and isinstance(again.transport, SendGridTransport)
    again.transport.http = sendgrid.client()
    notifier.send(NOTE)
    again.send(NOTE)
    assert len(sendgrid.accepted) == 1
    with pytest.raises(RuntimeError, match="TALE_EMAIL_API_KEY"):
        _ = Container(settings.model_copy(update={"email_api_key": None})).notifier
    with pytest.raises(RuntimeError, match="TALE_SMTP_HOST"):
        _ = Container(settings.model_copy(update={"email_provider": "smtp"})).notifier


def test_every_function_that_sends_email_can_reach_the_sent_markers() -> None:
    """A provider's sent-markers are ``claims`` (the composition root wires them), so every
    function that needs the notifier needs them too."""
    for spec in FUNCTIONS:
        if "notifier" in spec.needs:
            assert "claims" in spec.needs, spec.name
    notify = next(f for f in FUNCTIONS if f.name == "notify_user")
    assert "ledger" in notify.needs  # the owner's address is on their profile
