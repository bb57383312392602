"""Local key-encryption keys in files (the embedded default of ``KeyWrapper``).

``LocalKeyFile(folder)`` keeps 256-bit KEKs as ``kek-1.key``, ``kek-2.key``, … (32 raw bytes
each, mode 0600, in a folder created with mode 0700). It wraps with the newest and unwraps
with whichever one the wrapped key names, so stories sealed before ``rotate()`` stay readable
as long as their key file is kept.

A wrapped key is ``0x01 ‖ fingerprint (8 bytes) ‖ nonce (12 bytes) ‖ AES-256-GCM(data key)``;
the GCM associated data is a domain label, the fingerprint and the caller's ``associated``.
``key_id`` is ``local:<fingerprint as 16 hex digits>``, the fingerprint being the first
8 bytes of a domain-separated SHA-256 of the key.

Key files are created atomically and never overwritten (written to a temporary file, then
hard-linked into place), so two processes starting at once agree on one key. A key file that
group or others can access, that is not a regular file, or that is not exactly 32 bytes is
refused with ``KeyFileError`` rather than used.

The first key is created, and every key file read, when the ``LocalKeyFile`` is built.
A rotation done by another process is picked up by ``unwrap`` when it meets the new key id,
and for wrapping after ``reload()`` (or a restart).
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import stat
import threading
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.ports.keys import KeyUnwrapError, KeyWrapper

KEY_BYTES = 32
_FORMAT = 1
_FINGERPRINT_BYTES = 8
_NONCE_BYTES = 12
_TAG_BYTES = 16
_HEADER = 1 + _FINGERPRINT_BYTES + _NONCE_BYTES
_NAME = re.compile(r"kek-([1-9][0-9]{0,8})\.key")
_KEY_ID_PREFIX = "local:"


class KeyFileError(Exception):
    """A key file or the key folder cannot be used (unsafe permissions, wrong size, …)."""


class InsecureKeyFileError(KeyFileError):
    """A key file is accessible to group or others."""


@dataclass(frozen=True)
class _Kek:
    number: int
    fingerprint: bytes
    key: bytes = field(repr=False)

    @property
    def key_id(self) -> str:
        return _KEY_ID_PREFIX + self.fingerprint.hex()


def fingerprint(key: bytes) -> bytes:
    """The 8-byte public fingerprint of a KEK (it reveals nothing useful about the key)."""
    return hashlib.sha256(b"tale.local-kek.fingerprint.v1\x00" + key).digest()[:_FINGERPRINT_BYTES]


class LocalKeyFile(KeyWrapper):
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._lock = threading.Lock()
        self._keys: dict[bytes, _Kek] = {}
        self._current: _Kek | None = None
        self.key_id = ""
        with self._lock:
            self._scan()
            if self._current is None:
                self._create(1)
                self._scan()

    # --- the port --------------------------------------------------------------------------
    def wrap(self, data_key: bytes, associated: bytes) -> bytes:
        if not isinstance(data_key, bytes) or not data_key:
            raise ValueError("data key must be non-empty bytes")
        kek = self._current
        assert kek is not None
        nonce = os.urandom(_NONCE_BYTES)
        sealed = AESGCM(kek.key).encrypt(nonce, data_key, _aad(kek.fingerprint, associated))
        return bytes([_FORMAT]) + kek.fingerprint + nonce + sealed

    def unwrap(self, wrapped: bytes, associated: bytes) -> bytes:
        if (
            not isinstance(wrapped, bytes)
            or len(wrapped) < _HEADER + _TAG_BYTES + 1
            or wrapped[0] != _FORMAT
        ):
            raise KeyUnwrapError("malformed wrapped key (not a local KEK wrap, or truncated)")
        fp = wrapped[1 : 1 + _FINGERPRINT_BYTES]
        kek = self._keys.get(fp)
        if kek is None:
            with self._lock:
                self._scan()  # another process may have rotated
            kek = self._keys.get(fp)
        key_id = _KEY_ID_PREFIX + fp.hex()
        if kek is None:
            raise KeyUnwrapError(f"no key {key_id} in {self.folder}")
        nonce = wrapped[1 + _FINGERPRINT_BYTES : _HEADER]
        try:
            return AESGCM(kek.key).decrypt(nonce, wrapped[_HEADER:], _aad(fp, associated))
        except InvalidTag:
            pass
        raise KeyUnwrapError(f"wrapped key failed authentication under {key_id}")

    # --- rotation --------------------------------------------------------------------------
    def rotate(self) -> str:
        """Create the next ``kek-<n>.key`` and wrap with it from now on; return its key id.

        Older key files are kept (and must be kept) so that what they wrapped still opens.
        """
        with self._lock:
            self._scan()
            number = max((k.number for k in self._keys.values()), default=0) + 1
            while not self._create(number):  # another process took that number
                number += 1
            self._scan()
            return self.key_id

    def reload(self) -> str:
        """Re-read the folder (to pick up another process's rotation); return the key id."""
        with self._lock:
            self._scan()
            if self._current is None:
                raise KeyFileError(f"no key files left in {self.folder}")
            return self.key_id

    @property
    def key_ids(self) -> list[str]:
        """Every key id this wrapper can unwrap, oldest first."""
        return [k.key_id for k in sorted(self._keys.values(), key=lambda k: k.number)]

    # --- files -----------------------------------------------------------------------------
    def _scan(self) -> None:
        """Load every ``kek-<n>.key`` (caller holds the lock); the newest becomes current."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        keys = dict(self._keys)
        newest = self._current
        for entry in sorted(self.folder.iterdir()):
            match = _NAME.fullmatch(entry.name)
            if match is None:
                continue
            kek = _read_key(entry, int(match.group(1)))
            keys.setdefault(kek.fingerprint, kek)
            if newest is None or kek.number > newest.number:
                newest = kek
        self._keys = keys
        if newest is not None:
            self._current = newest
            self.key_id = newest.key_id

    def _create(self, number: int) -> bool:
        """Write ``kek-<number>.key`` unless it exists; return whether this call created it."""
        dest = self.folder / f"kek-{number}.key"
        tmp = self.folder / f".kek-{number}.key.{secrets.token_hex(8)}.tmp"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(tmp, flags, 0o600)
        try:
            try:
                if hasattr(os, "fchmod"):
                    os.fchmod(fd, 0o600)  # whatever the umask
                with os.fdopen(fd, "wb", closefd=False) as out:
                    out.write(AESGCM.generate_key(bit_length=KEY_BYTES * 8))
                    out.flush()
                    os.fsync(out.fileno())
            finally:
                os.close(fd)
            try:
                os.link(tmp, dest)  # atomic, and never replaces an existing key
            except FileExistsError:
                return False
        finally:
            tmp.unlink(missing_ok=True)
        _fsync_dir(self.folder)
        return True


def _read_key(path: Path, number: int) -> _Kek:
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise KeyFileError(f"cannot open key file {path}: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise KeyFileError(f"key file {path} is not a regular file")
        mode = stat.S_IMODE(info.st_mode)
        if os.name == "posix" and mode & 0o077:
            raise InsecureKeyFileError(
                f"refusing to use key file {path}: its mode is {mode:04o}, so group or others "
                f"can access it; a key file must be 0600 (owner only): run chmod 600 {path} "
                "if the key has not leaked"
            )
        with os.fdopen(fd, "rb", closefd=False) as src:
            key = src.read(KEY_BYTES + 1)
    finally:
        os.close(fd)
    if len(key) != KEY_BYTES:
        raise KeyFileError(
            f"key file {path} holds {'more than ' if len(key) > KEY_BYTES else ''}"
            f"{min(len(key), KEY_BYTES)} bytes; a key is exactly {KEY_BYTES} bytes"
        )
    return _Kek(number=number, fingerprint=fingerprint(key), key=key)


def _aad(fp: bytes, associated: bytes) -> bytes:
    return b"tale.local-kek.wrap.v1\x00" + fp + associated


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
