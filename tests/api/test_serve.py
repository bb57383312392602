"""``tale serve`` and ``tale token`` as a developer uses them: a real HTTP server on
loopback, a token from the CLI, a tale created over HTTP and rendered by the runtime."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.request
import uuid
from pathlib import Path

from shared import bootstrap
from shared.cli.serve import serve
from shared.config import Settings
from tests.e2e.helpers import tale


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def call(url: str, token: str, body: dict[str, object] | None = None) -> dict[str, object]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        url,
        data=data,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


def test_serve_with_a_cli_token(tmp_path: Path) -> None:
    home = tmp_path / "home"
    user = str(uuid.uuid4())
    minted = tale(home, "token", "--user", user)
    assert minted.returncode == 0, minted.stderr
    token = minted.stdout.strip()
    assert tale(home, "token", "--user", "not-a-uuid").returncode == 2
    bootstrap.configure(Settings(home=home, offline_height=160, offline_fps=8))
    port, ready, stop = free_port(), threading.Event(), threading.Event()
    server = threading.Thread(target=serve, args=("127.0.0.1", port, ready, stop))
    server.start()
    try:
        assert ready.wait(10)
        base = f"http://127.0.0.1:{port}/v1"
        created = call(
            f"{base}/tales", token, {"text": "A fox ran home.", "shot_count": 1, "shot_seconds": 4}
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            state = call(f"{base}/tales/{created['id']}", token)
            if state["status"] == "completed":
                break
            time.sleep(0.2)
        assert state["status"] == "completed"
        assert call(f"{base}/me", token)["balance"] == 15
    finally:
        stop.set()
        server.join(10)
        bootstrap.configure(Settings(home=tmp_path / "unused"))
