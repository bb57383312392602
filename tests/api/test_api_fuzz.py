"""Property-based run over the API: whatever is sent, the answer is never a 5xx, and every
error is a problem document."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.config import Settings
from tests.api.test_api import Tokens

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=12,
)
FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "text": st.text(max_size=200),
        "language": st.sampled_from(["ko", "en", "fr", None, 3]),
        "style": st.text(max_size=12),
        "aspect_ratio": st.sampled_from(["9:16", "4:3", ""]),
        "shot_count": st.integers(-3, 40),
        "shot_seconds": st.integers(-1, 10),
        "options": JSON,
        "version": st.integers(0, 3),
    },
)
OWNED = "tale-fuzz000001"  # exists and belongs to the fuzzing user, so actions reach it
USER = "11111111-2222-3333-4444-555555555555"
IDS = st.sampled_from(
    [OWNED, OWNED, "tale-000000abcd", "x", "../etc", "tale-" + "a" * 70]
) | st.text(alphabet="abcdef0123456789-", min_size=1, max_size=20)
PATHS = st.one_of(
    st.just("/v1/tales"),
    st.just("/v1/me"),
    IDS.map(lambda i: f"/v1/tales/{i}"),
    st.tuples(IDS, st.sampled_from(["approve", "cancel", "video"])).map(
        lambda t: f"/v1/tales/{t[0]}/{t[1]}"
    ),
    st.tuples(IDS, st.text(max_size=4)).map(lambda t: f"/v1/tales/{t[0]}/shots/{t[1]}/regenerate"),
    st.just("/v1/trends"),
    IDS.map(lambda i: f"/v1/trends/{i}"),
    IDS.map(lambda i: f"/v1/trends/{i}/tales"),
    # "//x" would be read as a host by the test client, not sent as a path
    st.text(max_size=30).map(lambda t: "/" + t.lstrip("/")),
)


@pytest.fixture
def api_settings(tmp_path: Path) -> Settings:
    """Limits high enough that the run explores the API rather than the rate limiter."""
    return Settings(
        home=tmp_path / "home",
        api_rate_per_minute=100_000,
        api_max_running_tales=1_000,
        max_story_chars=150,
    )


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "OPTIONS"]),
    path=PATHS,
    body=FIELDS | JSON,
    raw=st.booleans(),
    junk=st.binary(max_size=64),
    content_type=st.sampled_from(["application/json", "text/plain", "application/json; x=1", ""]),
    key=st.none() | st.text(max_size=250),
    authed=st.booleans(),
)
def test_no_request_gets_a_5xx(
    client: Any,
    token: Tokens,
    method: str,
    path: str,
    body: Any,
    raw: bool,
    junk: bytes,
    content_type: str,
    key: str | None,
    authed: bool,
) -> None:
    headers = token(USER) if authed else {}
    if key is not None and key.isprintable() and key.isascii():
        headers["Idempotency-Key"] = key
    data = junk if raw else json.dumps(body).encode()
    response = client.open(
        path, method=method, headers=headers, data=data, content_type=content_type or None
    )
    assert response.status_code < 500, (method, path, response.data)
    if response.status_code >= 400:
        assert response.mimetype == "application/problem+json"
        assert json.loads(response.data)["status"] == response.status_code
