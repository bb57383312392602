"""The egress guard: scenario B's HTTP clients reach our own endpoints and nothing else.

Scenario B promises "your story never leaves our cloud project". **One policy, enforced at
one place**: the composition root (``shared.bootstrap.Container.egress``) holds the process's
``EgressPolicy`` and builds every outbound client through it — each ``httpx`` client (the
planner's and trend explainer's calls to our vLLM server, the signing-key set, Supabase,
YouTube, SendGrid) with ``EgressPolicy.http_client``, whose transport is an ``EgressGuard``
that checks each request's host — every hop of a redirect included — against the allow-list
*before* anything is sent, and raises ``EgressRefused`` otherwise; and every google SDK client
(Firestore, Pub/Sub, Cloud Storage, Cloud KMS, Cloud Run) with ``EgressPolicy.check_sdk_client``,
which checks the endpoint the client will connect to. The guard is the application's half of
the promise; the network's half is in terraform (no Cloud NAT, Private Google Access, VPC
Service Controls).

Allow-list entries are exact hosts (``vllm.tale.internal``) or ``*.suffix`` patterns
(``*.tale.internal``: any host under the suffix, not the suffix itself). A pattern must name at
least two labels after ``*.``, no label may be empty (``*..com``), a bare ``*`` is refused, and
the suffix may not be a public suffix (``*.co.uk``, ``*.run.app``, ``*.appspot.com``: anyone
can own a host under those; the Public Suffix List, ``publicsuffixlist``) — except
``*.googleapis.com``, Google's API domain, whose AI APIs the deny-list takes out.

The deny-list always wins. It names hosts that run AI inference outside our project, even where
an allow pattern would admit them (``*.googleapis.com`` admits ``firestore.googleapis.com`` but
not ``aiplatform.googleapis.com``): OpenAI, Anthropic and the other model vendors by host, and
every Google AI API by *service* (``GOOGLE_AI_SERVICES``: Vertex AI, the Gemini API, Document
AI, Dialogflow, Discovery Engine, the legacy ``ml`` API, AutoML, translation, language, speech,
vision, video intelligence, ...) under any of Google's API domains and in every form Google
serves it — global (``aiplatform.googleapis.com``), mTLS (``aiplatform.mtls.googleapis.com``),
regional (``us-central1-aiplatform.googleapis.com``), regional mTLS
(``us-central1-aiplatform.mtls.googleapis.com``), regional endpoints
(``aiplatform.us-central1.rep.googleapis.com``), Private Service Connect
(``aiplatform-xyz.p.googleapis.com``). Deny entries are exact hosts (which also cover their
subdomains) or patterns starting with ``*`` (``*-suffix`` or ``*.suffix``).

Google Cloud SDK traffic. The google clients Tale uses (Firestore, Cloud Storage, Pub/Sub,
Cloud KMS, Cloud Run) do not go through ``httpx`` — they use gRPC or ``requests`` — so this
transport cannot see them. They reach ``*.googleapis.com`` Google Cloud APIs that serve our own
project's resources: the story's bytes stay in our project's storage and database (encrypted
with our KMS key). In terraform those APIs are the only egress the VPC offers (Private Google
Access, no NAT) and VPC Service Controls keep them to our project. ``check_sdk_endpoint`` is
the application-side check for them: ``EgressPolicy.check_sdk_client`` reads where a built
client connects (its ``api_endpoint``, or an emulator's host) and refuses any host that is not
a Google Cloud API (or on the allow-list, as an emulator may be) or that is an AI API.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

from shared.providers.ai_hosts import (
    DENY,
    GOOGLE_AI_SERVICES,
    GOOGLE_API_DOMAINS,
    google_ai_service,
)

__all__ = [
    "DENY",
    "GOOGLE_AI_SERVICES",
    "GOOGLE_API_DOMAINS",
    "GOOGLE_CLOUD_APIS",
    "EgressGuard",
    "EgressPolicy",
    "EgressRefused",
    "check_host",
    "check_sdk_endpoint",
    "google_ai_service",
    "guarded_client",
    "host_matches",
    "sdk_endpoint",
]

C = TypeVar("C")

#: Google Cloud APIs, the only hosts the google SDKs need (see the module docstring).
GOOGLE_CLOUD_APIS = "*.googleapis.com"


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
    if not entry or any(c in entry for c in "/@: \t\\?#[]"):
        raise ValueError(f"allow-list entry {pattern!r}: name a host, without scheme or port")
    if "" in entry.split("."):
        raise ValueError(f"allow-list entry {pattern!r}: a host name has no empty labels")
    if "*" in entry:
        suffix = entry[2:]
        if not entry.startswith("*.") or "*" in suffix or suffix.count(".") < 1:
            raise ValueError(
                f"allow-list entry {pattern!r}: use an exact host or '*.suffix' with at least "
                "two labels after '*.' (a pattern may not admit a whole top-level domain)"
            )
        if suffix != GOOGLE_CLOUD_APIS[2:] and _public_suffix(suffix):
            raise ValueError(
                f"allow-list entry {pattern!r}: {suffix} is a public suffix (anyone can own a "
                "host under it); name our own hosts"
            )
    return entry


def _public_suffix(domain: str) -> bool:
    return bool(_suffix_list().is_public(domain))


@cache
def _suffix_list() -> Any:
    from publicsuffixlist import PublicSuffixList  # the list ships with the package

    return PublicSuffixList()


def host_matches(host: str, pattern: str) -> bool:
    """Whether ``host`` is ``pattern`` (an exact host) or matches it (``*`` followed by a
    suffix: any host that ends with the suffix and has something before it)."""
    host, pattern = _normalise(host), _normalise(pattern)
    if pattern.startswith("*"):
        suffix = pattern[1:]
        return len(host) > len(suffix) and host.endswith(suffix)
    return host == pattern


def _denied(host: str, deny: Iterable[str]) -> bool:
    if google_ai_service(host) is not None:
        return True
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


def check_sdk_endpoint(endpoint: str, deny: Iterable[str] = DENY, allow: Iterable[str] = ()) -> str:
    """Check a google SDK's endpoint (``host``, ``host:port`` or a URL) and return its host:
    it must be a Google Cloud API (``*.googleapis.com``) — or on ``allow`` (an emulator) — and
    not an AI API on the deny-list; raises ``EgressRefused`` otherwise."""
    text = endpoint.strip()
    try:
        parsed = urlsplit(text if "//" in text else f"//{text}")
        host = parsed.hostname or ""
    except ValueError:
        host = ""
    check_host(host, (GOOGLE_CLOUD_APIS, *allow), deny)
    return _normalise(host)


def sdk_endpoint(client: Any) -> str:
    """Where a google SDK client connects: an emulator's host when it uses one, otherwise its
    API endpoint (GAPIC clients, Cloud Storage: ``api_endpoint``; Firestore: ``_target``)."""
    for name in ("_emulator_host", "api_endpoint", "_target"):
        value = getattr(client, name, None)
        if isinstance(value, str) and value:
            return value
    raise TypeError(f"cannot tell where a {type(client).__name__} connects")


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


@dataclass(frozen=True)
class EgressPolicy:
    """The process's one egress policy, held by the composition root, which builds every
    outbound client through it. Enforced (scenario B): ``http_client`` builds guarded clients
    that reach the allow-list (plus the one host a client is for) and never an AI host, and
    ``check_sdk_client`` refuses a google SDK client that would connect anywhere but a Google
    Cloud API or an allowed host. Not enforced (the embedded default, scenario A): plain
    clients, nothing checked."""

    allow: tuple[str, ...] = ()
    enforced: bool = False
    deny: tuple[str, ...] = DENY

    @classmethod
    def for_scenario(cls, scenario: str, allow: Iterable[str]) -> EgressPolicy:
        enforced = scenario == "B"
        entries = tuple(_check_allow_pattern(p) for p in allow) if enforced else tuple(allow)
        return cls(entries, enforced)

    def http_client(
        self,
        *also_allow: str,
        timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
    ) -> httpx.Client:
        """An ``httpx`` client for the allow-list and ``also_allow`` (the host the client is
        for: Supabase, YouTube, SendGrid), through the guard when enforced."""
        if not self.enforced:
            return httpx.Client(timeout=timeout, transport=transport)
        return guarded_client([*self.allow, *also_allow], transport=transport, timeout=timeout)

    def check_host(self, host: str, *also_allow: str) -> None:
        """For clients that are not HTTP (an SMTP relay): its host must be allowed."""
        if self.enforced:
            check_host(host, [*self.allow, *also_allow], self.deny)

    def check_sdk_client(self, client: C) -> C:
        """``client`` (a google SDK client), once its endpoint passed ``check_sdk_endpoint``."""
        if self.enforced:
            check_sdk_endpoint(sdk_endpoint(client), self.deny, self.allow)
        return client
