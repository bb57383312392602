"""A real Firestore peer for the tests: the gRPC emulator ``@firestore-emulator/server``.

``FirestoreEmulator.start()`` installs the npm package once into ``tests/.emulators/`` (git
ignores it), runs it with Node on a free port, its output kept in
``tests/.emulators/firestore.log``, and waits until the port accepts connections. When
``FIRESTORE_EMULATOR_HOST`` is set already, that emulator is used instead (e.g. Google's own,
``gcloud emulators firestore start``) and nothing is started.

The package implements documents, queries, preconditions and field transforms, but not
transaction isolation: ``BeginTransaction`` hands out one fixed id and ``Commit`` applies
writes without looking at what the transaction read, so two transactions that read the same
document both commit. Firestore itself runs transactions serializably, and the store's
exactly-once guarantees (one fan-in, one claim) rest on that, so the launcher below adds it:
optimistic concurrency control in front of the package's service. Every transaction gets its
own id; the documents it reads (``BatchGetDocuments``) and the collections it queries
(``RunQuery``) are remembered with the commit sequence number at the time of the read; its
``Commit`` is refused with ``ABORTED`` (as Firestore refuses a contended transaction) when
any of them was written since. The client retries an aborted transaction, as it does on
Firestore. Node runs one handler at a time, so the check and the writes are atomic.

Fixtures: ``firestore_emulator`` (session; a failure under ``CI=true`` when no emulator can be
started, else a skip), ``firestore_client`` (session; project ``tale-test``) and
``firestore_root`` (a fresh collection prefix per test, for isolation).
"""

from __future__ import annotations

import fcntl
import itertools
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pytest
from google.cloud import firestore

from tests.peers import missing_peer

CACHE = Path(__file__).resolve().parent / ".emulators"
PACKAGE = "@firestore-emulator/server"
VERSION = "0.3.15"
ENV_HOST = "FIRESTORE_EMULATOR_HOST"
PROJECT = "tale-test"
START_TIMEOUT_S = 30.0

LAUNCHER = r"""// Written by tests/emulators.py (which explains it): the emulator with serializable
// transactions (optimistic concurrency control). Usage: node firestore-launcher.js PORT
"use strict";
const crypto = require("node:crypto");
const path = require("node:path");
const { FirestoreServer } = require("@firestore-emulator/server");
const from = { paths: [path.dirname(require.resolve("@firestore-emulator/server"))] };
const grpc = require(require.resolve("@grpc/grpc-js", from));
const { BeginTransactionResponse } = require(
  require.resolve("@firestore-emulator/proto/dist/google/firestore/v1/firestore", from),
);

let clock = 0; // commit sequence number
const written = new Map(); // document or collection name -> clock of its last write
const transactions = new Map(); // transaction id (hex) -> Map(name -> clock when read)
const hex = (bytes) => Buffer.from(bytes).toString("hex");

function noteReads(id, names) {
  const reads = transactions.get(hex(id));
  if (reads === undefined) return;
  for (const name of names) if (!reads.has(name)) reads.set(name, clock);
}

function writtenName(write) {
  if (write.has_update) return write.update.name;
  if (write.has_delete) return write.delete;
  if (write.has_transform) return write.transform.document;
  return null;
}

function serializable(definition, impl) {
  const base = {};
  for (const name of Object.keys(definition)) {
    if (typeof impl[name] === "function") base[name] = impl[name].bind(impl);
  }
  return {
    ...base,
    BeginTransaction(call, callback) {
      const id = crypto.randomBytes(16);
      transactions.set(hex(id), new Map());
      callback(null, BeginTransactionResponse.fromObject({ transaction: id }));
    },
    BatchGetDocuments(call) {
      if (call.request.has_transaction) noteReads(call.request.transaction, call.request.documents);
      return base.BatchGetDocuments(call);
    },
    RunQuery(call) {
      if (call.request.has_transaction) {
        const { parent, structured_query: query } = call.request;
        noteReads(call.request.transaction, query.from.map((c) => `${parent}/${c.collection_id}`));
      }
      return base.RunQuery(call);
    },
    Commit(call, callback) {
      const id = call.request.transaction;
      if (id && id.length > 0) {
        const reads = transactions.get(hex(id)) ?? new Map();
        transactions.delete(hex(id));
        for (const [name, at] of reads) {
          if ((written.get(name) ?? 0) > at) {
            const details = `transaction aborted: ${name} changed after it was read`;
            callback(Object.assign(new Error(details), { code: grpc.status.ABORTED, details }));
            return;
          }
        }
      }
      clock += 1;
      for (const write of call.request.writes) {
        const name = writtenName(write);
        if (name === null) continue;
        written.set(name, clock);
        written.set(name.slice(0, name.lastIndexOf("/")), clock);
      }
      return base.Commit(call, callback);
    },
    Rollback(call, callback) {
      transactions.delete(hex(call.request.transaction));
      return base.Rollback(call, callback);
    },
  };
}

const addService = grpc.Server.prototype.addService;
grpc.Server.prototype.addService = function (definition, impl) {
  return addService.call(this, definition, serializable(definition, impl));
};

const port = Number(process.argv[2]);
const server = new FirestoreServer();
server.start(port).then(
  () => console.log(`firestore emulator listening on ${port}`),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    server.stop();
    process.exit(0);
  });
}
"""


class EmulatorUnavailable(RuntimeError):
    """No Firestore emulator to test against."""


def _tail(path: Path, chars: int = 2000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


def _run(args: list[str], what: str, timeout: float) -> None:
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EmulatorUnavailable(f"{what}: {exc}") from exc
    if done.returncode != 0:
        raise EmulatorUnavailable(f"{what} exited {done.returncode}: {done.stderr[-2000:]}")


def install(cache: Path = CACHE) -> Path:
    """The package in ``cache``, installed with npm when it is missing; the launcher path."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise EmulatorUnavailable("node and npm are needed to run the Firestore emulator")
    cache.mkdir(parents=True, exist_ok=True)
    manifest = cache / "node_modules" / PACKAGE / "package.json"
    launcher = cache / "firestore-launcher.js"
    command = [npm, "install", "--prefix", str(cache), "--no-audit", "--no-fund"]
    with (cache / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another test session may be installing
        if not manifest.exists() or f'"version": "{VERSION}"' not in manifest.read_text():
            _run([*command, f"{PACKAGE}@{VERSION}"], f"npm install {PACKAGE}@{VERSION}", 300)
        if not launcher.exists() or launcher.read_text() != LAUNCHER:
            launcher.write_text(LAUNCHER)
    return launcher


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass
class FirestoreEmulator:
    host: str
    """``host:port`` as ``FIRESTORE_EMULATOR_HOST`` wants it."""
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    started_s: float = 0.0
    """Seconds it took to install (when needed) and start."""
    _log: IO[bytes] | None = field(default=None, repr=False)

    @classmethod
    def start(cls, cache: Path = CACHE) -> FirestoreEmulator:
        began = time.monotonic()
        if os.environ.get(ENV_HOST):
            host, _, given = os.environ[ENV_HOST].rpartition(":")
            if not _accepts(host or "127.0.0.1", int(given)):
                raise EmulatorUnavailable(f"{ENV_HOST}={os.environ[ENV_HOST]} does not answer")
            return cls(host=os.environ[ENV_HOST])
        launcher = install(cache)
        port = _free_port()
        log_path = cache / "firestore.log"
        log = log_path.open("wb")
        try:
            process = subprocess.Popen(
                [shutil.which("node") or "node", str(launcher), str(port)],
                cwd=cache,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        except OSError as exc:
            log.close()
            raise EmulatorUnavailable(f"cannot run node: {exc}") from exc
        emulator = cls(f"127.0.0.1:{port}", process, log_path, _log=log)
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _accepts("127.0.0.1", port):
            if process.poll() is not None or time.monotonic() > deadline:
                emulator.stop()
                raise EmulatorUnavailable(
                    f"the emulator did not start on port {port}: {_tail(log_path)}"
                )
            time.sleep(0.05)
        emulator.started_s = time.monotonic() - began
        return emulator

    def client(self, project: str = PROJECT) -> firestore.Client:
        """A client of this emulator (``FIRESTORE_EMULATOR_HOST`` must name it, see the
        ``firestore_emulator`` fixture)."""
        assert os.environ.get(ENV_HOST) == self.host
        return firestore.Client(project=project)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self._log is not None:
            self._log.close()
            self._log = None


# -- pytest fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def firestore_emulator() -> Iterator[FirestoreEmulator]:
    """The emulator for the session. Without one: a failure under ``CI=true``, else a skip."""
    try:
        emulator = FirestoreEmulator.start()
    except EmulatorUnavailable as exc:
        missing_peer(f"no Firestore emulator for the tests: {exc}")
    previous = os.environ.get(ENV_HOST)
    os.environ[ENV_HOST] = emulator.host
    try:
        yield emulator
    finally:
        if previous is None:
            os.environ.pop(ENV_HOST, None)
        else:
            os.environ[ENV_HOST] = previous
        emulator.stop()


@pytest.fixture(scope="session")
def firestore_client(firestore_emulator: FirestoreEmulator) -> Iterator[firestore.Client]:
    client = firestore_emulator.client()
    yield client
    client.close()


_roots = itertools.count(1)


def fresh_root() -> str:
    """A collection prefix no other test uses (the emulator keeps data for the session)."""
    return f"t{next(_roots)}_{uuid.uuid4().hex[:8]}"


@pytest.fixture
def firestore_root() -> str:
    return fresh_root()
