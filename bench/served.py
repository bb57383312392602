"""``tale serve`` in a subprocess on loopback, and a raw HTTP/1.1 client for what well-behaved
clients never send (oversized and broken bodies): the harness of ``bench_api_load.py`` and of
the tests that measure the server process.

Memory is read from ``/proc/<pid>/status`` of the server process: ``VmRSS`` (now) and
``VmHWM`` (the peak since it started).
"""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MiB = 1024 * 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def proc_kib(pid: int, key: str) -> int:
    """A ``/proc/<pid>/status`` figure in KiB (``VmRSS``, ``VmHWM``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    sent: int = 0
    """Body bytes the client managed to send before the answer came."""

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Served:
    """A running ``tale serve``: its process, address and home."""

    home: Path
    port: int
    process: subprocess.Popen[bytes]
    env: dict[str, str] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss_mib(self) -> float:
        return proc_kib(self.pid, "VmRSS") / 1024

    def peak_mib(self) -> float:
        return proc_kib(self.pid, "VmHWM") / 1024

    def token(self, user: str | None = None, *, anonymous: bool = False) -> str:
        """A token from the server's own local signing key (the home's ``keys/``)."""
        from shared.auth.local import LocalSigner

        signer = LocalSigner(self.home / "keys")
        extra = {"is_anonymous": True} if anonymous else None
        return signer.mint(user or str(uuid.uuid4()), "load@example.com", extra_claims=extra)

    def call(
        self, method: str, path: str, token: str | None = None, body: Any = None
    ) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(self.base + path, data, headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def raw(
        self,
        head: bytes,
        body: Iterable[bytes] = (),
        *,
        timeout_s: float = 30.0,
    ) -> Answer:
        """Send ``head`` (the request line and headers) and then ``body`` piece by piece,
        reading all along, as curl does: the answer may come before the body is sent."""
        return raw_exchange(self.port, head, body, timeout_s=timeout_s)


def raw_exchange(
    port: int, head: bytes, body: Iterable[bytes] = (), *, timeout_s: float = 30.0
) -> Answer:
    deadline = time.monotonic() + timeout_s
    received = bytearray()
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as sock:
        sock.sendall(head)
        pieces: Iterator[bytes] = iter(body)
        pending = b""
        sending = True
        while time.monotonic() < deadline:
            if sending and not pending:
                pending = next(pieces, b"")
                if not pending:
                    sending = False
            readable, writable, _ = select.select([sock], [sock] if sending else [], [], 1.0)
            if readable:
                try:
                    data = sock.recv(65536)
                except ConnectionResetError:
                    break
                if not data:
                    break
                received += data
                if _complete(received):
                    break
                continue
            if writable and pending:
                try:
                    n = sock.send(pending[:65536])
                except (BrokenPipeError, ConnectionResetError):
                    sending, pending = False, b""
                    continue
                sent += n
                pending = pending[n:]
    return _parse(bytes(received), sent)


def _complete(data: bytearray) -> bool:
    head, sep, rest = bytes(data).partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(rest) >= int(value)
    return False


def _parse(data: bytes, sent: int) -> Answer:
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if not lines or not lines[0].startswith("HTTP/"):
        return Answer(0, {}, data, sent)
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:  # the first answer only (another may follow)
        rest = rest[: int(headers["content-length"])]
    return Answer(status, headers, rest, sent)


def request_head(
    method: str, path: str, headers: dict[str, str], *, host: str = "127.0.0.1"
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def zeros(total: int, piece: int = 256 * 1024) -> Iterator[bytes]:
    """``total`` bytes in pieces (never all in memory)."""
    block = b"0" * piece
    while total > 0:
        yield block[: min(piece, total)]
        total -= piece


def chunked(pieces: Iterable[bytes]) -> Iterator[bytes]:
    for piece in pieces:
        yield f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    yield b"0\r\n\r\n"


class ServeProcess:
    """``with ServeProcess(home) as served:`` — ``tale serve`` on a free loopback port."""

    def __init__(self, home: Path, env: dict[str, str] | None = None) -> None:
        self.home = home
        self.port = free_port()
        self.env = {
            **os.environ,
            "TALE_HOME": str(home),
            "TALE_LOG_FORMAT": "console",
            **(env or {}),
        }
        self.served: Served | None = None

    def __enter__(self) -> Served:
        self.home.mkdir(parents=True, exist_ok=True)
        with (self.home / "serve.log").open("wb") as log:  # the child keeps its own handle
            process = subprocess.Popen(
                [sys.executable, "-m", "shared.cli.main", "serve", "--port", str(self.port)],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.served = Served(self.home, self.port, process, self.env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"tale serve exited: {(self.home / 'serve.log').read_text()}")
            try:
                with urllib.request.urlopen(f"{self.served.base}/v1/openapi.json", timeout=5):
                    return self.served
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        process.kill()
        raise RuntimeError("tale serve did not answer within 60 s")

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self.served is not None
        process = self.served.process
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
