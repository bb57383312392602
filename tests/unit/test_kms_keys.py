"""The Cloud KMS key wrapper against a hand-written KMS stand-in that really encrypts (AES-GCM
with the additional authenticated data), with the real client's method signatures."""

from __future__ import annotations

import inspect
import os
from types import SimpleNamespace
from typing import Any

import google_crc32c
import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.api_core.exceptions import InvalidArgument
from google.cloud import kms

from shared.adapters.gcp.kms_keys import KmsKeyWrapper
from shared.crypto.sealing import DecryptionError, open_sealed, seal

KEY = "projects/p/locations/global/keyRings/tale/cryptoKeys/stories"


def crc(data: bytes) -> int:
    return int(google_crc32c.value(data))


class FakeKms:
    def __init__(self) -> None:
        self.key = AESGCM.generate_key(bit_length=256)
        self.calls: list[str] = []

    def encrypt(
        self,
        request: Any = None,
        *,
        name: Any = None,
        plaintext: Any = None,
        retry: Any = None,
        timeout: Any = None,
        metadata: Any = (),
    ) -> Any:
        self.calls.append("encrypt")
        assert request["name"] == KEY
        assert request["plaintext_crc32c"] == crc(request["plaintext"])
        nonce = os.urandom(12)
        ct = nonce + AESGCM(self.key).encrypt(
            nonce, request["plaintext"], request["additional_authenticated_data"]
        )
        return SimpleNamespace(
            ciphertext=ct, ciphertext_crc32c=crc(ct), verified_plaintext_crc32c=True
        )

    def decrypt(
        self,
        request: Any = None,
        *,
        name: Any = None,
        ciphertext: Any = None,
        retry: Any = None,
        timeout: Any = None,
        metadata: Any = (),
    ) -> Any:
        self.calls.append("decrypt")
        blob = request["ciphertext"]
        try:
            pt = AESGCM(self.key).decrypt(
                blob[:12], blob[12:], request["additional_authenticated_data"]
            )
        except InvalidTag as exc:
            raise InvalidArgument("Decryption failed") from exc
        return SimpleNamespace(plaintext=pt, plaintext_crc32c=crc(pt))


def test_fake_has_the_real_clients_signatures() -> None:
    real = kms.KeyManagementServiceClient
    for method in ("encrypt", "decrypt"):
        assert (
            list(inspect.signature(getattr(FakeKms, method)).parameters)[:2]
            == list(inspect.signature(getattr(real, method)).parameters)[:2]
        )


def test_stories_seal_and_open_through_kms() -> None:
    keys = KmsKeyWrapper(FakeKms(), KEY)
    sealed = seal("달빛 아래 여우가 걸었다.", tale_id="tale-000001", owner="u1", keys=keys)
    assert sealed.key_id == f"kms:{KEY}"
    assert (
        open_sealed(sealed, tale_id="tale-000001", owner="u1", keys=keys)
        == "달빛 아래 여우가 걸었다."
    )
    with pytest.raises(DecryptionError):
        open_sealed(sealed, tale_id="tale-000002", owner="u1", keys=keys)
    with pytest.raises(DecryptionError):
        open_sealed(sealed, tale_id="tale-000001", owner="u2", keys=keys)
