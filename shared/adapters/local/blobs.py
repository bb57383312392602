"""Filesystem blob store with HMAC-signed URLs (the local stand-in for Cloud Storage)."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import shutil
import time
from pathlib import Path
from urllib.parse import quote, urlencode

from shared.metering import count
from shared.ports.blobs import BlobNotFound, BlobStore

DEFAULT_BASE_URL = "http://127.0.0.1:8080"
"""Where ``tale serve`` listens by default."""
MEDIA_PREFIX = "/media/"
"""The path under which ``tale serve`` answers signed URLs."""


class FilesystemBlobStore(BlobStore):
    """Objects are files under ``root``; writes go to a temp file then ``os.replace``.

    Signed URLs are ``http://`` URLs that ``tale serve`` answers —
    ``<base_url>/media/<path>?expires=…&signature=…`` — with an HMAC-SHA256 ``signature``
    over path and expiry, made with a per-installation key kept beside the objects (outside
    ``root``, so no object path can reach it); ``verify`` checks them and ``open_signed``
    finds the file they name (``shared.api.media`` serves it). ``base_url`` is the server's
    address as a browser reaches it (``TALE_PUBLIC_URL``, else the address ``tale serve``
    listens on); the URL reveals nothing of where the home is.
    """

    def __init__(self, root: Path, base_url: str = DEFAULT_BASE_URL) -> None:
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self._key_file = self.root.parent / "signing.key"
        self._key_bytes: bytes | None = None
        self.base_url = base_url.rstrip("/")

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

    def delete(self, path: str) -> bool:
        try:  # not metered: Cloud Storage does not charge for deletes
            self._path(path).unlink()
        except FileNotFoundError:
            return False
        return True

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
        """The signing key, created once: written whole under a temporary name and linked
        into place, so threads and processes that race to create it all read the same key
        (the API, the runtime's notifier and ``tale`` commands sign with it)."""
        if self._key_bytes is None:
            if not self._key_file.exists():
                tmp = self._key_file.with_name(f".signing.{secrets.token_hex(4)}.tmp")
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                try:
                    with os.fdopen(fd, "wb") as f:
                        f.write(secrets.token_bytes(32))
                    os.link(tmp, self._key_file)
                except FileExistsError:
                    pass  # another process created it first: use theirs
                finally:
                    tmp.unlink(missing_ok=True)
            if self._key_file.stat().st_mode & 0o077:  # e.g. restored or copied by hand
                os.chmod(self._key_file, 0o600)
            self._key_bytes = self._key_file.read_bytes()
        return self._key_bytes

    def _signature(self, path: str, expires: int) -> str:
        return hmac.new(self._key(), f"{path}\n{expires}".encode(), hashlib.sha256).hexdigest()

    def signed_url(self, path: str, expires_s: int = 3600) -> str:
        self._path(path)  # refuses a path outside the store
        expires = int(time.time()) + expires_s
        query = urlencode({"expires": expires, "signature": self._signature(path, expires)})
        return f"{self.base_url}{MEDIA_PREFIX}{quote(path, safe='/')}?{query}"

    def verify(self, path: str, expires: int, signature: str) -> bool:
        """True when the signature is ours and has not expired."""
        if expires < time.time():
            return False
        return hmac.compare_digest(
            self._signature(path, expires).encode(), signature.encode("utf-8", "replace")
        )

    def open_signed(self, path: str, expires: int, signature: str) -> Path:
        """The file a signed URL names. ``SignatureRefused`` for a bad or expired signature;
        ``BlobNotFound`` for a path outside the store, a temporary file or a missing object."""
        if not self.verify(path, expires, signature):
            raise SignatureRefused(path)
        try:
            full = self._path(path)
        except ValueError as exc:
            raise BlobNotFound(path) from exc
        if full.name.startswith(".") or not full.is_file():
            raise BlobNotFound(path)
        count("gcs_reads")
        return full


class SignatureRefused(PermissionError):
    """The signed URL's signature is not ours, or it has expired."""


def _count_write(size: int) -> None:
    count("gcs_writes")
    count("gcs_bytes_written", size)
