"""Filesystem blob store with HMAC-signed URLs (the local stand-in for Cloud Storage)."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import shutil
import time
from pathlib import Path
from urllib.parse import quote

from shared.metering import count
from shared.ports.blobs import BlobNotFound, BlobStore


class FilesystemBlobStore(BlobStore):
    """Objects are files under ``root``; writes go to a temp file then ``os.replace``.

    Signed URLs are ``file://`` URLs with ``expires`` and an HMAC ``signature`` over path and
    expiry, made with a per-installation key kept beside the objects; ``verify`` checks them.
    """

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self._key_file = self.root.parent / "signing.key"

    def _path(self, path: str) -> Path:
        full = (self.root / path).resolve()
        if not full.is_relative_to(self.root) or full == self.root:
            raise ValueError(f"blob path escapes the store: {path!r}")
        return full

    def _write(self, path: str, write: object) -> None:
        dest = self._path(path)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.{secrets.token_hex(4)}.tmp")
        try:
            if isinstance(write, bytes):
                tmp.write_bytes(write)
            else:
                assert isinstance(write, Path)
                shutil.copyfile(write, tmp)
            os.replace(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)

    def put_bytes(self, path: str, data: bytes, content_type: str) -> None:
        self._write(path, data)
        _count_write(len(data))

    def put_file(self, path: str, source: Path, content_type: str) -> None:
        self._write(path, source)
        _count_write(source.stat().st_size)

    def get_bytes(self, path: str) -> bytes:
        count("gcs_reads")
        try:
            return self._path(path).read_bytes()
        except FileNotFoundError as exc:
            raise BlobNotFound(path) from exc

    def download(self, path: str, dest: Path) -> Path:
        count("gcs_reads")
        src = self._path(path)
        if not src.is_file():
            raise BlobNotFound(path)
        shutil.copyfile(src, dest)
        return dest

    def exists(self, path: str) -> bool:
        count("gcs_reads")
        return self._path(path).is_file()

    def list_paths(self, prefix: str) -> list[str]:
        count("gcs_writes")  # as Cloud Storage bills it: a list is a class A operation
        folder, _, _ = prefix.rpartition("/")
        base = self._path(folder) if folder else self.root
        if not base.is_dir():
            return []
        found = (
            p.relative_to(self.root).as_posix()
            for p in base.rglob("*")
            if p.is_file() and not p.name.startswith(".")
        )
        return sorted(p for p in found if p.startswith(prefix))

    def uri(self, path: str) -> str:
        return self._path(path).as_uri()

    def _key(self) -> bytes:
        if not self._key_file.exists():
            self._key_file.write_bytes(secrets.token_bytes(32))
        return self._key_file.read_bytes()

    def _signature(self, path: str, expires: int) -> str:
        return hmac.new(self._key(), f"{path}\n{expires}".encode(), hashlib.sha256).hexdigest()

    def signed_url(self, path: str, expires_s: int = 3600) -> str:
        expires = int(time.time()) + expires_s
        sig = self._signature(path, expires)
        return f"{self.uri(path)}?expires={expires}&signature={sig}&path={quote(path)}"

    def verify(self, path: str, expires: int, signature: str) -> bool:
        """True when the signature is ours and has not expired."""
        if expires < time.time():
            return False
        return hmac.compare_digest(self._signature(path, expires), signature)


def _count_write(size: int) -> None:
    count("gcs_writes")
    count("gcs_bytes_written", size)
