"""Standard Webhooks verification (Supabase auth hooks)."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from shared.auth.webhooks import (
    InMemoryReplayGuard,
    WebhookError,
    WebhookVerifier,
    parse_secret,
    sign,
)

KEY = bytes(range(32))
SECRET = "v1,whsec_" + base64.b64encode(KEY).decode()
NOW = 1_750_000_000
BODY = b'{"type":"user.created","user":{"id":"6a1f0c2e"}}'
MSG_ID = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def headers(
    *, webhook_id: str = MSG_ID, timestamp: int = NOW, body: bytes = BODY
) -> dict[str, str]:
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(SECRET, webhook_id, timestamp, body),
    }


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def verifier(clock: Clock) -> WebhookVerifier:
    return WebhookVerifier(SECRET, clock=clock)


def reason(verifier: WebhookVerifier, hdrs: dict[str, str], body: bytes = BODY) -> str:
    with pytest.raises(WebhookError) as caught:
        verifier.verify(hdrs, body)
    return caught.value.reason


def test_valid_signature_passes(verifier: WebhookVerifier) -> None:
    assert verifier.verify(headers(), BODY) == MSG_ID


def test_signature_matches_the_spec_by_hand() -> None:
    expected = hmac.new(KEY, f"{MSG_ID}.{NOW}.".encode() + BODY, hashlib.sha256).digest()
    assert sign(SECRET, MSG_ID, NOW, BODY) == "v1," + base64.b64encode(expected).decode()


def test_header_names_are_case_insensitive(verifier: WebhookVerifier) -> None:
    mixed = {name.title(): value for name, value in headers().items()}
    assert verifier.verify(mixed, BODY) == MSG_ID


def test_bare_whsec_secret_is_accepted(clock: Clock) -> None:
    bare = WebhookVerifier(SECRET.removeprefix("v1,"), clock=clock)
    assert bare.verify(headers(), BODY) == MSG_ID


def test_changed_body_byte_fails(verifier: WebhookVerifier) -> None:
    for i in range(len(BODY)):
        changed = bytearray(BODY)
        changed[i] ^= 0x01
        assert reason(verifier, headers(), bytes(changed)) == "no matching signature"
    assert reason(verifier, headers(), BODY + b" ") == "no matching signature"


def test_changed_id_or_timestamp_fails(verifier: WebhookVerifier) -> None:
    hdrs = headers()
    hdrs["webhook-id"] = "msg_other"
    assert reason(verifier, hdrs) == "no matching signature"
    hdrs = headers()
    hdrs["webhook-timestamp"] = str(NOW + 1)
    assert reason(verifier, hdrs) == "no matching signature"


def test_wrong_secret_fails(clock: Clock) -> None:
    other = WebhookVerifier("whsec_" + base64.b64encode(b"x" * 32).decode(), clock=clock)
    assert reason(other, headers()) == "no matching signature"


def test_stale_timestamp_fails(verifier: WebhookVerifier) -> None:
    assert reason(verifier, headers(timestamp=NOW - 301)) == "webhook-timestamp too old"
    assert verifier.verify(headers(timestamp=NOW - 300), BODY) == MSG_ID


def test_future_timestamp_fails(verifier: WebhookVerifier) -> None:
    assert reason(verifier, headers(timestamp=NOW + 301)) == "webhook-timestamp in the future"


@pytest.mark.parametrize("value", ["", "abc", "-5", "1.5e9", "1750000000.0", "٣٣٣", "9" * 40])
def test_malformed_timestamp_fails(verifier: WebhookVerifier, value: str) -> None:
    hdrs = headers()
    hdrs["webhook-timestamp"] = value
    assert reason(verifier, hdrs) in {
        "invalid webhook-timestamp",
        "missing webhook-timestamp header",
    }


def test_replayed_id_fails(verifier: WebhookVerifier) -> None:
    assert verifier.verify(headers(), BODY) == MSG_ID
    assert reason(verifier, headers()) == "replayed webhook-id"
    # A re-signed copy with a fresh timestamp is still the same delivery.
    assert reason(verifier, headers(timestamp=NOW + 5)) == "replayed webhook-id"


def test_forged_delivery_does_not_burn_the_id(verifier: WebhookVerifier) -> None:
    assert reason(verifier, headers(), b"forged") == "no matching signature"
    assert verifier.verify(headers(), BODY) == MSG_ID


def test_replay_guard_forgets_ids_after_the_window(clock: Clock) -> None:
    guard = InMemoryReplayGuard(clock)
    verifier = WebhookVerifier(SECRET, clock=clock, seen=guard)
    verifier.verify(headers(), BODY)
    assert len(guard) == 1
    clock.now += 301
    # By now the old delivery fails on its timestamp, so the guard may forget it.
    assert reason(verifier, headers()) == "webhook-timestamp too old"
    verifier.verify(headers(webhook_id="msg_next", timestamp=int(clock.now)), BODY)
    assert len(guard) == 1


def test_shared_replay_guard_is_consulted(clock: Clock) -> None:
    calls: list[tuple[str, float]] = []

    class Recording:
        def first_time(self, webhook_id: str, expires_at: float) -> bool:
            calls.append((webhook_id, expires_at))
            return len(calls) == 1

    verifier = WebhookVerifier(SECRET, clock=clock, seen=Recording())
    verifier.verify(headers(), BODY)
    assert reason(verifier, headers()) == "replayed webhook-id"
    assert calls == [(MSG_ID, NOW + 300.0), (MSG_ID, NOW + 300.0)]


def test_multiple_signatures_with_one_valid_passes(verifier: WebhookVerifier) -> None:
    hdrs = headers()
    good = hdrs["webhook-signature"]
    stale = sign("whsec_" + base64.b64encode(b"y" * 32).decode(), MSG_ID, NOW, BODY)
    hdrs["webhook-signature"] = f"v1a,ZmFrZQ== {stale} v1,bm9wZQ== {good}"
    assert verifier.verify(hdrs, BODY) == MSG_ID


def test_multiple_signatures_none_valid_fails(verifier: WebhookVerifier) -> None:
    hdrs = headers()
    good_value = hdrs["webhook-signature"].removeprefix("v1,")
    hdrs["webhook-signature"] = f"v1,bm9wZQ== v2,{good_value} {good_value}"
    assert reason(verifier, hdrs) == "no matching signature"


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_header_fails(verifier: WebhookVerifier, missing: str) -> None:
    hdrs = headers()
    del hdrs[missing]
    assert reason(verifier, hdrs) == f"missing {missing} header"


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ("", "must look like"),
        ("secret", "must look like"),
        ("v1,secret", "must look like"),
        ("v2,whsec_" + base64.b64encode(KEY).decode(), "must look like"),
        ("whsec_", "too short"),
        ("whsec_not*base64!", "not valid base64"),
        ("v1,whsec_" + base64.b64encode(KEY).decode()[:-1], "not valid base64"),
        ("whsec_" + base64.b64encode(b"short").decode(), "too short"),
    ],
)
def test_bad_secret_formats_raise_at_construction(secret: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        WebhookVerifier(secret)
    if len(secret) > 9:
        assert secret[9:] not in str(caught.value)  # the secret is never echoed


def test_parse_secret_decodes_the_key() -> None:
    assert parse_secret(SECRET) == KEY
    assert parse_secret("  " + SECRET + "\n") == KEY
