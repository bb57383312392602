"""The google-genai client in Vertex mode, and what its errors mean to Tale.

Transient HTTP failures (408, 429, 5xx, connection errors and timeouts) are retried inside
the SDK with exponential backoff and jitter — for idempotent calls only. google-genai applies
the client's ``HttpRetryOptions`` to every request (google-genai 3.6: ``_api_client.retry_args``
retries 408/429/500/502/503/504 and httpx timeouts and network errors, 5 attempts by
default), so a paid, non-idempotent start (Veo's ``predictLongRunning``) passes
``ONE_ATTEMPT`` as its per-request ``http_options``: a start whose answer was lost is never
sent again by the SDK (it may have started, and would bill twice).

What still fails after the retries reaches the adapters, which turn it into a domain error
with ``classify``: ``TransientError`` (the event is redelivered later) or ``PermanentError``
(the tale fails with a readable reason). A 404 on a call that names a model is
``ModelUnavailable`` (the configured model is retired or unknown): the operators are alerted.
"""

from __future__ import annotations

import httpx
from google import genai
from google.auth.credentials import Credentials
from google.genai import errors as genai_errors
from google.genai import types

from shared.domain.errors import ModelUnavailable, PermanentError, TransientError
from shared.observability.events import model_missing

__all__ = [
    "ONE_ATTEMPT",
    "RETRY_STATUS_CODES",
    "SDK_ERRORS",
    "classify",
    "is_transient",
    "make_client",
]

#: HTTP statuses the SDK retries with backoff (and ``classify`` calls transient).
RETRY_STATUS_CODES = (408, 429, 500, 502, 503, 504)

#: Per-request options of a non-idempotent call: sent once, whatever the client's retries.
ONE_ATTEMPT = types.HttpOptions(retry_options=types.HttpRetryOptions(attempts=1))


def _transport_errors() -> tuple[type[Exception], ...]:
    """Network-level failures worth retrying, for httpx and (the SDK's default) httpx2."""
    found: list[type[Exception]] = [
        httpx.TimeoutException,
        httpx.NetworkError,
        httpx.RemoteProtocolError,
    ]
    try:
        import httpx2
    except ImportError:  # pragma: no cover - httpx2 is an optional backend of the SDK
        pass
    else:
        found += [httpx2.TimeoutException, httpx2.NetworkError, httpx2.RemoteProtocolError]
    return tuple(found)


_TRANSPORT_ERRORS = _transport_errors()

#: What a call through the SDK may raise that ``classify`` understands.
SDK_ERRORS: tuple[type[Exception], ...] = (genai_errors.APIError, *_TRANSPORT_ERRORS)


def make_client(
    project: str,
    location: str,
    *,
    retry_attempts: int = 5,
    httpx_client: httpx.Client | None = None,
    credentials: Credentials | None = None,
    initial_delay_s: float = 1.0,
    max_delay_s: float = 30.0,
    jitter_s: float = 1.0,
    timeout_s: float | None = 300.0,
) -> genai.Client:
    """A Vertex AI client for ``project`` in ``location``.

    ``retry_attempts`` counts the first request too. ``httpx_client`` replaces the SDK's own
    HTTP client (tests pass one with a mock transport); ``credentials`` default to the
    application default credentials. ``timeout_s`` bounds each request.
    """
    options = types.HttpOptions(
        retry_options=types.HttpRetryOptions(
            attempts=retry_attempts,
            initial_delay=initial_delay_s,
            max_delay=max_delay_s,
            exp_base=2,
            jitter=jitter_s,
            http_status_codes=list(RETRY_STATUS_CODES),
        ),
        timeout=None if timeout_s is None else int(timeout_s * 1000),
    )
    if httpx_client is not None:
        options.httpx_client = httpx_client
    return genai.Client(
        vertexai=True,
        project=project,
        location=location,
        credentials=credentials,
        http_options=options,
    )


def is_transient(exc: BaseException) -> bool:
    """True for throttling (429), request timeouts (408), server errors (5xx) and network
    failures: retrying later may succeed."""
    if isinstance(exc, genai_errors.APIError):
        code = exc.code or 0
        return code in (408, 429) or 500 <= code < 600
    return isinstance(exc, _TRANSPORT_ERRORS)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, genai_errors.APIError):
        parts = [str(exc.code)]
        if exc.status:
            parts.append(str(exc.status))
        head = " ".join(parts)
        message = exc.message or str(exc.details or "")
        return f"{head}: {message}" if message else head
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


_PERMANENT_MEANING = {
    400: "the request was rejected as invalid",
    401: "the credentials were not accepted",
    403: "permission denied (is the Vertex AI API enabled and the model allowed?)",
    404: "the model or resource was not found",
}


def classify(
    exc: BaseException, *, model: str | None = None, provider: str = "", setting: str = ""
) -> Exception:
    """The domain error for an SDK error left after the SDK's own retries.

    With ``model`` (a call that names a model: generate, predict), a 404 means the model
    itself is not there: ``ModelUnavailable``, with the setting to change (``setting``) and an
    operator alert. Already-classified errors are returned unchanged; use as
    ``raise classify(exc) from exc``.
    """
    if isinstance(exc, TransientError | PermanentError):
        return exc
    reason = _reason(exc)
    if model and isinstance(exc, genai_errors.APIError) and exc.code == 404:
        return model_unavailable(provider or "vertex", model, reason, setting)
    if is_transient(exc):
        if isinstance(exc, genai_errors.APIError) and exc.code == 429:
            return TransientError(f"Vertex AI quota or rate limit exceeded ({reason})")
        return TransientError(f"Vertex AI is unavailable or timed out ({reason})")
    if isinstance(exc, genai_errors.APIError):
        meaning = _PERMANENT_MEANING.get(exc.code, "the request failed")
        return PermanentError(f"Vertex AI: {meaning} ({reason})")
    return PermanentError(f"Vertex AI call failed ({reason})")


def model_unavailable(provider: str, model: str, reason: str, setting: str) -> ModelUnavailable:
    """The error (and the operators' alert) for a configured model Vertex AI does not serve."""
    model_missing(provider, model, reason)
    where = f"set {setting} to a current model" if setting else "configure a current model"
    return ModelUnavailable(
        f"model {model} is not available on Vertex AI ({reason}); it may have been retired: "
        f"{where} (tale doctor checks the configured models)"
    )
