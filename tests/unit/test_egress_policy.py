"""Scenario B's one egress policy: every AI hostname variant refused, allow patterns validated,
and a whole scenario-B container whose every outbound client is guarded.

The container is built with real SDK clients (Firestore, Pub/Sub, Cloud Storage, Cloud KMS,
Cloud Run) on a made-up service-account key, the real supabase-py client and every HTTP client
the composition root makes; nothing connects (SDK clients connect on their first call, and
none is made).
"""

from __future__ import annotations

import json
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.bootstrap import Container
from shared.config import Settings
from shared.providers.egress import (
    DENY,
    GOOGLE_AI_SERVICES,
    GOOGLE_API_DOMAINS,
    EgressGuard,
    EgressPolicy,
    EgressRefused,
    check_host,
    check_sdk_endpoint,
    sdk_endpoint,
)

GOOGLE = "*.googleapis.com"
REGIONS = ("us-central1", "europe-west4", "asia-northeast3", "us", "eu", "global")


def variants(service: str, domain: str) -> list[str]:
    """Every form Google serves an API in."""
    hosts = [f"{service}.{domain}", f"{service}.mtls.{domain}", f"{service}-psc01.p.{domain}"]
    for region in REGIONS:
        hosts += [
            f"{region}-{service}.{domain}",
            f"{region}-{service}.mtls.{domain}",
            f"{service}.{region}.rep.{domain}",
        ]
    return hosts


AI_HOSTS = sorted(
    {h for s in GOOGLE_AI_SERVICES for d in GOOGLE_API_DOMAINS for h in variants(s, d)}
)
NAMED_IN_THE_ISSUE = [
    "aiplatform.mtls.googleapis.com",
    "us-central1-aiplatform.mtls.googleapis.com",
    "europe-west4-aiplatform.googleapis.com",
    "generativelanguage.mtls.googleapis.com",
    "documentai.googleapis.com",
    "us-documentai.googleapis.com",
    "eu-documentai.googleapis.com",
    "dialogflow.googleapis.com",
    "europe-west1-dialogflow.googleapis.com",
    "discoveryengine.googleapis.com",
    "us-discoveryengine.googleapis.com",
    "ml.googleapis.com",
    "us-central1-ml.googleapis.com",
]
CLOUD_APIS = [
    "firestore.googleapis.com",
    "storage.googleapis.com",
    "pubsub.googleapis.com",
    "cloudkms.googleapis.com",
    "run.googleapis.com",
    "logging.googleapis.com",
    "iamcredentials.googleapis.com",
    "oauth2.googleapis.com",
    "sts.googleapis.com",
    "secretmanager.googleapis.com",
    "firestore.mtls.googleapis.com",
    "us-central1-run.googleapis.com",
]


def test_the_enumeration_covers_every_service_in_every_form() -> None:
    assert len(AI_HOSTS) == len(GOOGLE_AI_SERVICES) * len(GOOGLE_API_DOMAINS) * (
        3 + 3 * len(REGIONS)
    )
    assert set(NAMED_IN_THE_ISSUE) - set(AI_HOSTS) <= {
        "us-documentai.googleapis.com",
        "eu-documentai.googleapis.com",
        "europe-west1-dialogflow.googleapis.com",
        "us-discoveryengine.googleapis.com",
    }


@pytest.mark.parametrize("host", [*AI_HOSTS, *NAMED_IN_THE_ISSUE])
def test_every_ai_hostname_variant_is_refused_over_any_allow_entry(host: str) -> None:
    for allow in ([GOOGLE], [host], [GOOGLE, host]):
        with pytest.raises(EgressRefused):
            check_host(host, allow)
        with pytest.raises(EgressRefused):
            check_host(host.upper() + ".", allow)  # case and a trailing dot change nothing
    with pytest.raises(EgressRefused):
        check_sdk_endpoint(f"https://{host}:443")


@pytest.mark.parametrize("host", [h for h in DENY if not h.startswith("*")])
def test_every_listed_vendor_is_refused(host: str) -> None:
    with pytest.raises(EgressRefused):
        check_host(host, [host])
    with pytest.raises(EgressRefused):
        check_host(f"eu.{host}", [f"*.{host}"] if host.count(".") >= 2 else [f"eu.{host}"])


@pytest.mark.parametrize("host", CLOUD_APIS)
def test_google_cloud_apis_that_serve_our_own_data_pass(host: str) -> None:
    check_host(host, [GOOGLE])
    assert check_sdk_endpoint(host) == host


@pytest.mark.parametrize(
    "pattern",
    [
        "*.co.uk",
        "*.com.au",
        "*.co.kr",
        "*.run.app",
        "*.appspot.com",
        "*.cloudfunctions.net",
        "*.github.io",
        "*..com",
        "*.tale..internal",
        "vllm..internal",
        ".tale.internal",
        "*.internal",
        "*.com",
        "*",
        "*.",
        "a.*.internal",
        "http://vllm.internal",
        "vllm.internal:8000",
        "",
    ],
)
def test_allow_patterns_that_admit_strangers_or_are_malformed_are_refused(pattern: str) -> None:
    with pytest.raises(ValueError):
        EgressPolicy.for_scenario("B", [pattern])


@pytest.mark.parametrize(
    "pattern", ["*.tale.internal", "*.googleapis.com", "vllm.tale.internal", "*.corp.example.co.uk"]
)
def test_allow_patterns_that_name_our_hosts_pass(pattern: str) -> None:
    assert EgressPolicy.for_scenario("B", [pattern]).allow == (pattern,)


def test_outside_scenario_b_the_policy_builds_plain_clients_and_checks_nothing() -> None:
    policy = EgressPolicy.for_scenario("A", ["*.co.uk"])  # not validated: not enforced
    client = policy.http_client("api.example.com", timeout=3)
    assert not isinstance(client._transport, EgressGuard)
    policy.check_host("anywhere.example.com")
    assert policy.check_sdk_client(types.SimpleNamespace(api_endpoint="x.example.com"))


def test_the_policy_adds_only_the_clients_own_host() -> None:
    policy = EgressPolicy.for_scenario("B", ["vllm.tale.internal"])
    client = policy.http_client("www.googleapis.com", transport=httpx.MockTransport(ok))
    assert client.get("https://www.googleapis.com/youtube/v3/videos").status_code == 200
    assert client.get("http://vllm.tale.internal/v1/models").status_code == 200
    for url in ("https://example.com/", "https://aiplatform.googleapis.com/v1/x"):
        with pytest.raises(EgressRefused):
            client.get(url)
    with pytest.raises(EgressRefused):
        policy.check_host("smtp.example.com")


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={})


# --- the whole scenario-B container ------------------------------------------------------


@pytest.fixture
def credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A made-up service-account key as the application default credentials (read from the
    file; a token would be fetched only on a first call, and none is made)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    account = {
        "type": "service_account",
        "project_id": "tale-b",
        "private_key_id": "0" * 40,
        "private_key": pem,
        "client_email": "tale@tale-b.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    path = tmp_path / "adc.json"
    path.write_text(json.dumps(account))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))
    for emulator in ("FIRESTORE_EMULATOR_HOST", "PUBSUB_EMULATOR_HOST", "STORAGE_EMULATOR_HOST"):
        monkeypatch.delenv(emulator, raising=False)


SERVICE_KEY = "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.c2lnbmF0dXJl"


def scenario_b(tmp_path: Path, **extra: Any) -> Container:
    values: dict[str, Any] = {
        "home": tmp_path / "home",
        "scenario": "B",
        "gcp_project": "tale-b",
        "media_bucket": "tale-b-media",
        "kms_key": "projects/tale-b/locations/global/keyRings/tale/cryptoKeys/stories",
        "supabase_url": "https://abcdefghijklmnop.supabase.co",
        "supabase_service_key": SERVICE_KEY,
        "planner_url": "http://vllm.tale.internal:8000",
        "egress_allow": ["vllm.tale.internal"],
        "gpu_job": "projects/tale-b/locations/us-central1/jobs/render",
        "email_provider": "sendgrid",
        "email_api_key": "SG.test",
        "youtube_api_key": "yt-key",
        "stripe_secret_key": "sk_test_egress",  # on GCP, payments are Stripe's (never local)
        "stripe_webhook_secret": "whsec_egress",
    }
    settings = Settings(**(values | extra))
    return Container(settings)


SDK_TYPES = (
    "MeteredClient",
    "PublisherClient",
    "SubscriberClient",
    "Client",  # google.cloud.storage
    "KeyManagementServiceClient",
    "JobsClient",
    "ExecutionsClient",
)
_LEAVES = (str, bytes, int, float, bool, type(None), type, types.ModuleType, Path)


def _is_sdk_client(obj: object) -> bool:
    module = type(obj).__module__
    return (module.startswith("google.") or module.startswith("shared.adapters.gcp")) and any(
        hasattr(obj, name) for name in ("api_endpoint", "_target")
    )


def reachable(root: object, limit: int = 200_000) -> Iterator[object]:
    """Every object reachable from ``root`` through attributes, containers and closures;
    HTTP and SDK clients are yielded but not entered (their insides are the libraries')."""
    seen: set[int] = set()
    stack = [root]
    while stack and len(seen) < limit:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, _LEAVES):
            continue
        seen.add(id(obj))
        yield obj
        if isinstance(obj, httpx.Client) or _is_sdk_client(obj):
            continue
        if isinstance(obj, dict):
            stack.extend(obj.values())
        elif isinstance(obj, list | tuple | set | frozenset):
            stack.extend(obj)
        elif isinstance(obj, types.FunctionType | types.MethodType):
            function = obj.__func__ if isinstance(obj, types.MethodType) else obj
            if isinstance(obj, types.MethodType):
                stack.append(obj.__self__)
            stack.extend(c.cell_contents for c in function.__closure__ or () if _filled(c))
        else:
            attributes = getattr(obj, "__dict__", None)
            if isinstance(attributes, dict):
                stack.extend(attributes.values())
            for slot in getattr(type(obj), "__slots__", ()):
                if isinstance(slot, str) and hasattr(obj, slot):
                    stack.append(getattr(obj, slot))


def _filled(cell: Any) -> bool:
    try:
        cell.cell_contents  # noqa: B018
    except ValueError:
        return False
    return True


def build_everything(container: Container) -> list[str]:
    """Every adapter the container can build (its properties), and what each builds lazily."""
    properties = sorted(
        name for name, value in vars(Container).items() if isinstance(value, property)
    )
    refused = []
    for name in properties:
        try:
            getattr(container, name)
        except RuntimeError as exc:
            assert "external AI providers are refused" in str(exc)
            refused.append(name)
    for adapter in (container.ledger, container.records):
        client = adapter.client  # type: ignore[attr-defined]  # supabase: built on first use
        _ = (client.postgrest, client.storage, client.functions, client.auth)
    return refused


def test_every_client_of_the_scenario_b_container_is_guarded(
    tmp_path: Path, credentials: None
) -> None:
    container = scenario_b(tmp_path)
    refused = build_everything(container)  # the external AI clients: genai, genai_speech, ...
    assert "genai" in refused and all(name.startswith("genai") for name in refused)

    found = list(reachable(container._built))
    http = [o for o in found if isinstance(o, httpx.Client)]
    sdk = [o for o in found if _is_sdk_client(o)]

    assert http, "no HTTP client found"
    for client in http:
        assert isinstance(client._transport, EgressGuard), client
        assert client._mounts == {}  # no proxy transports beside the guard
        assert client._transport.deny == DENY
        assert "vllm.tale.internal" in client._transport.allow
    hosts = {h for c in http for h in c._transport.allow}  # type: ignore[attr-defined]
    assert {
        "abcdefghijklmnop.supabase.co",
        "www.googleapis.com",
        "api.sendgrid.com",
    } <= hosts
    # the planner, the trend explainer, the signing keys, SendGrid, YouTube, two Supabase,
    # Stripe
    assert len({id(c) for c in http}) >= 8
    # Stripe's API host is allowed for the payments' client only.
    (stripe_http,) = [o for o in reachable(container.payments) if isinstance(o, httpx.Client)]
    assert "api.stripe.com" in stripe_http._transport.allow  # type: ignore[attr-defined]
    assert [c for c in http if "api.stripe.com" in c._transport.allow] == [stripe_http]  # type: ignore[attr-defined]

    assert sorted({type(c).__name__ for c in sdk}) == sorted(set(SDK_TYPES))
    for client in sdk:
        assert check_sdk_endpoint(sdk_endpoint(client)).endswith(".googleapis.com")


def test_an_sdk_endpoint_outside_the_policy_is_refused_where_the_client_is_built(
    tmp_path: Path, credentials: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", "firestore.example.com:8080")
    with pytest.raises(EgressRefused, match=r"firestore\.example\.com"):
        _ = scenario_b(tmp_path).store
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", "localhost:8080")  # an allowed emulator
    allowed = scenario_b(tmp_path / "2", egress_allow=["vllm.tale.internal", "localhost"])
    assert sdk_endpoint(allowed.firestore) == "localhost:8080"


def test_a_smtp_relay_must_be_allowed_in_scenario_b(tmp_path: Path, credentials: None) -> None:
    container = scenario_b(tmp_path, email_provider="smtp", smtp_host="smtp.example.com")
    with pytest.raises(EgressRefused, match=r"smtp\.example\.com"):
        _ = container.notifier
