"""A real Cloud Storage peer for the tests: ``gcp-storage-emulator`` in a child process.

One emulator (in memory, on a free port) serves the whole session; it is started on first use
and stopped at exit. Each user gets a fresh bucket, so tests do not see each other's objects.
A client for it is a ``storage.Client(project="tale-test", credentials=AnonymousCredentials())``
made while ``STORAGE_EMULATOR_HOST`` points at the emulator (the client reads it once, when
it is made).

When the emulator cannot start the tests that need it are skipped with the reason, except under
``CI=true``, where that fails the run (CI must not pass by skipping).
"""

from __future__ import annotations

import atexit
import itertools
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

from tests.peers import missing_peer

PROJECT = "tale-test"
ENV = "STORAGE_EMULATOR_HOST"
START_TIMEOUT_S = 30.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class GcsEmulator:
    def __init__(self) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None
        self._names = itertools.count()

    def start(self) -> None:
        cmd = [
            sys.executable,
            "-m",
            "gcp_storage_emulator",
            "start",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--in-memory",
            "--quiet",
        ]
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop; a file never fills up like a pipe)
        self._proc = subprocess.Popen(
            cmd, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                self._log.seek(0)
                err = self._log.read()[-2000:].decode(errors="replace")
                self.stop()
                raise RuntimeError(f"gcp-storage-emulator exited: {err}")
            try:
                with urllib.request.urlopen(
                    f"{self.url}/storage/v1/b?project={PROJECT}", timeout=1
                ):
                    return
            except (urllib.error.URLError, OSError):
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"gcp-storage-emulator did not answer within {START_TIMEOUT_S:.0f} s")

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        self._log.close()

    def client(self, **kw: Any) -> storage.Client:
        """A client for the emulator (``kw`` go to ``storage.Client``, e.g. ``_http``)."""
        with _env_lock:
            old = os.environ.get(ENV)
            os.environ[ENV] = self.url
            try:
                return storage.Client(project=PROJECT, credentials=AnonymousCredentials(), **kw)
            finally:
                if old is None:
                    del os.environ[ENV]
                else:
                    os.environ[ENV] = old

    def new_bucket(self) -> str:
        name = f"tale-test-{next(self._names)}-{uuid.uuid4().hex[:8]}"
        self.client().create_bucket(name)
        return name


_env_lock = threading.Lock()
_start_lock = threading.Lock()
_emulator: GcsEmulator | None = None
_failure: str | None = None


def emulator() -> GcsEmulator:
    """The session's emulator, started on first use; skips (or fails under CI) if it can't."""
    global _emulator, _failure
    with _start_lock:
        if _emulator is None and _failure is None:
            candidate = GcsEmulator()
            try:
                candidate.start()
            except Exception as exc:
                _failure = f"gcp-storage-emulator could not start: {exc}"
            else:
                _emulator = candidate
                atexit.register(candidate.stop)
    if _emulator is None:
        reason = _failure or "gcp-storage-emulator unavailable"
        missing_peer(reason)
    return _emulator


def gcs_store_for_contract() -> Any:
    """A ``GcsBlobStore`` on a fresh emulator bucket (the blob contract's ``gcs`` entry)."""
    from shared.adapters.gcp.gcs_blobs import GcsBlobStore

    emu = emulator()
    return GcsBlobStore(emu.client(), emu.new_bucket())


@pytest.fixture
def gcs_emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[GcsEmulator]:
    """The emulator, with ``STORAGE_EMULATOR_HOST`` set for the test."""
    emu = emulator()
    monkeypatch.setenv(ENV, emu.url)
    yield emu


@pytest.fixture
def gcs_client(gcs_emulator: GcsEmulator) -> storage.Client:
    return gcs_emulator.client()


@pytest.fixture
def gcs_bucket(gcs_emulator: GcsEmulator) -> str:
    """A fresh, empty bucket."""
    return gcs_emulator.new_bucket()
