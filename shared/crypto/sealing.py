"""Envelope encryption of story text.

``seal`` draws a fresh random 256-bit data key and a random 96-bit nonce for every story,
encrypts the UTF-8 text with AES-256-GCM under the data key, and has the data key wrapped by
the key-encryption key behind ``KeyWrapper``. Both steps authenticate associated data that
names the format version, the tale id, the owner and the KEK id, so a sealed story (or just
its wrapped key) moved to another tale or owner, or with its key id edited, does not open.

``Sealed.to_json`` is what gets stored::

    {"v":1,"kid":"local:3f9a…","wk":"<base64>","n":"<base64>","ct":"<base64>"}

Every failure to open raises ``DecryptionError`` whose ``reason`` never contains plaintext
or key bytes; malformed stored data raises its subclass ``SealedFormatError``. Failures of
the key wrapper other than ``KeyUnwrapError`` (a KMS outage) pass through unchanged: they
are transient, not a verdict on the data.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
from dataclasses import dataclass
from typing import Any, NoReturn

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.ports.keys import KeyUnwrapError, KeyWrapper

VERSION = 1
"""The sealed format this module writes (and the only one it reads)."""

DATA_KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
_MAX_KEY_ID = 512
_FIELDS = ("v", "kid", "wk", "n", "ct")


class DecryptionError(Exception):
    """A sealed story cannot be opened: wrong tale id or owner, wrong key-encryption key,
    altered bytes, or malformed stored data. ``reason`` says which, without secrets."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SealedFormatError(DecryptionError, ValueError):
    """Stored sealed data is not a well-formed version 1 ``Sealed`` (junk, truncated JSON,
    missing or extra fields, bad base64, wrong lengths)."""


@dataclass(frozen=True, repr=False)
class Sealed:
    """One sealed story: everything needed to open it, given the KEK, tale id and owner."""

    version: int
    key_id: str
    """The KEK (and version) that wrapped the data key."""
    wrapped_key: bytes
    nonce: bytes
    ciphertext: bytes
    """AES-GCM ciphertext of the UTF-8 text, followed by the 16-byte tag."""

    def __post_init__(self) -> None:
        if type(self.version) is not int:
            raise SealedFormatError("sealed story version must be an integer")
        if self.version != VERSION:
            raise SealedFormatError(
                f"unsupported sealed story version {self.version} (this build reads {VERSION})"
            )
        if (
            not isinstance(self.key_id, str)
            or not self.key_id
            or len(self.key_id) > _MAX_KEY_ID
            or not self.key_id.isprintable()
        ):
            raise SealedFormatError(
                f"sealed story key id must be 1 to {_MAX_KEY_ID} printable characters"
            )
        for name, value, minimum in (
            ("wrapped key", self.wrapped_key, 1),
            ("nonce", self.nonce, NONCE_BYTES),
            ("ciphertext", self.ciphertext, TAG_BYTES),
        ):
            if not isinstance(value, bytes):
                raise SealedFormatError(f"sealed story {name} must be bytes")
            if len(value) < minimum:
                raise SealedFormatError(
                    f"sealed story {name} is too short ({len(value)} bytes, at least {minimum})"
                )
        if len(self.nonce) != NONCE_BYTES:
            raise SealedFormatError(
                f"sealed story nonce must be {NONCE_BYTES} bytes, not {len(self.nonce)}"
            )

    def __repr__(self) -> str:
        return (
            f"Sealed(version={self.version}, key_id={self.key_id!r}, "
            f"wrapped_key=<{len(self.wrapped_key)} bytes>, nonce=<{len(self.nonce)} bytes>, "
            f"ciphertext=<{len(self.ciphertext)} bytes>)"
        )

    def to_json(self) -> str:
        """Compact JSON with base64 (standard alphabet, padded) byte fields."""
        return json.dumps(
            {
                "v": self.version,
                "kid": self.key_id,
                "wk": _b64encode(self.wrapped_key),
                "n": _b64encode(self.nonce),
                "ct": _b64encode(self.ciphertext),
            },
            separators=(",", ":"),
            ensure_ascii=True,
        )

    @classmethod
    def from_json(cls, text: str) -> Sealed:
        """Parse ``to_json`` output strictly; raise ``SealedFormatError`` on anything else.

        Error messages describe what is wrong without echoing the input (which might be a
        story stored in the clear by mistake).
        """
        raw = _parse_object(text)
        version = raw["v"]
        if type(version) is not int:
            raise SealedFormatError(
                f"sealed story 'v' must be an integer, not {_json_type(version)}"
            )
        key_id = raw["kid"]
        if not isinstance(key_id, str):
            raise SealedFormatError(
                f"sealed story 'kid' must be a string, not {_json_type(key_id)}"
            )
        return cls(
            version=version,
            key_id=key_id,
            wrapped_key=_b64decode("wk", raw["wk"]),
            nonce=_b64decode("n", raw["n"]),
            ciphertext=_b64decode("ct", raw["ct"]),
        )


def seal(plaintext: str, *, tale_id: str, owner: str, keys: KeyWrapper) -> Sealed:
    """Encrypt ``plaintext`` for ``tale_id`` and ``owner`` under a fresh data key."""
    _check_context(tale_id, owner)
    if not isinstance(plaintext, str):
        raise TypeError(f"story text must be str, not {type(plaintext).__name__}")
    # A UnicodeEncodeError carries the text itself (``.object``): raise outside the handler so
    # it is not even kept as ``__context__``.
    bad_at: int | None = None
    try:
        data = plaintext.encode("utf-8")
    except UnicodeEncodeError as exc:
        bad_at = exc.start
    if bad_at is not None:
        raise ValueError(f"story text is not valid Unicode (unpaired surrogate at index {bad_at})")
    key_id = keys.key_id
    if not isinstance(key_id, str) or not key_id or not key_id.isprintable():
        raise ValueError("the key wrapper's key_id must be a non-empty printable string")
    data_key = AESGCM.generate_key(bit_length=DATA_KEY_BYTES * 8)
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = AESGCM(data_key).encrypt(
        nonce, data, _associated(b"text", tale_id=tale_id, owner=owner, key_id=key_id)
    )
    wrapped_key = keys.wrap(
        data_key, _associated(b"data-key", tale_id=tale_id, owner=owner, key_id=key_id)
    )
    return Sealed(
        version=VERSION,
        key_id=key_id,
        wrapped_key=wrapped_key,
        nonce=nonce,
        ciphertext=ciphertext,
    )


def open_sealed(sealed: Sealed, *, tale_id: str, owner: str, keys: KeyWrapper) -> str:
    """Decrypt a sealed story; raise ``DecryptionError`` unless it was sealed for exactly this
    tale id and owner, under a KEK ``keys`` holds, and is unaltered."""
    _check_context(tale_id, owner)
    if not isinstance(sealed, Sealed):
        raise TypeError(f"expected a Sealed, not {type(sealed).__name__}")
    try:
        data_key = keys.unwrap(
            sealed.wrapped_key,
            _associated(b"data-key", tale_id=tale_id, owner=owner, key_id=sealed.key_id),
        )
    except KeyUnwrapError as exc:
        _fail(
            f"the data key of tale {tale_id!r} did not unwrap under {sealed.key_id!r} "
            f"({exc.reason}): wrong tale id or owner, wrong key-encryption key, "
            "or altered data",
            cause=exc,
        )
    if len(data_key) != DATA_KEY_BYTES:
        _fail(f"the unwrapped data key of tale {tale_id!r} has the wrong length")
    try:
        data = AESGCM(data_key).decrypt(
            sealed.nonce,
            sealed.ciphertext,
            _associated(b"text", tale_id=tale_id, owner=owner, key_id=sealed.key_id),
        )
    except InvalidTag:
        _fail(
            f"the story ciphertext of tale {tale_id!r} failed authentication: "
            "altered, or sealed for a different tale or owner"
        )
    # Unreachable for data this module sealed. A UnicodeDecodeError carries the plaintext, so
    # the DecryptionError is raised outside the handler, without it as ``__context__``.
    text: str | None = None
    with contextlib.suppress(UnicodeDecodeError):
        text = data.decode("utf-8")
    if text is None:
        _fail(f"the decrypted story of tale {tale_id!r} is not UTF-8 text")
    return text


# --- helpers ---------------------------------------------------------------------------------


def _fail(reason: str, cause: BaseException | None = None) -> NoReturn:
    raise DecryptionError(reason) from cause


def _check_context(tale_id: str, owner: str) -> None:
    for name, value in (("tale_id", tale_id), ("owner", owner)):
        if not isinstance(value, str) or not value:
            raise ValueError(f"{name} must be a non-empty string")


def _associated(purpose: bytes, *, tale_id: str, owner: str, key_id: str) -> bytes:
    """Unambiguous associated data: each part length-prefixed (4 bytes, big-endian)."""
    parts = (
        b"tale.sealed-story",
        str(VERSION).encode("ascii"),
        purpose,
        tale_id.encode("utf-8", "surrogatepass"),
        owner.encode("utf-8", "surrogatepass"),
        key_id.encode("utf-8", "surrogatepass"),
    )
    return b"".join(len(p).to_bytes(4, "big") + p for p in parts)


def _parse_object(text: str) -> dict[str, Any]:
    """The JSON object in ``text``, with exactly the fields ``_FIELDS``."""
    if not isinstance(text, str):
        raise SealedFormatError(f"sealed story must be JSON text, not {type(text).__name__}")
    # JSONDecodeError keeps the whole input (``.doc``): raise outside the handler.
    problem: str | None = None
    try:
        raw = json.loads(text, object_pairs_hook=_strict_object, parse_constant=_no_constant)
    except SealedFormatError:
        raise  # from the hooks: a repeated field, NaN or Infinity
    except json.JSONDecodeError as exc:
        problem = f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    except ValueError:
        problem = "a number is too long"
    except RecursionError:
        problem = "nested too deeply"
    if problem is not None:
        raise SealedFormatError(f"sealed story is not valid JSON ({problem})")
    if not isinstance(raw, dict):
        raise SealedFormatError(f"sealed story must be a JSON object, not {_json_type(raw)}")
    missing = [f for f in _FIELDS if f not in raw]
    extra = sorted(k for k in raw if k not in _FIELDS)
    if missing or extra:
        problems = []
        if missing:
            problems.append("missing " + ", ".join(missing))
        if extra:
            problems.append("unexpected " + ", ".join(_short(k) for k in extra[:5]))
        raise SealedFormatError(
            f"sealed story fields are wrong ({'; '.join(problems)}); "
            f"expected exactly {', '.join(_FIELDS)}"
        )
    return raw


def _b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64decode(name: str, value: Any) -> bytes:
    if not isinstance(value, str):
        raise SealedFormatError(
            f"sealed story {name!r} must be a base64 string, not {_json_type(value)}"
        )
    if not value.isascii():
        raise SealedFormatError(f"sealed story {name!r} is not base64 (non-ASCII characters)")
    try:
        data = base64.b64decode(value, validate=True)
    except binascii.Error:
        raise SealedFormatError(f"sealed story {name!r} is not valid base64") from None
    if _b64encode(data) != value:
        raise SealedFormatError(f"sealed story {name!r} is not canonical padded base64")
    return data


def _strict_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise SealedFormatError(f"sealed story JSON repeats the field {_short(key)}")
        result[key] = value
    return result


def _no_constant(name: str) -> NoReturn:
    raise SealedFormatError(f"sealed story JSON contains {name}, which is not JSON")


def _short(name: str) -> str:
    return repr(name if len(name) <= 24 else name[:24] + "…")


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
