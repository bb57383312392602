"""Key wrapper port: a key-encryption key (KEK) that wraps and unwraps data keys.

Story text is sealed with envelope encryption (``shared.crypto.sealing``): a fresh data key
per story encrypts the text, and a ``KeyWrapper`` wraps that data key under a KEK that never
leaves it (Cloud KMS on GCP, a local key file in the embedded default).

``associated`` is authenticated but not encrypted: ``unwrap`` succeeds only with the exact
bytes given to ``wrap``, which binds a wrapped key to its context (tale id, owner).

A wrapped key must name the KEK version that wrapped it (as a Cloud KMS ciphertext does), so
``unwrap`` picks the right version after a rotation without being told.
"""

from __future__ import annotations

from abc import ABC, abstractmethod


class KeyUnwrapError(Exception):
    """The wrapped key cannot be unwrapped here: an unknown KEK, the wrong associated data, or
    altered bytes. This is permanent for those inputs, unlike a transient failure (a network
    error reaching KMS), which implementations raise as anything else.

    ``reason`` says which, for people; it never contains key bytes.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class KeyWrapper(ABC):
    key_id: str
    """Identifies the KEK (and version) that ``wrap`` uses now; stored beside the wrapped key,
    e.g. ``local:3f9a…`` or a Cloud KMS crypto key version name."""

    @abstractmethod
    def wrap(self, data_key: bytes, associated: bytes) -> bytes:
        """Encrypt ``data_key`` under the current KEK, authenticating ``associated``."""

    @abstractmethod
    def unwrap(self, wrapped: bytes, associated: bytes) -> bytes:
        """Return the data key inside ``wrapped``; raise ``KeyUnwrapError`` when it cannot be
        unwrapped (unknown KEK, different ``associated``, altered bytes)."""
