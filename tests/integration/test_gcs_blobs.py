"""GcsBlobStore against gcp-storage-emulator, and its V4 signed URLs (local key and IAM signBlob).

The blob contract itself runs against the emulator in ``tests/contract/test_blob_contract.py``;
this module covers what the contract does not: the resumable path for large files, retries,
path safety, and how URLs are signed. Signing needs no peer: the string to sign is recomputed
here from the URL (the V4 algorithm) and the signature checked with the public key; the IAM
``signBlob`` call is answered by a ``requests`` transport adapter.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import google.auth.credentials
import pytest
import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from google.api_core import exceptions as api_exceptions
from google.api_core.retry import Retry
from google.auth import crypt
from google.cloud import storage
from google.oauth2 import service_account

from shared.adapters.gcp.gcs_blobs import CHUNK_SIZE, GcsBlobStore, is_transient
from shared.domain.errors import TransientError
from shared.ports.blobs import BlobNotFound
from tests.gcs_emulator import GcsEmulator, gcs_bucket, gcs_client, gcs_emulator

__all__ = ["gcs_bucket", "gcs_client", "gcs_emulator"]

MiB = 1024 * 1024
SA_EMAIL = "tale-api@tale-test.iam.gserviceaccount.com"
TOKEN_URI = "https://oauth2.googleapis.com/token"


# --- HTTP plumbing --------------------------------------------------------------------------
def is_object_request(request: requests.PreparedRequest) -> bool:
    """An object read or write (not the client's background bucket-metadata lookup)."""
    path = urlsplit(request.url or "").path
    return "/o/" in path or path.endswith("/o") or path.startswith("/upload/")


class RecordingAdapter(requests.adapters.HTTPAdapter):
    """Records object requests; ``fail`` may answer one instead of the peer.

    google-cloud-storage also fetches bucket metadata on a background thread (for its
    metrics); those requests pass through unrecorded so that counts are deterministic.
    """

    def __init__(self, fail: Callable[[requests.PreparedRequest, int], Any] | None = None):
        super().__init__()
        self.seen: list[requests.PreparedRequest] = []
        self.fail = fail

    def send(self, request: requests.PreparedRequest, *args: Any, **kw: Any) -> Any:
        if not is_object_request(request):
            return super().send(request, *args, **kw)
        self.seen.append(request)
        if self.fail is not None:
            answer = self.fail(request, len(self.seen))
            if isinstance(answer, BaseException):
                raise answer
            if answer is not None:
                return answer
        return super().send(request, *args, **kw)


def http_response(request: requests.PreparedRequest, status: int, body: dict[str, Any]) -> Any:
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(body).encode()
    response.headers["Content-Type"] = "application/json"
    response.url = request.url or ""
    response.request = request
    return response


def store_with(emu: GcsEmulator, bucket: str, adapter: RecordingAdapter, **kw: Any) -> GcsBlobStore:
    session = requests.Session()
    session.mount("http://", adapter)
    return GcsBlobStore(emu.client(_http=session), bucket, **kw)


# --- uploads and downloads ------------------------------------------------------------------
def test_large_file_goes_through_a_chunked_resumable_upload(
    gcs_emulator: GcsEmulator, gcs_bucket: str, tmp_path: Path
) -> None:
    adapter = RecordingAdapter()
    store = store_with(gcs_emulator, gcs_bucket, adapter)
    src = tmp_path / "clip.mp4"
    src.write_bytes(os.urandom(20 * MiB))

    started = time.perf_counter()
    store.put_file("tales/t/final.mp4", src, "video/mp4")
    uploaded = time.perf_counter() - started

    uploads = [r for r in adapter.seen if "uploadType=resumable" in (r.url or "")]
    starts = [r for r in uploads if r.method == "POST"]
    chunks = [r for r in uploads if r.method == "PUT"]
    assert len(starts) == 1 and len(uploads) == 4
    assert len(chunks) == -(-20 * MiB // CHUNK_SIZE) == 3
    assert [c.headers["Content-Range"] for c in chunks] == [
        f"bytes 0-{CHUNK_SIZE - 1}/{20 * MiB}",
        f"bytes {CHUNK_SIZE}-{2 * CHUNK_SIZE - 1}/{20 * MiB}",
        f"bytes {2 * CHUNK_SIZE}-{20 * MiB - 1}/{20 * MiB}",
    ]
    assert not any("uploadType=multipart" in (r.url or "") for r in adapter.seen)

    out = store.download("tales/t/final.mp4", tmp_path / "back.mp4")
    assert out.read_bytes() == src.read_bytes()
    assert store.get_bytes("tales/t/final.mp4") == src.read_bytes()
    blob = storage.Bucket(gcs_emulator.client(), gcs_bucket).get_blob("tales/t/final.mp4")
    assert blob.size == 20 * MiB and blob.content_type == "video/mp4"
    assert uploaded < 30


def test_small_payloads_use_one_multipart_request(
    gcs_emulator: GcsEmulator, gcs_bucket: str
) -> None:
    adapter = RecordingAdapter()
    store = store_with(gcs_emulator, gcs_bucket, adapter)
    store.put_bytes("tales/t/a.png", b"\x89PNG", "image/png")
    uploads = [r for r in adapter.seen if "/upload/" in (r.url or "")]
    assert len(uploads) == 1 and "uploadType=multipart" in (uploads[0].url or "")
    assert store.get_bytes("tales/t/a.png") == b"\x89PNG"


def test_download_of_a_missing_object_leaves_nothing(
    gcs_client: storage.Client, gcs_bucket: str, tmp_path: Path
) -> None:
    store = GcsBlobStore(gcs_client, gcs_bucket)
    with pytest.raises(BlobNotFound):
        store.download("tales/t/missing.mp4", tmp_path / "out.mp4")
    assert list(tmp_path.iterdir()) == []


def test_uri_and_path_safety(gcs_client: storage.Client, gcs_bucket: str) -> None:
    store = GcsBlobStore(gcs_client, gcs_bucket)
    assert store.uri("tales/t/final.mp4") == f"gs://{gcs_bucket}/tales/t/final.mp4"
    for bad in ("../escape", "/abs", "tales/../x", "tales//x", "tales/./x", "", "a\\b", "a\nb"):
        with pytest.raises(ValueError):
            store.put_bytes(bad, b"x", "text/plain")
        with pytest.raises(ValueError):
            store.uri(bad)


# --- retries --------------------------------------------------------------------------------
FAST = Retry(predicate=is_transient, initial=0.01, maximum=0.05, multiplier=2.0, timeout=0.5)


def test_transient_errors_are_retried(gcs_emulator: GcsEmulator, gcs_bucket: str) -> None:
    def flaky(request: requests.PreparedRequest, n: int) -> Any:
        if n == 1:
            return http_response(request, 503, {"error": {"code": 503, "message": "busy"}})
        if n == 2:
            return requests.ConnectionError("connection reset")
        if n == 3:
            return http_response(request, 429, {"error": {"code": 429, "message": "slow"}})
        return None

    adapter = RecordingAdapter(flaky)
    store = store_with(gcs_emulator, gcs_bucket, adapter, retry=FAST)
    store.put_bytes("tales/t/a.txt", b"one", "text/plain")
    assert len(adapter.seen) == 4
    assert store.get_bytes("tales/t/a.txt") == b"one"


def test_exhausted_retries_raise_transient_error(
    gcs_emulator: GcsEmulator, gcs_bucket: str
) -> None:
    adapter = RecordingAdapter(
        lambda r, n: http_response(r, 503, {"error": {"code": 503, "message": "down"}})
    )
    store = store_with(gcs_emulator, gcs_bucket, adapter, retry=FAST)
    started = time.monotonic()
    with pytest.raises(TransientError):
        store.put_bytes("tales/t/a.txt", b"one", "text/plain")
    with pytest.raises(TransientError):
        store.exists("tales/t/a.txt")
    assert time.monotonic() - started < 10
    assert len(adapter.seen) > 2


def test_other_errors_are_not_retried(gcs_emulator: GcsEmulator, gcs_bucket: str) -> None:
    adapter = RecordingAdapter(
        lambda r, n: http_response(r, 403, {"error": {"code": 403, "message": "denied"}})
    )
    store = store_with(gcs_emulator, gcs_bucket, adapter, retry=FAST)
    with pytest.raises(api_exceptions.Forbidden):
        store.exists("tales/t/a.txt")
    assert len(adapter.seen) == 1


# --- signed URLs: the V4 algorithm, recomputed ----------------------------------------------
def v4_string_to_sign(url: str) -> tuple[str, dict[str, str], str]:
    """(string to sign, query parameters, signature hex) of a V4 signed GET URL."""
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    signature = params.pop("X-Goog-Signature")
    canonical_query = "&".join(
        f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in sorted(params.items())
    )
    assert params["X-Goog-SignedHeaders"] == "host"
    canonical_request = "\n".join(
        ["GET", parts.path, canonical_query, f"host:{parts.netloc}\n", "host", "UNSIGNED-PAYLOAD"]
    )
    scope = params["X-Goog-Credential"].split("/", 1)[1]
    string_to_sign = "\n".join(
        [
            "GOOG4-RSA-SHA256",
            params["X-Goog-Date"],
            scope,
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        ]
    )
    return string_to_sign, params, signature


def check_v4_params(params: dict[str, str], email: str, expires_s: int) -> None:
    assert params["X-Goog-Algorithm"] == "GOOG4-RSA-SHA256"
    assert params["X-Goog-Expires"] == str(expires_s)
    signed_at = dt.datetime.strptime(params["X-Goog-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    assert abs((dt.datetime.now(dt.UTC) - signed_at).total_seconds()) < 120
    email_part, date, location, service, kind = params["X-Goog-Credential"].split("/")
    assert (email_part, date) == (email, params["X-Goog-Date"][:8])
    assert (location, service, kind) == ("auto", "storage", "goog4_request")


class RecordingSigner(crypt.Signer):
    def __init__(self, inner: crypt.Signer) -> None:
        self.inner = inner
        self.messages: list[bytes] = []

    @property
    def key_id(self) -> str | None:
        return self.inner.key_id

    def sign(self, message: str | bytes) -> bytes:
        data = message.encode() if isinstance(message, str) else message
        self.messages.append(data)
        return self.inner.sign(data)


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def offline_client(credentials: google.auth.credentials.Credentials) -> storage.Client:
    """A client for storage.googleapis.com; signing URLs makes no request."""
    return storage.Client(project="tale-test", credentials=credentials)


def test_signed_url_with_a_service_account_key_signs_locally(rsa_key: rsa.RSAPrivateKey) -> None:
    info = {
        "type": "service_account",
        "project_id": "tale-test",
        "private_key_id": "k1",
        "private_key": pem(rsa_key),
        "client_email": SA_EMAIL,
        "token_uri": TOKEN_URI,
    }
    creds = service_account.Credentials.from_service_account_info(info)
    store = GcsBlobStore(offline_client(creds), "tale-media")
    assert store.can_sign_locally()

    url = store.signed_url("tales/t/final clip.mp4", 600)
    assert url.startswith("https://storage.googleapis.com/tale-media/tales/t/final%20clip.mp4?")
    string_to_sign, params, signature = v4_string_to_sign(url)
    check_v4_params(params, SA_EMAIL, 600)
    public = rsa_key.public_key()
    public.verify(
        bytes.fromhex(signature), string_to_sign.encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    other_path, _, _ = v4_string_to_sign(url.replace("final%20clip.mp4", "other.mp4"))
    with pytest.raises(InvalidSignature):  # the signature covers the path
        public.verify(
            bytes.fromhex(signature), other_path.encode(), padding.PKCS1v15(), hashes.SHA256()
        )


def test_signed_url_signs_exactly_the_v4_string_to_sign(rsa_key: rsa.RSAPrivateKey) -> None:
    signer = RecordingSigner(crypt.RSASigner.from_string(pem(rsa_key), "k1"))
    creds = service_account.Credentials(signer, SA_EMAIL, TOKEN_URI)
    store = GcsBlobStore(offline_client(creds), "tale-media")
    url = store.signed_url("tales/t/final.mp4", 3600)
    string_to_sign, params, _ = v4_string_to_sign(url)
    assert signer.messages == [string_to_sign.encode()]
    check_v4_params(params, SA_EMAIL, 3600)


def test_signed_url_expiry_is_bounded(rsa_key: rsa.RSAPrivateKey) -> None:
    creds = service_account.Credentials(
        crypt.RSASigner.from_string(pem(rsa_key), "k1"), SA_EMAIL, TOKEN_URI
    )
    store = GcsBlobStore(offline_client(creds), "tale-media")
    for bad in (0, -1, 7 * 24 * 3600 + 1):
        with pytest.raises(ValueError):
            store.signed_url("tales/t/final.mp4", bad)


# --- signed URLs: IAM signBlob (Cloud Functions: no key) ------------------------------------
class TokenOnlyCredentials(google.auth.credentials.Credentials):
    """Like the metadata server's credentials: a token, an account, no key."""

    def __init__(self, email: str | None = SA_EMAIL) -> None:
        super().__init__()
        self.email = email
        self.refreshes = 0

    @property
    def service_account_email(self) -> str | None:
        return self.email

    def refresh(self, request: Any) -> None:
        self.refreshes += 1
        self.token = f"token-{self.refreshes}"
        self.expiry = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(hours=1)


SIGNATURE = bytes(range(256))


class SignBlobAdapter(requests.adapters.BaseAdapter):
    """Answers the IAM Credentials ``signBlob`` call; refuses every other request."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, dict[str, str], dict[str, Any]]] = []

    def send(self, request: requests.PreparedRequest, *args: Any, **kw: Any) -> Any:
        url = request.url or ""
        if not url.startswith("https://iamcredentials.googleapis.com/"):
            raise requests.ConnectionError(f"unexpected request: {request.method} {url}")
        body = request.body.decode() if isinstance(request.body, bytes) else str(request.body)
        self.calls.append((url, dict(request.headers), json.loads(body)))
        signed = base64.b64encode(SIGNATURE).decode()
        return http_response(request, 200, {"keyId": "k1", "signedBlob": signed})

    def close(self) -> None:
        pass


@pytest.fixture
def sign_blob(monkeypatch: pytest.MonkeyPatch) -> SignBlobAdapter:
    """Every new ``requests.Session`` (google-auth makes one per IAM call) gets the adapter."""
    adapter = SignBlobAdapter()
    real_session = requests.Session

    class Session(real_session):  # type: ignore[misc,valid-type]
        def __init__(self) -> None:
            super().__init__()
            self.mount("https://", adapter)
            self.mount("http://", adapter)

    monkeypatch.setattr(requests, "Session", Session)
    return adapter


def test_signed_url_without_a_key_goes_through_iam_sign_blob(sign_blob: SignBlobAdapter) -> None:
    creds = TokenOnlyCredentials()
    store = GcsBlobStore(offline_client(creds), "tale-media")
    assert not store.can_sign_locally()

    url = store.signed_url("tales/t/final.mp4", 900)
    string_to_sign, params, signature = v4_string_to_sign(url)
    check_v4_params(params, SA_EMAIL, 900)
    assert signature == SIGNATURE.hex()

    [(call_url, headers, body)] = sign_blob.calls
    assert call_url.startswith(
        f"https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/{SA_EMAIL}:signBlob"
    )
    assert headers["Authorization"] == "Bearer token-1"
    assert base64.b64decode(body["payload"]).decode() == string_to_sign

    store.signed_url("tales/t/other.mp4", 900)  # the token is still fresh: no refresh
    assert creds.refreshes == 1
    creds.expiry = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=1)
    store.signed_url("tales/t/other.mp4", 900)
    assert creds.refreshes == 2 and sign_blob.calls[-1][1]["Authorization"] == "Bearer token-2"


def test_configured_signer_email_is_the_signing_account(sign_blob: SignBlobAdapter) -> None:
    signer = "url-signer@tale-test.iam.gserviceaccount.com"
    store = GcsBlobStore(offline_client(TokenOnlyCredentials()), "tale-media", signer_email=signer)
    _, params, _ = v4_string_to_sign(store.signed_url("tales/t/final.mp4", 60))
    check_v4_params(params, signer, 60)
    assert f"/serviceAccounts/{signer}:signBlob" in sign_blob.calls[0][0]


def test_no_key_and_no_account_cannot_sign(sign_blob: SignBlobAdapter) -> None:
    for email in (None, "default"):
        store = GcsBlobStore(offline_client(TokenOnlyCredentials(email)), "tale-media")
        with pytest.raises(RuntimeError, match="signer_email"):
            store.signed_url("tales/t/final.mp4", 60)
    assert sign_blob.calls == []
