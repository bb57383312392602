"""Cloud KMS key-encryption key: wraps each story's data key on Google Cloud.

The wrapped bytes are KMS ciphertext, which records the key version that made it, so stories
stay readable after a rotation. The associated data (tale id, owner, key id) is passed as
KMS additional authenticated data; CRC32C checksums guard the request and response as the
KMS documentation recommends. Transient errors are retried by the client's default retry; a
refusal to decrypt (wrong key or associated data) is a ``KeyUnwrapError``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.ports.keys import KeyUnwrapError, KeyWrapper


def _crc32c(data: bytes) -> int:
    import google_crc32c

    return int(google_crc32c.value(data))


class KmsKeyWrapper(KeyWrapper):
    def __init__(self, client: Any, key_name: str) -> None:
        """``client``: a ``google.cloud.kms.KeyManagementServiceClient``; ``key_name``:
        ``projects/P/locations/L/keyRings/R/cryptoKeys/K``."""
        self._client = client
        self.key_name = key_name
        self.key_id = f"kms:{key_name}"

    @classmethod
    def from_settings(
        cls, key_name: str, check: Callable[[Any], Any] | None = None
    ) -> KmsKeyWrapper:
        """``check`` vets the client's endpoint (the egress policy) before it is used."""
        from google.cloud import kms

        client = kms.KeyManagementServiceClient()
        if check is not None:
            check(client)
        return cls(client, key_name)

    def wrap(self, data_key: bytes, associated: bytes) -> bytes:
        response = self._client.encrypt(
            request={
                "name": self.key_name,
                "plaintext": data_key,
                "additional_authenticated_data": associated,
                "plaintext_crc32c": _crc32c(data_key),
                "additional_authenticated_data_crc32c": _crc32c(associated),
            }
        )
        if not response.verified_plaintext_crc32c or int(response.ciphertext_crc32c) != _crc32c(
            response.ciphertext
        ):
            raise RuntimeError("Cloud KMS encrypt: the request or response was corrupted")
        return bytes(response.ciphertext)

    def unwrap(self, wrapped: bytes, associated: bytes) -> bytes:
        from google.api_core.exceptions import InvalidArgument

        try:
            response = self._client.decrypt(
                request={
                    "name": self.key_name,
                    "ciphertext": wrapped,
                    "additional_authenticated_data": associated,
                    "ciphertext_crc32c": _crc32c(wrapped),
                    "additional_authenticated_data_crc32c": _crc32c(associated),
                }
            )
        except InvalidArgument as exc:
            raise KeyUnwrapError("Cloud KMS refused to unwrap the data key") from exc
        if int(response.plaintext_crc32c) != _crc32c(response.plaintext):
            raise RuntimeError("Cloud KMS decrypt: the response was corrupted")
        return bytes(response.plaintext)
