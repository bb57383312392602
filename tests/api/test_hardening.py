"""Hostile input through functions-framework's real app (as the ``api`` and ``auth_webhook``
functions run it): bodies bounded by their route's limit before they are read, JSON within
limits, our words in every problem, problem documents for every odd path."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from functions_framework import create_app

from shared import bootstrap
from shared.api.requests import NO_BODY_MAX
from shared.api.safe_json import JsonLimits, JsonRefused, loads
from shared.api.webhook import MAX_BODY
from shared.config import Settings
from tests.api.test_api import STORY, Tokens

ROOT = Path(__file__).resolve().parents[2]


class Counting(io.RawIOBase):
    """A request body that counts what is read of it (``size`` bytes of ``0``)."""

    def __init__(self, size: int, broken_after: int | None = None) -> None:
        self.size, self.pos, self.read_bytes, self.broken_after = size, 0, 0, broken_after

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:  # the test client measures the body
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        self.pos = {0: offset, 1: self.pos + offset, 2: self.size + offset}[whence]
        return self.pos

    def tell(self) -> int:
        return self.pos

    def readinto(self, buffer: Any) -> int:
        if self.broken_after is not None and self.read_bytes >= self.broken_after:
            raise OSError("Invalid chunk header")  # what werkzeug's dechunker raises
        n = max(0, min(len(buffer), self.size - self.pos))
        buffer[:n] = b"0" * n
        self.pos += n
        self.read_bytes += n
        return n


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.data[:300])
    assert response.mimetype == "application/problem+json"
    doc: dict[str, Any] = json.loads(response.data)
    assert doc["status"] == status
    return doc


def send(client: Any, path: str, body: Counting, headers: dict[str, str], **kw: Any) -> Any:
    return client.post(path, input_stream=body, headers=headers, **kw)


def chunked(headers: dict[str, str]) -> dict[str, Any]:
    """What a server that decodes chunked bodies tells the application."""
    return {
        "headers": {**headers, "Transfer-Encoding": "chunked", "Content-Type": "application/json"},
        "environ_overrides": {"wsgi.input_terminated": True, "CONTENT_LENGTH": ""},
    }


def test_a_declared_body_over_the_limit_is_refused_unread(
    client: Any, token: Tokens, api_settings: Settings
) -> None:
    me = token()
    for path, status in (
        ("/v1/tales", 413),
        ("/v1/tales/tale-none0000001/approve", 413),
        ("/v1/me", 405),  # no such route for POST: nothing to read either
    ):
        body = Counting(50 * 1024 * 1024)
        headers = {**me, "Content-Type": "application/json", "Content-Length": str(body.size)}
        answer = problem(send(client, path, body, headers), status)
        assert status == 405 or "the limit is" in answer["detail"]
        assert body.read_bytes == 0  # nor read by functions-framework after the answer
    body = Counting(50 * 1024 * 1024)
    unauthenticated = {"Content-Type": "application/json", "Content-Length": str(body.size)}
    problem(send(client, "/v1/tales", body, unauthenticated), 413)  # before authentication
    assert body.read_bytes == 0


def test_a_chunked_body_is_read_only_up_to_its_routes_limit(
    client: Any, token: Tokens, api_settings: Settings
) -> None:
    me = token()
    body = Counting(50 * 1024 * 1024)
    problem(send(client, "/v1/tales", body, **chunked(me)), 413)
    limit = api_settings.api_max_body_bytes
    assert limit < body.read_bytes <= limit + 64 * 1024
    action = Counting(1024)
    problem(send(client, "/v1/tales/tale-none0000001/cancel", action, **chunked(me)), 413)
    assert action.read_bytes <= 64 * 1024


def test_a_broken_chunked_body_is_400(client: Any, token: Tokens) -> None:
    body = Counting(10_000, broken_after=4096)
    answer = problem(send(client, "/v1/tales", body, **chunked(token())), 400)
    assert answer["detail"] == "the chunked body is malformed"


def test_a_chunked_body_the_server_did_not_decode_is_411(client: Any, token: Tokens) -> None:
    headers = {**token(), "Transfer-Encoding": "chunked", "Content-Type": "application/json"}
    no_length = {"CONTENT_LENGTH": ""}
    problem(send(client, "/v1/tales", Counting(10), headers, environ_overrides=no_length), 411)


def test_actions_take_an_empty_body_or_an_empty_object(client: Any, token: Tokens) -> None:
    me = token()
    path = "/v1/tales/tale-none0000001/cancel"
    assert client.post(path, headers=me, data=b"{}").status_code == 404  # read, then no tale
    assert client.post(path, headers=me).status_code == 404
    problem(client.post(path, headers=me, data=b"x" * (NO_BODY_MAX + 1)), 413)
    problem(client.post(path, headers=me, data=b'{"a": 1}'), 422)


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"[" * 5000 + b"]" * 5000, "nested deeper than 32 levels"),
        (b'{"text": "x", "shot_count": 1' + b"0" * 5000 + b"}", "longer than 40 characters"),
        (b'{"text": "x", "shot_seconds": 1e400}', "out of range"),
        (b'{"text": "x", "shot_seconds": NaN}', "NaN is not a JSON number"),
        (b'{"text": "x", "shot_seconds": -Infinity}', "-Infinity is not a JSON number"),
        (b'{"text": "x", ' + b'"a": {' * 40 + b"}" * 40 + b"}", "nested deeper"),
        (b'{"text": "\xff"}', "not UTF-8"),
        (b'{"text": "unfinished', "not valid JSON (line 1, column 10)"),
        (b"\xef\xbb\xbf{}", "not valid JSON"),
    ],
)
def test_json_beyond_the_limits_is_400(
    client: Any, token: Tokens, body: bytes, detail: str
) -> None:
    response = client.post("/v1/tales", headers=token(), data=body, content_type="application/json")
    assert detail in problem(response, 400)["detail"]


def test_json_limits_hold_for_strings_too() -> None:
    with pytest.raises(JsonRefused, match="longer than 10 characters"):
        loads('{"text": "' + "x" * 11 + '"}', JsonLimits(string_chars=10))
    assert loads('{"a": "\\"[[[[[["}', JsonLimits(depth=2)) == {"a": '"[[[[[['}  # in a string
    assert loads("[[1.5, -2e3]]") == [[1.5, -2000.0]]


def test_field_errors_are_in_our_words(client: Any, token: Tokens) -> None:
    body = {**STORY, "shot_count": "many", "shot_seconds": 99, "colour": "red"}
    response = client.post("/v1/tales", headers=token(), json=body)
    answer = problem(response, 422)
    messages = {e["field"]: e["message"] for e in answer["errors"]}
    assert messages["shot_count"] == "must be a whole number"
    assert messages["colour"] == "is not a field of this request"
    assert "shot_seconds" in messages
    text = json.dumps(answer)
    for internal in ("Input should", "pydantic", "errors.pydantic.dev", "int_parsing", "type="):
        assert internal not in text


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/v1/tales/%0D%0ASet-Cookie:x", 404),
        ("GET", "/v1/tales/a%0Ab/video", 404),
        ("GET", "/v1/../../etc/passwd", 404),
        ("GET", "/v1/tales/" + "a" * 5000, 404),
        ("GET", "/" + "x/" * 2000, 404),
        ("DELETE", "/v1/tales", 405),
        ("PUT", "/v1/me", 405),
        ("GET", "/v1/%ff%fe", 404),
    ],
)
def test_odd_paths_get_problem_documents(
    client: Any, token: Tokens, method: str, path: str, status: int
) -> None:
    answer = problem(client.open(path, method=method, headers=token()), status)
    assert len(answer["detail"]) < 300 and "\r" not in answer["detail"]
    assert "\n" not in answer["detail"] and len(answer.get("instance", "")) <= 200


def test_an_anonymous_user_gets_no_credits(client: Any, token: Tokens) -> None:
    signer = bootstrap.container().signer
    assert signer is not None
    anonymous = {
        "Authorization": "Bearer "
        + signer.mint(
            "6f1c1c4e-0000-4000-8000-0000000000aa", None, extra_claims={"is_anonymous": True}
        )
    }
    assert client.get("/v1/me", headers=anonymous).json["balance"] == 0
    problem(client.post("/v1/tales", headers=anonymous, json=STORY), 402)
    assert client.get("/v1/me", headers=token()).json["balance"] == 16  # others still do


@pytest.fixture
def hook(api_settings: Settings, tmp_path: Path) -> Iterator[Any]:
    bootstrap.configure(api_settings)
    yield create_app(
        "auth_webhook", str(ROOT / "functions" / "auth_webhook.py"), "http"
    ).test_client()
    bootstrap.configure(Settings(home=tmp_path / "unused"))


def test_the_webhook_reads_at_most_64_kib(hook: Any) -> None:
    body = Counting(50 * 1024 * 1024)
    headers = {"Content-Type": "application/json", "Content-Length": str(body.size)}
    assert "65536" in problem(send(hook, "/", body, headers), 413)["detail"]
    assert body.read_bytes == 0
    streamed = Counting(50 * 1024 * 1024)
    problem(send(hook, "/", streamed, **chunked({})), 413)
    assert streamed.read_bytes <= MAX_BODY + 64 * 1024
    problem(send(hook, "/", Counting(100, broken_after=10), **chunked({})), 400)
