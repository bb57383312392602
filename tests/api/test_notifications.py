"""The email of a tale goes to its owner: tales created through the HTTP API (functions-
framework's app, Supabase-shaped tokens with and without the ``email`` claim, the sign-up
webhook), run by the local runtime, and the ``.eml`` files they leave in the outbox."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from functions_framework import create_app

from shared import bootstrap
from shared.runtime.local import LocalRuntime
from tests.api.test_webhook import deliver
from tests.e2e.helpers import read_email

ROOT = Path(__file__).resolve().parents[2]
KOREAN = {
    "text": "미나는 바다로 걸어갔다. 미나는 작은 여우를 만났다. 둘은 친구가 되었다.",
    "shot_count": 2,
    "shot_seconds": 4,
}
ENGLISH = {
    "text": "Joe walked to the harbour. Joe met an old sailor. They fixed a boat together.",
    "shot_count": 2,
    "shot_seconds": 4,
}
Tokens = Callable[..., dict[str, str]]


def create(client: Any, headers: dict[str, str], story: dict[str, Any]) -> str:
    response = client.post("/v1/tales", headers=headers, json=story)
    assert response.status_code == 201, response.data
    return str(response.json["id"])


def run_all() -> None:
    with LocalRuntime(bootstrap.container()) as runtime:
        runtime.run(timeout=120)


def email_of(tale_id: str, outcome: str = "completed") -> EmailMessage:
    return read_email(bootstrap.container().home / "outbox" / f"{tale_id}-{outcome}.eml")


def notify_lines(tale_id: str) -> list[str]:
    return [e.message for e in bootstrap.container().store.events(tale_id) if e.stage == "notify"]


def test_each_owner_gets_the_email_in_the_tales_language(client: Any, token: Tokens) -> None:
    mina = token(str(uuid.uuid4()), email="mina@example.com")
    joe = token(str(uuid.uuid4()), email="joe@example.net")
    korean, english = create(client, mina, KOREAN), create(client, joe, ENGLISH)
    run_all()

    ko = email_of(korean)
    assert ko["To"] == "mina@example.com"
    assert ko["Content-Language"] == "ko" and "완성" in str(ko["Subject"])
    plain = ko.get_body(("plain",))
    assert plain is not None and "완성되었습니다" in plain.get_content()
    en = email_of(english)
    assert en["To"] == "joe@example.net"
    assert en["Content-Language"] == "en" and "is ready" in str(en["Subject"])

    # Neither tale went to the other user, nor to the operator's address.
    operator = bootstrap.container().settings.owner_email
    for tale_id, other in ((korean, "joe@example.net"), (english, "mina@example.com")):
        raw = (bootstrap.container().home / "outbox" / f"{tale_id}-completed.eml").read_text()
        assert other not in raw and operator not in raw
        (line,) = notify_lines(tale_id)
        assert line.startswith("owner notified (completed), to the address on the owner's")
        assert "@" not in line  # the user's address is not copied into logs
    assert sorted(p.name for p in (bootstrap.container().home / "outbox").glob("*.eml")) == sorted(
        [f"{korean}-completed.eml", f"{english}-completed.eml"]
    )


def test_an_owner_without_an_address_is_not_emailed_until_one_is_known(
    client: Any, token: Tokens, api_settings: Any
) -> None:
    user = str(uuid.uuid4())
    anonymous = token(user, email="")  # a token without the email claim
    first = create(client, anonymous, ENGLISH)
    run_all()

    tale = bootstrap.container().store.find(first)
    assert tale is not None and tale.state == "completed"  # the tale is not failed for it
    kept = email_of(first)  # the outbox still keeps the message, addressed to no one
    assert kept["To"] is None
    assert "has no email address" in str(kept["X-Tale-Undeliverable"])
    raw = (bootstrap.container().home / "outbox" / f"{first}-completed.eml").read_text()
    assert api_settings.owner_email not in raw  # never the operator's address instead
    (line,) = notify_lines(first)
    assert line.startswith("email not deliverable (completed): the owner ")
    assert "nothing was sent" in line

    # The sign-up webhook arrives late, with the address: the next tale goes there.
    hook = create_app("auth_webhook", str(ROOT / "functions" / "auth_webhook.py"), "http")
    body = json.dumps({"user": {"id": user, "email": "late@example.com"}}).encode()
    answer = deliver(hook.test_client(), body)
    assert answer.status_code == 200 and answer.json["profile"] == "existed"
    profile = bootstrap.container().ledger.profile(user)
    assert profile is not None and profile.email == "late@example.com"
    second = create(client, anonymous, ENGLISH)
    run_all()
    assert email_of(second)["To"] == "late@example.com"


def test_a_profile_without_an_address_takes_the_tokens(client: Any, token: Tokens) -> None:
    user = str(uuid.uuid4())
    hook = create_app("auth_webhook", str(ROOT / "functions" / "auth_webhook.py"), "http")
    signup = json.dumps({"user": {"id": user}}).encode()  # the sign-up knew no address
    assert deliver(hook.test_client(), signup).json["profile"] == "created"
    tale = create(client, token(user, email="mina@example.com"), KOREAN)
    run_all()
    assert email_of(tale)["To"] == "mina@example.com"
