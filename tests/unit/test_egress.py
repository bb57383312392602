"""The egress guard: our own endpoints pass, every other host is refused before sending."""

from __future__ import annotations

import json

import httpx
import pytest

from shared.providers.egress import (
    DENY,
    EgressGuard,
    EgressRefused,
    check_host,
    check_sdk_endpoint,
    guarded_client,
    host_matches,
)

ALLOW = ["vllm.tale.internal", "*.googleapis.com", "*.worker.tale.internal"]


class Inner(httpx.BaseTransport):
    """Stands in for the network: records what reached it."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.closed = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200, json={"ok": True}, request=request)

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def inner() -> Inner:
    return Inner()


@pytest.fixture
def client(inner: Inner) -> httpx.Client:
    return guarded_client(ALLOW, transport=inner)


@pytest.mark.parametrize(
    "url",
    [
        "http://vllm.tale.internal:8000/v1/chat/completions",
        "https://firestore.googleapis.com/v1/projects/p/databases",
        "https://storage.googleapis.com/upload/storage/v1/b/media/o",
        "https://gpu-1.worker.tale.internal/render",
        "https://VLLM.Tale.Internal./v1/models",  # case and a trailing dot
    ],
)
def test_allowed_hosts_pass_through(client: httpx.Client, inner: Inner, url: str) -> None:
    response = client.post(url, json={"story": "서연이와 달토끼"})

    assert response.json() == {"ok": True}
    assert len(inner.requests) == 1
    assert inner.requests[0].url == httpx.URL(url)
    assert json.loads(inner.requests[0].content) == {"story": "서연이와 달토끼"}


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://example.com/collect", "example.com"),
        ("https://vllm.tale.internal.evil.com/v1", "vllm.tale.internal.evil.com"),
        ("https://evilvllm.tale.internal/v1", "evilvllm.tale.internal"),
        ("https://worker.tale.internal/render", "worker.tale.internal"),  # *.x is not x itself
        ("https://googleapis.com/", "googleapis.com"),
        ("https://googleapis.com.evil.net/", "googleapis.com.evil.net"),
        ("http://169.254.169.254/computeMetadata/v1/", "169.254.169.254"),
    ],
)
def test_hosts_outside_the_allow_list_are_refused_before_sending(
    client: httpx.Client, inner: Inner, url: str, host: str
) -> None:
    with pytest.raises(EgressRefused) as caught:
        client.post(url, json={"story": "secret"})

    assert caught.value.host == host
    assert str(caught.value) == (
        f"egress to {host} refused: not one of our own endpoints ({', '.join(ALLOW)})"
    )
    assert isinstance(caught.value, PermissionError)
    assert inner.requests == []


@pytest.mark.parametrize(
    "host",
    [
        "aiplatform.googleapis.com",
        "us-central1-aiplatform.googleapis.com",
        "europe-west4-aiplatform.googleapis.com",
        "generativelanguage.googleapis.com",
        "GenerativeLanguage.googleapis.com.",
        "translate.googleapis.com",
        "texttospeech.googleapis.com",
    ],
)
def test_deny_list_wins_over_a_matching_allow_pattern(
    client: httpx.Client, inner: Inner, host: str
) -> None:
    assert host_matches(host, "*.googleapis.com")  # the allow pattern would admit it

    with pytest.raises(EgressRefused, match="refused: not one of our own endpoints"):
        client.post(f"https://{host}/v1/projects/p:generateContent", json={"contents": "story"})

    assert inner.requests == []


@pytest.mark.parametrize("host", ["api.openai.com", "api.anthropic.com"])
def test_deny_list_wins_even_over_an_exact_allow_entry(inner: Inner, host: str) -> None:
    client = guarded_client([host], transport=inner)

    with pytest.raises(EgressRefused, match=host.replace(".", r"\.")):
        client.get(f"https://{host}/v1/models")

    assert inner.requests == []


def test_redirects_are_checked_at_every_hop(inner: Inner) -> None:
    class Redirecting(Inner):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            return httpx.Response(
                307, headers={"location": "https://api.openai.com/v1/chat/completions"}
            )

    redirecting = Redirecting()
    client = guarded_client(ALLOW, transport=redirecting)

    with pytest.raises(EgressRefused, match=r"api\.openai\.com"):
        client.post("http://vllm.tale.internal/v1/chat/completions", follow_redirects=True)

    assert [r.url.host for r in redirecting.requests] == ["vllm.tale.internal"]


def test_guarded_client_defaults(inner: Inner) -> None:
    client = guarded_client(["vllm.tale.internal"], transport=inner, timeout=5)

    assert client.timeout == httpx.Timeout(5)
    assert client.trust_env is False
    client.close()
    assert inner.closed


@pytest.mark.parametrize("pattern", ["*", "*.com", "*.", "vllm*.internal", "https://vllm", ""])
def test_allow_patterns_too_broad_or_malformed_are_refused(inner: Inner, pattern: str) -> None:
    with pytest.raises(ValueError):
        EgressGuard(inner, [pattern])


def test_an_empty_allow_list_is_refused(inner: Inner) -> None:
    with pytest.raises(ValueError, match="at least one"):
        EgressGuard(inner, [])


def test_check_host_for_other_clients() -> None:
    check_host("vllm.tale.internal", ALLOW)
    with pytest.raises(EgressRefused):
        check_host("aiplatform.googleapis.com", ALLOW)
    with pytest.raises(EgressRefused):
        check_host("", ALLOW)
    assert "api.openai.com" in DENY


@pytest.mark.parametrize(
    "endpoint",
    [
        "firestore.googleapis.com",
        "storage.googleapis.com:443",
        "https://pubsub.googleapis.com",
        "cloudkms.googleapis.com",
        "run.googleapis.com",
    ],
)
def test_google_cloud_sdk_endpoints_pass(endpoint: str) -> None:
    assert check_sdk_endpoint(endpoint).endswith(".googleapis.com")


@pytest.mark.parametrize(
    "endpoint",
    [
        "us-central1-aiplatform.googleapis.com",
        "https://generativelanguage.googleapis.com/v1beta",
        "firestore.example.com",
        "localhost:8080",
    ],
)
def test_google_cloud_sdk_endpoints_that_leave_are_refused(endpoint: str) -> None:
    with pytest.raises(EgressRefused):
        check_sdk_endpoint(endpoint)
