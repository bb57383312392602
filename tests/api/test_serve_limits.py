"""``tale serve`` in its own process, attacked on loopback as an outsider would: 50 MiB bodies
get 413 and the server's memory (read from ``/proc`` of the server process) does not grow; deep
JSON, huge numbers and broken chunked bodies get 400; odd request lines get problem documents;
the key files are the owner's only; and a small load run sees no 5xx."""

from __future__ import annotations

import json
import stat
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bench import bench_api_load
from bench.served import MiB, Served, ServeProcess, chunked, request_head, zeros
from shared.cli.http_server import THREADS as SERVER_THREADS

GROWTH_MIB = 6.0
"""What a few 50 MiB requests may add to the server's peak memory (they used to add 50+)."""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with ServeProcess(tmp_path_factory.mktemp("serve") / "home") as running:
        yield running


def json_head(path: str, **headers: str) -> bytes:
    return request_head("POST", path, {"Content-Type": "application/json", **headers})


def hostile_uploads(served: Served, size: int, *, early: bool = True) -> list[int]:
    token = served.token()
    auth = f"Bearer {token}"
    sized = str(size)
    answers = [
        served.raw(json_head("/hooks/auth", **{"Content-Length": sized}), zeros(size)),
        served.raw(
            json_head(
                "/v1/tales/tale-nothing00001/approve",
                Authorization=auth,
                **{"Content-Length": sized},
            ),
            zeros(size),
        ),
        served.raw(
            json_head("/v1/tales", Authorization=auth, **{"Transfer-Encoding": "chunked"}),
            chunked(zeros(size)),
        ),
        served.raw(
            json_head("/hooks/auth", **{"Transfer-Encoding": "chunked"}), chunked(zeros(size))
        ),
    ]
    for answer in answers:
        assert answer.headers["content-type"] == "application/problem+json", answer
        assert not early or answer.sent < size  # answered long before the body was sent
    return [a.status for a in answers]


def test_50_mib_bodies_get_413_and_the_server_does_not_grow(served: Served) -> None:
    # Warm every worker thread on every path first (each thread's first request opens its
    # database connections): what grows after that is what the bodies cost.
    with ThreadPoolExecutor(SERVER_THREADS) as pool:
        warm = list(pool.map(lambda _: hostile_uploads(served, MiB, early=False), range(128)))
    assert all(statuses == [413] * 4 for statuses in warm)
    before = served.peak_mib()
    assert hostile_uploads(served, 50 * MiB) == [413] * 4
    assert hostile_uploads(served, 50 * MiB) == [413] * 4
    grown = served.peak_mib() - before
    assert grown <= GROWTH_MIB, f"peak memory grew by {grown:.1f} MiB"
    assert served.call("GET", "/v1/me", served.token())[0] == 200  # still serving


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"[" * 5000 + b"]" * 5000, "nested deeper"),
        (b'{"text": "x", "shot_count": ' + b"9" * 5000 + b"}", "a number is longer"),
        (b'{"text": "x", "shot_seconds": 1e999}', "out of range"),
    ],
)
def test_deep_json_and_huge_numbers_get_400(served: Served, body: bytes, detail: str) -> None:
    head = json_head(
        "/v1/tales", Authorization=f"Bearer {served.token()}", **{"Content-Length": str(len(body))}
    )
    answer = served.raw(head, [body])
    assert answer.status == 400 and detail in answer.json()["detail"]


@pytest.mark.parametrize(
    "framing",
    [b"zz\r\nabc\r\n0\r\n\r\n", b"3\r\nabcdef\r\n0\r\n\r\n", b"-5\r\nabc\r\n", b"3\r\nabc"],
)
def test_a_broken_chunked_body_gets_400(served: Served, framing: bytes) -> None:
    head = json_head(
        "/v1/tales", Authorization=f"Bearer {served.token()}", **{"Transfer-Encoding": "chunked"}
    )
    answer = served.raw(head, [framing], timeout_s=15)
    assert answer.status == 400, answer
    kind = answer.json()["type"]  # a negative size ends the body for cheroot: then no JSON
    assert kind.endswith("malformed-body") or framing.startswith(b"-"), kind


@pytest.mark.parametrize(
    ("request_line", "status"),
    [
        (b"GET /v1/ta\rles HTTP/1.1", None),  # any 4xx
        (b"GET /v1/tales/%0D%0Ax HTTP/1.1", 404),
        (b"GET /v1/tales/../../../etc/passwd HTTP/1.1", 404),
        (b"GET /" + b"a" * 8000 + b" HTTP/1.1", 404),
        (b"GET /" + b"a" * 70_000 + b" HTTP/1.1", 414),
        (b"BREW /v1/tales HTTP/1.1", 405),
        (b"GET /hooks/auth HTTP/1.1", 405),
        (b"GET /v1/tales HTTP/9.9", 505),
        (b"NONSENSE", 400),
    ],
)
def test_odd_requests_get_problem_documents(
    served: Served, request_line: bytes, status: int | None
) -> None:
    answer = served.raw(request_line + b"\r\nHost: x\r\n\r\n")
    if status is None:
        assert 400 <= answer.status < 500, answer
    else:
        assert answer.status == status, answer
    assert answer.headers["content-type"] == "application/problem+json"
    assert json.loads(answer.body)["status"] == answer.status


def test_key_files_are_the_owners_only(served: Served) -> None:
    served.call("GET", "/v1/me", served.token())
    token = served.token()
    code, created = served.call(
        "POST", "/v1/tales", token, {"text": "A fox ran home.", "shot_count": 1, "shot_seconds": 4}
    )
    assert code == 201
    served.call("GET", f"/v1/tales/{created['id']}/storyboard", token)
    keys = [served.home / "signing.key", *(served.home / "keys").iterdir()]
    assert served.home / "signing.key" in keys and len(keys) >= 3
    for key in keys:
        if key.is_file():
            assert stat.S_IMODE(key.stat().st_mode) == 0o600, key


def test_an_anonymous_token_gets_no_credits_over_http(served: Served) -> None:
    anonymous = served.token(str(uuid.uuid4()), anonymous=True)
    code, me = served.call("GET", "/v1/me", anonymous)
    assert code == 200 and me["balance"] == 0


def test_a_small_load_run_sees_no_5xx(tmp_path: Path) -> None:
    report = bench_api_load.run(connections=20, seconds=3, max_requests=3000, home=tmp_path / "h")
    assert report["status_5xx"] == 0, report["server_errors"]
    assert report["broken"] == 0
    assert report["requests"] > 100
    statuses = report["statuses"]
    assert {200, 201, 400, 413} <= set(statuses)
