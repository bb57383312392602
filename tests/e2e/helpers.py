"""Running ``tale`` as a user does, and reading what it leaves behind."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import av

FAST_ENV = {
    "TALE_OFFLINE_HEIGHT": "160",
    "TALE_OFFLINE_FPS": "8",
    "TALE_RETRY_MIN_BACKOFF_S": "0.01",
    "TALE_RETRY_MAX_BACKOFF_S": "0.05",
    "COLUMNS": "200",
}


def tale(
    home: Path, *args: str, env: dict[str, str] | None = None, check: bool = False
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **FAST_ENV, "TALE_HOME": str(home), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "shared.cli.main", *args],
        env=full_env,
        capture_output=True,
        text=True,
        check=check,
        timeout=240,
    )


def start_tale(home: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    full_env = {**os.environ, **FAST_ENV, "TALE_HOME": str(home), **(env or {})}
    return subprocess.Popen(
        [sys.executable, "-m", "shared.cli.main", *args],
        env=full_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def decode(path: Path) -> tuple[int, int, int, float, str]:
    """(width, height, frames, duration_s, md5 of all decoded frames)."""
    digest = hashlib.md5()
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = 0
        for frame in container.decode(stream):
            digest.update(frame.to_ndarray(format="rgb24").tobytes())
            frames += 1
        duration = (
            float(stream.duration * stream.time_base)
            if stream.duration
            else float(container.duration or 0) / 1e6
        )
        return stream.width, stream.height, frames, duration, digest.hexdigest()


def read_email(path: Path) -> EmailMessage:
    msg = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg
