"""Cloud Storage blob store: media objects in one bucket, V4 signed URLs for reading them.

- Writes: a Cloud Storage object write is atomic (readers see the old or the new object, never
  a partial one), which is what the port promises. Payloads up to 8 MiB go in one multipart
  request; larger ones use a resumable upload sent in 8 MiB chunks, so a dropped connection
  resumes from the last chunk instead of starting over.
- Retries: only named transient failures are retried, inside the adapter, with exponential
  backoff and a deadline (``RETRY``): ``ServiceUnavailable``, ``InternalServerError``,
  ``TooManyRequests`` and ``requests.ConnectionError`` (and the same 503/500/429 answers when
  the media layer reports them as ``InvalidResponse`` before they are mapped). When the
  deadline passes they surface as ``TransientError`` (the message being handled is
  redelivered). Every other error propagates unchanged.
- Signed URLs (V4, GET): credentials holding a private key (a service-account key file) sign
  locally. On Cloud Functions there is no key: the runtime's credentials cannot sign, so the
  string to sign goes to the IAM Credentials ``signBlob`` API as the service account
  ``signer_email`` (default: the credentials' own account), authorised by a fresh access token.
  That account needs ``iam.serviceAccounts.signBlob`` on itself
  (``roles/iam.serviceAccountTokenCreator``).
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import google.auth.credentials
import google.auth.transport.requests
import google.cloud.storage as storage
import requests
from google.api_core import exceptions as api_exceptions
from google.api_core.retry import Retry
from google.cloud.storage.exceptions import InvalidResponse

from shared.domain.errors import TransientError
from shared.metering import count
from shared.ports.blobs import BlobNotFound, BlobStore

MiB = 1024 * 1024
RESUMABLE_THRESHOLD = 8 * MiB
"""Payloads larger than this use a resumable upload (google-cloud-storage's own cut-off)."""
CHUNK_SIZE = 8 * MiB
"""Resumable upload chunk size (a multiple of 256 KiB, as the API requires)."""
MAX_SIGNED_URL_S = 7 * 24 * 3600
"""V4 signed URLs live at most seven days."""

TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    api_exceptions.ServiceUnavailable,
    api_exceptions.InternalServerError,
    api_exceptions.TooManyRequests,
    requests.ConnectionError,
)
_TRANSIENT_STATUS = frozenset({429, 500, 503})


def is_transient(exc: BaseException) -> bool:
    """The retry predicate: named transient errors only."""
    if isinstance(exc, TRANSIENT_ERRORS):
        return True
    if isinstance(exc, InvalidResponse):  # the media layer's HTTP error, before it is mapped
        return getattr(exc.response, "status_code", None) in _TRANSIENT_STATUS
    return False


RETRY = Retry(predicate=is_transient, initial=0.5, maximum=8.0, multiplier=2.0, timeout=60.0)
"""Bounded exponential backoff: 0.5 s, 1 s, 2 s … at most 8 s apart, for at most 60 s."""


def check_path(path: str) -> str:
    """Reject what is not a plain relative object path (no ``..``, no leading ``/``)."""
    if not path or path.startswith("/") or "\\" in path:
        raise ValueError(f"invalid blob path: {path!r}")
    if any(part in ("", ".", "..") for part in path.split("/")):
        raise ValueError(f"invalid blob path: {path!r}")
    if any(ord(c) < 32 or ord(c) == 127 for c in path):
        raise ValueError(f"invalid blob path: {path!r}")
    return path


@contextmanager
def _transient_as_tale_error(what: str) -> Iterator[None]:
    """Errors still transient once the retries are spent become ``TransientError``."""
    try:
        yield
    except api_exceptions.RetryError as exc:
        raise TransientError(f"Cloud Storage {what}: retries exhausted: {exc.cause!r}") from exc
    except Exception as exc:
        if is_transient(exc):
            raise TransientError(f"Cloud Storage {what}: {type(exc).__name__}: {exc}") from exc
        raise


class GcsBlobStore(BlobStore):
    def __init__(
        self,
        client: storage.Client,
        bucket: str,
        *,
        signer_email: str | None = None,
        credentials: google.auth.credentials.Credentials | None = None,
        retry: Retry = RETRY,
    ) -> None:
        """``signer_email``: the service account whose key signs URLs through IAM ``signBlob``
        when ``credentials`` (default: the client's) cannot sign locally."""
        self.client = client
        self.bucket_name = bucket
        self._bucket = client.bucket(bucket)
        self.signer_email = signer_email
        self._credentials: Any = credentials if credentials is not None else client._credentials
        self._retry = retry
        self._refresh_lock = threading.Lock()

    @classmethod
    def from_settings(
        cls,
        project: str,
        bucket: str,
        signer_email: str | None = None,
        check: Callable[[Any], Any] | None = None,
    ) -> GcsBlobStore:
        """A store on the application default credentials (the function's service account);
        ``check`` vets the client's endpoint (the egress policy) before it is used."""
        client = storage.Client(project=project)
        if check is not None:
            check(client)
        return cls(client, bucket, signer_email=signer_email)

    # --- writes ---------------------------------------------------------------------------
    def _blob(self, path: str, size: int = 0) -> Any:
        chunk = CHUNK_SIZE if size > RESUMABLE_THRESHOLD else None
        return self._bucket.blob(check_path(path), chunk_size=chunk)

    def put_bytes(self, path: str, data: bytes, content_type: str) -> None:
        blob = self._blob(path, len(data))
        with _transient_as_tale_error(f"upload of {path}"):
            blob.upload_from_string(data, content_type=content_type, retry=self._retry)
        _count_write(len(data))

    def put_file(self, path: str, source: Path, content_type: str) -> None:
        blob = self._blob(path, source.stat().st_size)
        with _transient_as_tale_error(f"upload of {path}"):
            blob.upload_from_filename(str(source), content_type=content_type, retry=self._retry)
        _count_write(source.stat().st_size)

    # --- reads ----------------------------------------------------------------------------
    def get_bytes(self, path: str) -> bytes:
        count("gcs_reads")
        blob = self._blob(path)
        try:
            with _transient_as_tale_error(f"read of {path}"):
                return bytes(blob.download_as_bytes(retry=self._retry))
        except api_exceptions.NotFound as exc:
            raise BlobNotFound(path) from exc

    def download(self, path: str, dest: Path) -> Path:
        """Download to a temporary file beside ``dest``, then rename: ``dest`` is never partial."""
        count("gcs_reads")
        blob = self._blob(path)
        tmp = dest.with_name(f".{dest.name}.{secrets.token_hex(4)}.part")
        try:
            with _transient_as_tale_error(f"download of {path}"):
                blob.download_to_filename(str(tmp), retry=self._retry)
            os.replace(tmp, dest)
        except api_exceptions.NotFound as exc:
            raise BlobNotFound(path) from exc
        finally:
            tmp.unlink(missing_ok=True)
        return dest

    def exists(self, path: str) -> bool:
        count("gcs_reads")
        blob = self._blob(path)
        with _transient_as_tale_error(f"lookup of {path}"):
            return bool(blob.exists(retry=self._retry))

    def delete(self, path: str) -> bool:
        blob = self._blob(path)
        try:  # not metered: Cloud Storage does not charge for deletes
            with _transient_as_tale_error(f"delete of {path}"):
                blob.delete(retry=self._retry)
        except api_exceptions.NotFound:
            return False
        return True

    def list_paths(self, prefix: str) -> list[str]:
        count("gcs_writes")  # a list is a class A operation, priced as the writes are
        with _transient_as_tale_error(f"listing of {prefix}"):
            blobs = self.client.list_blobs(self._bucket, prefix=prefix, retry=self._retry)
            return sorted(str(b.name) for b in blobs)

    def uri(self, path: str) -> str:
        return f"gs://{self.bucket_name}/{check_path(path)}"

    # --- signed URLs ----------------------------------------------------------------------
    def can_sign_locally(self) -> bool:
        """True when the credentials hold a signer (a service-account key)."""
        return isinstance(self._credentials, google.auth.credentials.Signing)

    def _iam_signing(self) -> dict[str, str]:
        """``service_account_email`` and a fresh ``access_token`` for IAM ``signBlob``."""
        creds = self._credentials
        with self._refresh_lock:
            if not creds.valid:  # no token yet, or one about to expire
                creds.refresh(google.auth.transport.requests.Request())
            token = creds.token
        # Compute Engine credentials report "default" until their first refresh.
        email = self.signer_email or getattr(creds, "service_account_email", None)
        if not email or email == "default":
            raise RuntimeError(
                "cannot sign URLs: the credentials hold no key and name no service account; "
                "set signer_email"
            )
        if not token:
            raise RuntimeError("cannot sign URLs: the credentials gave no access token")
        return {"service_account_email": str(email), "access_token": str(token)}

    def signed_url(self, path: str, expires_s: int = 3600) -> str:
        if not 1 <= expires_s <= MAX_SIGNED_URL_S:
            raise ValueError(f"expires_s must be within 1..{MAX_SIGNED_URL_S}, not {expires_s}")
        blob = self._blob(path)
        iam = {} if self.can_sign_locally() else self._iam_signing()
        return str(
            blob.generate_signed_url(
                version="v4",
                expiration=dt.timedelta(seconds=expires_s),
                method="GET",
                credentials=self._credentials,
                **iam,
            )
        )


def _count_write(size: int) -> None:
    count("gcs_writes")
    count("gcs_bytes_written", size)
