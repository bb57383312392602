"""Back up and restore the embedded default's home: every store, the media and the keys.

The home holds the tale store (``state.db``), the bus, the ledger, the user-facing records,
the usage and audit records (SQLite), the key-encryption keys and signing keys (``keys/``,
``signing.key``), the media (``blobs/``) and the outbox. An export takes the runtime lock
(``runtime.lock``, the same lock ``tale run`` and ``tale serve`` hold), so nothing writes
while it copies: the databases are copied with SQLite's online backup API (a consistent
snapshot even of a WAL database), the other files as they are. The archive is a gzipped tar
of ``manifest.json`` (path, size, mode and SHA-256 of every file) and ``home/…``.

A restore reads the manifest, checks every member's checksum in a staging folder beside the
home, and only then moves the files in — into an empty home, or, with ``force``, one it
empties first. An archive with a wrong checksum, a missing or unexpected member, or a path
outside the home is refused before anything is written.

The archive holds the keys that decrypt the stories: keep it as secret as the home itself.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath

FORMAT = "tale-home-backup"
VERSION = 1
MANIFEST = "manifest.json"
PREFIX = "home"
LOCK = "runtime.lock"
_SQLITE_MAGIC = b"SQLite format 3\x00"
_TRANSIENT_SUFFIXES = ("-wal", "-shm", "-journal")


class BackupError(Exception):
    """The export or restore cannot be done (nothing was changed)."""


@dataclass(frozen=True)
class Entry:
    path: str
    size: int
    mode: int
    sha256: str
    sqlite: bool


@dataclass(frozen=True)
class Manifest:
    created_at: float
    files: tuple[Entry, ...]

    @property
    def total_bytes(self) -> int:
        return sum(e.size for e in self.files)

    def to_json(self) -> str:
        doc = {
            "format": FORMAT,
            "version": VERSION,
            "created_at": self.created_at,
            "files": [asdict(e) for e in self.files],
        }
        return json.dumps(doc, indent=2)

    @classmethod
    def parse(cls, data: bytes) -> Manifest:
        try:
            doc = json.loads(data)
            if doc.get("format") != FORMAT or doc.get("version") != VERSION:
                raise BackupError(f"not a {FORMAT} v{VERSION} archive")
            files = tuple(Entry(**e) for e in doc["files"])
            return cls(float(doc["created_at"]), files)
        except (ValueError, KeyError, TypeError) as exc:
            raise BackupError(f"unreadable manifest: {exc}") from exc


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _is_sqlite(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(len(_SQLITE_MAGIC)) == _SQLITE_MAGIC


def _backed_up(relative: str) -> bool:
    return relative != LOCK and not relative.endswith(_TRANSIENT_SUFFIXES)


@contextmanager
def _locked(home: Path) -> Iterator[None]:
    """Hold the runtime lock of ``home`` (no tale process may use it meanwhile)."""
    home.mkdir(parents=True, exist_ok=True)
    with open(home / LOCK, "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise BackupError(f"a tale process is using {home}; stop it first") from exc
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _copy_sqlite(source: Path, target: Path) -> None:
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        if dst.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise BackupError(f"{source.name} failed SQLite's integrity check")
    finally:
        dst.close()
        src.close()


def export_home(home: Path, archive: Path) -> Manifest:
    """Write a consistent archive of ``home`` to ``archive`` (replaced atomically)."""
    home = home.resolve()
    if not home.is_dir() or not any(p.name != LOCK for p in home.iterdir()):
        raise BackupError(f"{home} holds no tale home to back up")
    archive = archive.resolve()
    if archive.is_relative_to(home):
        raise BackupError("write the archive outside the home it backs up")
    archive.parent.mkdir(parents=True, exist_ok=True)
    entries: list[Entry] = []
    sources: dict[str, Path] = {}
    with _locked(home), tempfile.TemporaryDirectory(dir=archive.parent) as tmp:
        # Databases are snapshotted into the staging folder; other files are read in place
        # (the lock keeps every tale process away until the archive is written).
        staged = Path(tmp) / PREFIX
        for path in sorted(home.rglob("*")):
            relative = path.relative_to(home).as_posix()
            if path.is_symlink() or not path.is_file() or not _backed_up(relative):
                continue
            source = path
            sqlite = _is_sqlite(path)
            if sqlite:
                source = staged / relative
                source.parent.mkdir(parents=True, exist_ok=True)
                _copy_sqlite(path, source)
            mode = path.stat().st_mode & 0o777
            sources[relative] = source
            entries.append(Entry(relative, source.stat().st_size, mode, _sha256(source), sqlite))
        manifest = Manifest(time.time(), tuple(entries))
        partial = Path(tmp) / "archive.tar.gz"
        with tarfile.open(partial, "w:gz", compresslevel=6) as tar:
            data = manifest.to_json().encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mode, info.mtime = len(data), 0o600, int(manifest.created_at)
            tar.addfile(info, io.BytesIO(data))
            for entry in entries:
                tar.add(sources[entry.path], f"{PREFIX}/{entry.path}", recursive=False)
        os.chmod(partial, 0o600)  # it holds the keys
        os.replace(partial, archive)
    return manifest


def read_manifest(archive: Path) -> Manifest:
    try:
        with tarfile.open(archive, "r:gz") as tar:
            member = tar.getmember(MANIFEST)
            f = tar.extractfile(member)
            if f is None:
                raise BackupError("the manifest is not a file")
            return Manifest.parse(f.read())
    except (EOFError, OSError, KeyError, tarfile.TarError, zlib.error) as exc:
        raise BackupError(f"cannot read {archive}: {exc or type(exc).__name__}") from exc


def _safe(relative: str) -> PurePosixPath:
    path = PurePosixPath(relative)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise BackupError(f"refusing a path outside the home: {relative!r}")
    return path


def _stage(archive: Path, manifest: Manifest, staging: Path) -> None:
    """Extract the manifest's files into ``staging``, checking each one's checksum."""
    wanted = {f"{PREFIX}/{_safe(e.path)}": e for e in manifest.files}
    seen: set[str] = set()
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            if member.name == MANIFEST:
                continue
            entry = wanted.get(member.name)
            if entry is None or not member.isfile():
                raise BackupError(f"unexpected member {member.name!r} in the archive")
            source = tar.extractfile(member)
            assert source is not None
            target = staging / entry.path
            target.parent.mkdir(parents=True, exist_ok=True)
            with source, target.open("wb") as out:
                shutil.copyfileobj(source, out)
            if _sha256(target) != entry.sha256 or target.stat().st_size != entry.size:
                raise BackupError(f"checksum mismatch for {entry.path}: the archive is damaged")
            os.chmod(target, entry.mode)
            seen.add(member.name)
    missing = sorted(set(wanted) - seen)
    if missing:
        raise BackupError(f"the archive lacks {len(missing)} file(s), e.g. {missing[0]}")


def _occupied(home: Path) -> list[Path]:
    return [p for p in home.iterdir() if p.name != LOCK] if home.is_dir() else []


def restore_home(archive: Path, home: Path, *, force: bool = False) -> Manifest:
    """Restore ``archive`` into ``home``: empty, or emptied first with ``force``."""
    home = home.resolve()
    manifest = read_manifest(archive)
    if _occupied(home) and not force:
        raise BackupError(f"{home} is not empty; restore into an empty home or use --force")
    with _locked(home):
        staging = Path(tempfile.mkdtemp(prefix=".tale-restore-", dir=home.parent))
        try:
            try:
                _stage(archive, manifest, staging)
            except (EOFError, OSError, tarfile.TarError, zlib.error) as exc:
                raise BackupError(f"the archive is damaged: {exc or type(exc).__name__}") from exc
            for path in _occupied(home):
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                else:
                    path.unlink()
            for entry in manifest.files:
                target = home / entry.path
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(staging / entry.path, target)
            keys = home / "keys"
            if keys.is_dir():
                os.chmod(keys, 0o700)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return manifest
