"""The API under load on loopback: many concurrent users against ``tale serve`` in a subprocess.

Each user holds one keep-alive connection (a new one when the server closes it) and sends, in
a seeded mix: valid submissions (stopping at the storyboard, so the runtime plans but renders
nothing), reads (``GET /v1/tales``, ``/v1/tales/{id}``, ``/v1/me``), invalid bodies (malformed,
deep and huge-number JSON, unknown fields, the wrong content type, no token) and oversized
uploads (``Content-Length`` and chunked, 1–8 MiB, to ``/v1/tales``, an action and the
webhook), reading the answer while it sends, as curl does. Bounded in time (``--seconds``) and
in count (``--max-requests``); every request has a deadline.

Reports requests/s, p50/p99 latency, the count of 5xx (goal 0) and of connections that broke
without an answer, and the server's memory from ``/proc/<pid>/status`` (RSS before the load,
peak during it).

    .venv/bin/python bench/bench_api_load.py --connections 200 --seconds 60
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.served import MiB, Served, ServeProcess

STORY = {
    "text": "A fox ran home through the snow. The lighthouse keeper waited with a lamp.",
    "shot_count": 2,
    "shot_seconds": 4,
    "options": {"approval_required": True},
}
MIX = (
    ("submit", 10),
    ("list", 20),
    ("get", 20),
    ("me", 10),
    ("malformed", 8),
    ("deep", 5),
    ("huge-number", 5),
    ("unknown-field", 5),
    ("content-type", 4),
    ("no-token", 5),
    ("oversized", 4),
    ("oversized-chunked", 2),
    ("oversized-webhook", 2),
)
REQUEST_TIMEOUT_S = 60.0


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    by_kind: Counter[str] = field(default_factory=Counter)
    broken: int = 0
    """Requests that got no answer (the connection broke or timed out)."""
    server_errors: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.latencies)


class Connection:
    """One keep-alive HTTP/1.1 connection, reopened when the server closes it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None

    async def exchange(
        self, method: str, path: str, headers: dict[str, str], body: bytes | list[bytes] = b""
    ) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None and self.writer is not None
        lines = [
            f"{method} {path} HTTP/1.1",
            "Host: 127.0.0.1",
            *(f"{k}: {v}" for k, v in headers.items()),
        ]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        pieces = [body] if isinstance(body, bytes) else body
        sender = asyncio.ensure_future(self._send(pieces))
        try:
            status, answer, close = await self._read()
        finally:
            sender.cancel()
        if close or not sender.done() or sender.cancelled():
            await self.close()
        return status, answer

    async def _send(self, pieces: list[bytes]) -> None:
        assert self.writer is not None
        try:
            for piece in pieces:
                self.writer.write(piece)
                await self.writer.drain()
        except (ConnectionError, OSError):
            pass

    async def _read(self) -> tuple[int, bytes, bool]:
        assert self.reader is not None
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            answer = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            answer = await self._chunks()
        else:
            answer = await self.reader.read()
        return status, answer, headers.get("connection", "").lower() == "close"

    async def _chunks(self) -> bytes:
        assert self.reader is not None
        parts = []
        while True:
            size = int((await self.reader.readline()).strip().split(b";")[0], 16)
            if size == 0:
                await self.reader.readline()
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readline()


class User:
    def __init__(self, served: Served, number: int, seed: int) -> None:
        self.token = served.token()
        self.random = random.Random(seed * 100_003 + number)
        self.connection = Connection(served.port)
        self.tales: list[str] = []
        kinds, weights = zip(*MIX, strict=True)
        self.kinds, self.weights = list(kinds), list(weights)

    def auth(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **(extra or {})}

    def request(self, kind: str) -> tuple[str, str, dict[str, str], bytes | list[bytes]]:
        json_type = {"Content-Type": "application/json"}
        if kind == "submit":
            body = json.dumps(STORY).encode()
            return (
                "POST",
                "/v1/tales",
                self.auth({**json_type, "Content-Length": str(len(body))}),
                body,
            )
        if kind == "list":
            return "GET", "/v1/tales", self.auth(), b""
        if kind == "get":
            tale = self.random.choice(self.tales) if self.tales else "tale-unknown000"
            return "GET", f"/v1/tales/{tale}", self.auth(), b""
        if kind == "me":
            return "GET", "/v1/me", self.auth(), b""
        bad = {
            "malformed": b'{"text": "unfinished',
            "deep": b"[" * 5000 + b"]" * 5000,
            "huge-number": b'{"text": "x", "shot_count": 1' + b"0" * 5000 + b"}",
            "unknown-field": json.dumps({**STORY, "colour": "red"}).encode(),
        }
        if kind in bad:
            body = bad[kind]
            return (
                "POST",
                "/v1/tales",
                self.auth({**json_type, "Content-Length": str(len(body))}),
                body,
            )
        if kind == "content-type":
            body = b"text=hello"
            headers = {"Content-Type": "application/x-www-form-urlencoded", "Content-Length": "10"}
            return "POST", "/v1/tales", self.auth(headers), body
        if kind == "no-token":
            return "GET", "/v1/me", {}, b""
        size = self.random.randint(1, 8) * MiB
        pieces = [b"0" * (256 * 1024)] * (size // (256 * 1024))
        if kind == "oversized-chunked":
            framed = [f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in pieces] + [b"0\r\n\r\n"]
            headers = self.auth({**json_type, "Transfer-Encoding": "chunked"})
            return "POST", "/v1/tales", headers, framed
        sized = {**json_type, "Content-Length": str(size)}
        if kind == "oversized-webhook":
            return "POST", "/hooks/auth", sized, pieces
        action = self.random.choice(["/v1/tales", "/v1/tales/tale-unknown000/approve"])
        return "POST", action, self.auth(sized), pieces

    async def run(self, results: Results, until: float, budget: list[int]) -> None:
        try:
            while time.monotonic() < until and budget[0] > 0:
                budget[0] -= 1
                kind = self.random.choices(self.kinds, self.weights)[0]
                method, path, headers, body = self.request(kind)
                started = time.monotonic()
                try:
                    status, answer = await asyncio.wait_for(
                        self.connection.exchange(method, path, headers, body), REQUEST_TIMEOUT_S
                    )
                except (ConnectionError, OSError, asyncio.IncompleteReadError, TimeoutError):
                    results.broken += 1
                    await self.connection.close()
                    continue
                results.latencies.append(time.monotonic() - started)
                results.statuses[status] += 1
                results.by_kind[f"{kind} {status}"] += 1
                if status >= 500:
                    results.server_errors.append(f"{method} {path} {status} {answer[:200]!r}")
                if kind == "submit" and status in (200, 201):
                    self.tales.append(json.loads(answer)["id"])
        finally:
            await self.connection.close()


async def _load(
    served: Served, connections: int, seconds: float, max_requests: int, seed: int
) -> tuple[Results, float]:
    users = [User(served, n, seed) for n in range(connections)]
    results, budget = Results(), [max_requests]
    started = time.monotonic()
    await asyncio.gather(*(u.run(results, started + seconds, budget) for u in users))
    return results, time.monotonic() - started


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(
    connections: int = 200,
    seconds: float = 60.0,
    max_requests: int = 1_000_000,
    seed: int = 7,
    home: Path | None = None,
) -> dict[str, Any]:
    """Start ``tale serve``, load it, and return the figures."""
    home = home or Path(tempfile.mkdtemp(prefix="tale-load-")) / "home"
    env = {
        "TALE_API_RATE_PER_MINUTE": "1000000",
        "TALE_API_MAX_RUNNING_TALES": "100000",
        "TALE_FREE_TALES_PER_MONTH": "100000",
        "TALE_SPEND_CAP_USD": "1000000",
    }
    with ServeProcess(home, env) as served:
        warm = served.token()
        for _ in range(3):  # the first requests import what the API uses
            served.call("GET", "/v1/me", warm)
            served.call("POST", "/v1/tales", warm, STORY)
        rss_before, peak_before = served.rss_mib(), served.peak_mib()
        results, wall = asyncio.run(_load(served, connections, seconds, max_requests, seed))
        rss_after, peak = served.rss_mib(), served.peak_mib()
    latencies = results.latencies
    return {
        "connections": connections,
        "seconds": round(wall, 2),
        "requests": results.count,
        "requests_per_s": round(results.count / wall, 1) if wall else 0.0,
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "status_5xx": sum(n for s, n in results.statuses.items() if s >= 500),
        "broken": results.broken,
        "statuses": dict(sorted(results.statuses.items())),
        "by_kind": dict(sorted(results.by_kind.items())),
        "server_rss_before_mib": round(rss_before, 1),
        "server_rss_after_mib": round(rss_after, 1),
        "server_peak_before_mib": round(peak_before, 1),
        "server_peak_mib": round(peak, 1),
        "server_errors": results.server_errors[:10],
        "mean_ms": round(statistics.fmean(latencies) * 1000, 1) if latencies else 0.0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--max-requests", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print the whole report as JSON")
    args = parser.parse_args(argv)
    report = run(args.connections, args.seconds, args.max_requests, args.seed)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(
            f"{report['connections']} connections, {report['seconds']} s: "
            f"{report['requests']} requests, {report['requests_per_s']} requests/s, "
            f"p50 {report['p50_ms']} ms, p99 {report['p99_ms']} ms, "
            f"5xx {report['status_5xx']}, broken {report['broken']}; server RSS "
            f"{report['server_rss_before_mib']} MiB before, peak {report['server_peak_mib']} MiB"
        )
        print("statuses:", report["statuses"])
    return 1 if report["status_5xx"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
