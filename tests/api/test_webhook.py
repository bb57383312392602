"""The sign-up webhook through functions-framework's real app, with Standard Webhooks
signatures made as Supabase makes them."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from functions_framework import create_app

from shared import bootstrap
from shared.api.webhook import local_secret
from shared.auth.webhooks import sign
from shared.config import Settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def hook(api_settings: Settings, tmp_path: Path) -> Iterator[Any]:
    bootstrap.configure(api_settings)
    yield create_app(
        "auth_webhook", str(ROOT / "functions" / "auth_webhook.py"), "http"
    ).test_client()
    bootstrap.configure(Settings(home=tmp_path / "unused"))


def deliver(
    hook: Any,
    body: bytes,
    *,
    webhook_id: str | None = None,
    at: float | None = None,
    tamper: bool = False,
) -> Any:
    webhook_id = webhook_id or f"msg_{uuid.uuid4().hex}"
    stamp = int(at if at is not None else time.time())
    signature = sign(local_secret(bootstrap.container()), webhook_id, stamp, body)
    sent = body[:-1] + b" " if tamper else body
    return hook.post(
        "/",
        data=sent,
        content_type="application/json",
        headers={
            "webhook-id": webhook_id,
            "webhook-timestamp": str(stamp),
            "webhook-signature": signature,
        },
    )


def signup(user: str) -> bytes:
    return json.dumps(
        {
            "type": "INSERT",
            "table": "users",
            "schema": "auth",
            "record": {"id": user, "email": "new@example.com"},
            "old_record": None,
        }
    ).encode()


def test_signup_creates_profile_and_grant_once(hook: Any) -> None:
    user = str(uuid.uuid4())
    first = deliver(hook, signup(user), webhook_id="msg_1")
    assert first.status_code == 200 and first.json["profile"] == "created"
    again = deliver(hook, json.dumps({"user": {"id": user, "email": "x"}}).encode())
    assert again.status_code == 200 and again.json["profile"] == "existed"
    ledger = bootstrap.container().ledger
    profile = ledger.profile(user)
    assert profile is not None and profile.plan == "free" and profile.balance == 16
    assert [e.kind for e in ledger.entries(user)] == ["grant"]


def test_forged_stale_and_replayed_webhooks_are_refused(hook: Any) -> None:
    user = str(uuid.uuid4())
    assert deliver(hook, signup(user), tamper=True).status_code == 401
    stale = deliver(hook, signup(user), at=time.time() - 3600)
    assert stale.status_code == 401 and "old" in stale.json["detail"]
    assert deliver(hook, signup(user), webhook_id="msg_once").status_code == 200
    replay = deliver(hook, signup(user), webhook_id="msg_once")
    assert replay.status_code == 401 and "replayed" in replay.json["detail"]
    unsigned = hook.post("/", data=signup(user), content_type="application/json")
    assert unsigned.status_code == 401 and unsigned.mimetype == "application/problem+json"


def test_a_body_that_is_not_a_signup_is_422(hook: Any) -> None:
    response = deliver(hook, b'{"type": "UPDATE", "table": "users"}')
    assert response.status_code == 422
    assert "not a sign-up" in response.json["detail"]
    assert deliver(hook, b"not json").status_code == 400  # malformed JSON, as in the API


def test_webhook_problems_say_what_is_wrong_in_our_words(hook: Any) -> None:
    response = deliver(hook, json.dumps({"user": {"id": "not-a-uuid", "email": 3}}).encode())
    assert response.status_code == 422
    problem = response.json
    assert problem["detail"] == "user.id: must be a UUID"
    assert {"field": "user.email", "message": "must be a string"} in problem["errors"]
    text = json.dumps(problem)
    for internal in ("pydantic", "Input should", "errors.pydantic.dev", "type=", "_User"):
        assert internal not in text


@pytest.mark.parametrize("stamp", ["0{now}", "+{now}", "{now}.0", " {now}x", "١٢٣", "-1"])
def test_webhook_timestamps_are_strict(hook: Any, stamp: str) -> None:
    body = signup(str(uuid.uuid4()))
    now = str(int(time.time()))
    secret = local_secret(bootstrap.container())
    raw = stamp.format(now=now)
    response = hook.post(
        "/",
        data=body,
        content_type="application/json",
        headers={
            "webhook-id": "msg_strict",
            "webhook-timestamp": raw,
            "webhook-signature": sign(secret, "msg_strict", int(now), body),
        },
    )
    assert response.status_code == 401
    assert response.json["detail"] == "invalid webhook-timestamp"


def test_anonymous_signups_get_a_profile_and_no_credits(hook: Any, api_settings: Settings) -> None:
    anonymous, person = str(uuid.uuid4()), str(uuid.uuid4())
    hooked = json.dumps({"user": {"id": anonymous, "email": "", "is_anonymous": True}})
    assert deliver(hook, hooked.encode()).json["profile"] == "created"
    assert deliver(hook, signup(person)).status_code == 200
    ledger = bootstrap.container().ledger
    profile, other = ledger.profile(anonymous), ledger.profile(person)
    assert profile is not None and profile.balance == 0 and ledger.entries(anonymous) == []
    assert other is not None and other.balance == 16
    bootstrap.configure(api_settings.model_copy(update={"anonymous_credits": True}))
    later = str(uuid.uuid4())
    hooked = json.dumps({"user": {"id": later, "is_anonymous": True}})
    assert deliver(hook, hooked.encode()).status_code == 200
    granted = bootstrap.container().ledger.profile(later)
    assert granted is not None and granted.balance == 16
