"""The egress guard: scenario B's HTTP clients reach our own endpoints and nothing else.

Scenario B promises "your story never leaves our cloud project". Every ``httpx`` client that
may carry story text (the planner's calls to our vLLM server, the GPU worker's endpoints) is
built with ``guarded_client``: its transport is an ``EgressGuard`` that checks each request's
host — every hop of a redirect included — against an allow-list *before* anything is sent, and
raises ``EgressRefused`` otherwise. The guard is the application's half of the promise; the
network's half is in terraform (no Cloud NAT, Private Google Access, VPC Service Controls).

Allow-list entries are exact hosts (``vllm.tale.internal``) or ``*.suffix`` patterns
(``*.tale.internal``: any host under the suffix, not the suffix itself). A pattern must name at
least two labels after ``*.``, and a bare ``*`` is refused: the list names our endpoints.

The deny-list always wins. It names hosts that run AI inference outside our project, even where
an allow pattern would admit them (``*.googleapis.com`` admits ``firestore.googleapis.com`` but
not ``aiplatform.googleapis.com``): Vertex AI (``aiplatform.googleapis.com`` and its regional
``<region>-aiplatform.googleapis.com``), the Gemini API (``generativelanguage``), Google Cloud's
other model APIs (translation, language, speech, vision), OpenAI and Anthropic. Deny entries are
exact hosts (which also cover their subdomains) or patterns starting with ``*`` (``*-suffix``
or ``*.suffix``).

Google Cloud SDK traffic. The google clients Tale uses (Firestore, Cloud Storage, Pub/Sub,
Cloud KMS, Cloud Run) do not go through ``httpx`` — they use gRPC or ``requests`` — so this
transport cannot see them. They reach ``*.googleapis.com`` Google Cloud APIs that serve our own
project's resources: the story's bytes stay in our project's storage and database (encrypted
with our KMS key). In terraform those APIs are the only egress the VPC offers (Private Google
Access, no NAT) and VPC Service Controls keep them to our project. ``check_sdk_endpoint`` is
the application-side check for them: call it on an SDK's endpoint override (``api_endpoint``
in ``client_options``) before building the client, and it refuses any host that is not a
Google Cloud API or that is an AI API on the deny-list.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

import httpx

__all__ = [
    "DENY",
    "GOOGLE_CLOUD_APIS",
    "EgressGuard",
    "EgressRefused",
    "check_host",
    "check_sdk_endpoint",
    "guarded_client",
    "host_matches",
]

#: Google Cloud APIs, the only hosts the google SDKs need (see the module docstring).
GOOGLE_CLOUD_APIS = "*.googleapis.com"

#: AI inference outside our project: refused whatever the allow-list says.
DENY: tuple[str, ...] = (
    "generativelanguage.googleapis.com",
    "aiplatform.googleapis.com",
    "*-aiplatform.googleapis.com",
    "api.openai.com",
    "api.anthropic.com",
    # Google Cloud's other model APIs: each would see the text or media it is given.
    "translate.googleapis.com",
    "translation.googleapis.com",
    "language.googleapis.com",
    "speech.googleapis.com",
    "*-speech.googleapis.com",
    "texttospeech.googleapis.com",
    "vision.googleapis.com",
    "videointelligence.googleapis.com",
)


class EgressRefused(PermissionError):
    """A request to a host that is not one of our own endpoints; nothing was sent."""

    def __init__(self, host: str, allow: Iterable[str] = ()) -> None:
        self.host = host
        self.allow = tuple(allow)
        super().__init__(
            f"egress to {host} refused: not one of our own endpoints ({', '.join(self.allow)})"
        )


def _normalise(host: str) -> str:
    """Lower case, without the trailing dot of a fully qualified name (``example.com.`` is
    ``example.com``; a dot must not slip a host past the lists)."""
    return host.strip().lower().rstrip(".")


def _check_allow_pattern(pattern: str) -> str:
    entry = _normalise(pattern)
    if not entry or any(c in entry for c in "/@: \t"):
        raise ValueError(f"allow-list entry {pattern!r}: name a host, without scheme or port")
    if "*" in entry:
        suffix = entry[2:]
        if not entry.startswith("*.") or "*" in suffix or suffix.count(".") < 1:
            raise ValueError(
                f"allow-list entry {pattern!r}: use an exact host or '*.suffix' with at least "
                "two labels after '*.' (a pattern may not admit a whole top-level domain)"
            )
    return entry


def host_matches(host: str, pattern: str) -> bool:
    """Whether ``host`` is ``pattern`` (an exact host) or matches it (``*`` followed by a
    suffix: any host that ends with the suffix and has something before it)."""
    host, pattern = _normalise(host), _normalise(pattern)
    if pattern.startswith("*"):
        suffix = pattern[1:]
        return len(host) > len(suffix) and host.endswith(suffix)
    return host == pattern


def _denied(host: str, deny: Iterable[str]) -> bool:
    for pattern in deny:
        if host_matches(host, pattern):
            return True
        # An exact deny entry also covers its subdomains.
        if not pattern.startswith("*") and host_matches(host, "*." + pattern):
            return True
    return False


def check_host(host: str, allow: Iterable[str], deny: Iterable[str] = DENY) -> None:
    """Raise ``EgressRefused`` unless ``host`` is on the allow-list and not on the deny-list."""
    allowed = tuple(allow)
    name = _normalise(host)
    if not name or _denied(name, deny) or not any(host_matches(name, p) for p in allowed):
        raise EgressRefused(name or host, allowed)


def check_sdk_endpoint(endpoint: str, deny: Iterable[str] = DENY) -> str:
    """Check a google SDK's endpoint (``host``, ``host:port`` or a URL) and return its host:
    it must be a Google Cloud API (``*.googleapis.com``) that is not an AI API on the
    deny-list; raises ``EgressRefused`` otherwise."""
    text = endpoint.strip()
    parsed = urlsplit(text if "//" in text else f"//{text}")
    host = parsed.hostname or ""
    check_host(host, (GOOGLE_CLOUD_APIS,), deny)
    return _normalise(host)


class EgressGuard(httpx.BaseTransport):
    """An ``httpx`` transport that passes a request to ``inner`` only when its host is on the
    allow-list and not on the deny-list; otherwise raises ``EgressRefused`` (nothing sent)."""

    def __init__(
        self,
        inner: httpx.BaseTransport,
        allow: Iterable[str],
        *,
        deny: Iterable[str] = DENY,
    ) -> None:
        self.inner = inner
        self.allow = tuple(_check_allow_pattern(p) for p in allow)
        self.deny = tuple(_normalise(p) for p in deny)
        if not self.allow:
            raise ValueError("an egress guard needs at least one allowed host")

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        # The ASCII (IDNA) form: what DNS will be asked, and what the lists are written in.
        host = request.url.raw_host.decode("ascii", errors="replace")
        check_host(host, self.allow, self.deny)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def guarded_client(
    allow: Iterable[str],
    *,
    transport: httpx.BaseTransport | None = None,
    timeout: float = 60,
) -> httpx.Client:
    """An ``httpx.Client`` whose every request passes the egress guard. ``transport`` is the
    inner transport (default: a plain ``httpx.HTTPTransport``). Environment proxies are not
    used (``trust_env=False``): the guard decides where requests go."""
    inner = transport if transport is not None else httpx.HTTPTransport()
    return httpx.Client(transport=EgressGuard(inner, allow), timeout=timeout, trust_env=False)
