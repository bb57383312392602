"""Each function starts on its own with ``functions-framework --target=…`` from ``main.py``,
as on a developer's machine or in the Cloud Functions container."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FF = Path(sys.executable).with_name("functions-framework")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.mark.parametrize(
    ("target", "signature", "path", "expect"),
    [
        ("api", "http", "/v1/openapi.json", 200),
        ("render_shot", "cloudevent", "/", 405),  # up, and only takes POSTed CloudEvents
    ],
)
def test_a_function_serves_from_main_py(
    tmp_path: Path, target: str, signature: str, path: str, expect: int
) -> None:
    port = free_port()
    env = {**os.environ, "TALE_HOME": str(tmp_path / "home")}
    proc = subprocess.Popen(
        [
            str(FF),
            f"--target={target}",
            "--source=main.py",
            f"--signature-type={signature}",
            f"--port={port}",
            "--host=127.0.0.1",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, body = get(f"http://127.0.0.1:{port}{path}")
                break
            except (urllib.error.URLError, ConnectionError):
                assert proc.poll() is None, "functions-framework exited"
                assert time.monotonic() < deadline, "functions-framework did not start"
                time.sleep(0.2)
        assert status == expect
        if target == "api":
            assert json.loads(body)["openapi"] == "3.1.0"
    finally:
        proc.terminate()
        proc.wait(10)
