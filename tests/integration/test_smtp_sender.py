"""The SMTP sender against a real SMTP server (aiosmtpd) started here: STARTTLS with a
certificate made for the test, a login, the message as it arrives, one message for two
deliveries, and how the relay's replies are mapped onto transient and permanent errors."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from shared.adapters.email.sending import SendingNotifier
from shared.adapters.email.smtp import SmtpTransport
from shared.domain.errors import PermanentError, TransientError
from shared.ports.notifier import Notification

SENDER = "Tale <noreply@tale.example>"
LOGIN, PASSWORD = "tale", "relay-password"
NOTE = Notification(
    tale_id="tale-0a1b2c3d4e",
    outcome="completed",
    to="mina@example.com",
    subject="“달빛 토끼” 영상이 완성되었습니다",
    text="완성되었습니다.\n",
    html='<!doctype html><html lang="ko"><p>완성되었습니다.</p></html>',
    language="ko",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost: (certificate, key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tale test relay")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "relay.crt", folder / "relay.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class Relay:
    """The server's handler: keeps what arrives; ``rcpt``/``data`` replies are answered first."""

    port: int = 0
    ca_file: Path | None = None
    messages: list[EmailMessage] = field(default_factory=list)
    sessions: list[tuple[bool, bool]] = field(default_factory=list)
    rcpt: list[str] = field(default_factory=list)
    data: list[str] = field(default_factory=list)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.rcpt:
            return self.rcpt.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data:
            return self.data.pop(0)
        msg = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        self.sessions.append((session.ssl is not None, bool(session.authenticated)))
        return "250 Message accepted for delivery"


def _authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == LOGIN.encode()
        and auth_data.password == PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535


@pytest.fixture
def relay(tmp_path: Path) -> Iterator[Relay]:
    """A relay that requires STARTTLS before anything and a login before mail."""
    cert, key = certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    handler = Relay(port=free_port(), ca_file=cert)
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=handler.port,
        tls_context=context,
        require_starttls=True,
        authenticator=_authenticate,
        auth_required=True,
        auth_require_tls=True,
    )
    controller.start()
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture
def plain_relay() -> Iterator[Relay]:
    """A relay that offers no STARTTLS (and needs no login)."""
    handler = Relay(port=free_port())
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port)
    controller.start()
    try:
        yield handler
    finally:
        controller.stop()


class Marks:
    def __init__(self) -> None:
        self.names: set[str] = set()

    def marked(self, name: str) -> bool:
        return name in self.names

    def mark(self, name: str) -> bool:
        first = name not in self.names
        self.names.add(name)
        return first


def transport(relay: Relay, **kw: Any) -> SmtpTransport:
    options: dict[str, Any] = {
        "sender": SENDER,
        "username": LOGIN,
        "password": PASSWORD,
        "ca_file": relay.ca_file,
        "timeout_s": 5.0,
        **kw,
    }
    return SmtpTransport("127.0.0.1", relay.port, **options)


def notifier(relay: Relay, marks: Marks | None = None, **kw: Any) -> SendingNotifier:
    marks = marks or Marks()
    return SendingNotifier(transport(relay, **kw), marked=marks.marked, mark=marks.mark)


def test_starttls_login_and_the_message_as_it_arrives(relay: Relay) -> None:
    where = notifier(relay).send(NOTE)
    assert where == "smtp:<tale-0a1b2c3d4e-completed@tale.example>"
    (msg,) = relay.messages
    assert relay.sessions == [(True, True)]  # upgraded to TLS, then logged in
    assert msg["To"] == "mina@example.com" and msg["From"] == SENDER
    assert msg["Subject"] == NOTE.subject and msg["Content-Language"] == "ko"
    assert msg["Message-ID"] == "<tale-0a1b2c3d4e-completed@tale.example>"  # from the key
    assert msg["X-Tale-Key"] == NOTE.key and msg["X-Tale-Id"] == NOTE.tale_id
    plain, html = msg.get_body(("plain",)), msg.get_body(("html",))
    assert plain is not None and plain.get_content().replace("\r\n", "\n") == NOTE.text
    assert html is not None and "완성" in html.get_content()


def test_two_deliveries_one_message(relay: Relay) -> None:
    marks = Marks()
    assert notifier(relay, marks).send(NOTE) == notifier(relay, marks).send(NOTE)
    assert len(relay.messages) == 1


def test_a_4xx_reply_is_transient_and_the_retry_delivers(relay: Relay) -> None:
    marks = Marks()
    relay.rcpt.append("451 4.7.1 Greylisted, try again later")
    with pytest.raises(TransientError, match="451"):
        notifier(relay, marks).send(NOTE)
    assert marks.names == set()
    relay.data.append("452 4.3.1 Insufficient system storage")
    with pytest.raises(TransientError, match="452"):
        notifier(relay, marks).send(NOTE)
    notifier(relay, marks).send(NOTE)
    assert len(relay.messages) == 1


def test_a_5xx_reply_is_permanent(relay: Relay) -> None:
    relay.rcpt.append("550 5.1.1 No such user")
    with pytest.raises(PermanentError, match="550"):
        notifier(relay).send(NOTE)
    relay.data.append("554 5.7.1 Message rejected")
    with pytest.raises(PermanentError, match="554"):
        notifier(relay).send(NOTE)
    with pytest.raises(PermanentError, match="535"):
        notifier(relay, password="wrong").send(NOTE)
    assert relay.messages == []


def test_an_unverified_certificate_is_permanent(relay: Relay) -> None:
    with pytest.raises(PermanentError, match="certificate"):
        notifier(relay, ca_file=None).send(NOTE)  # the system's CAs do not know the relay
    assert relay.messages == []


def test_a_relay_without_starttls_is_refused(plain_relay: Relay) -> None:
    with pytest.raises(PermanentError, match="STARTTLS"):
        notifier(plain_relay).send(NOTE)
    assert plain_relay.messages == []
    notifier(plain_relay, security="none", username=None).send(NOTE)  # a local relay, asked
    assert len(plain_relay.messages) == 1


def test_no_relay_listening_is_transient() -> None:
    closed = Relay(port=free_port())
    with pytest.raises(TransientError, match=r"relay 127\.0\.0\.1"):
        notifier(closed).send(NOTE)
