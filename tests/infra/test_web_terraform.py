"""terraform/web.tf: the web app's build deployed as static files behind Cloud CDN, with the
same content security policy as ``tale serve`` (origins aside) and a runtime config that signs
in with Supabase against the API, whose CORS allows the web app's origin.

The static checks need python-hcl2 only; the expressions are also evaluated with the terraform
binary where it is installed (``tests.infra.tfeval``, offline)."""

from __future__ import annotations

import json
import re

import pytest

from shared.cli.web import content_security_policy
from tests.infra import hcl, tfeval
from tests.infra.hcl import expr

CONFIG = hcl.load()
API = "https://api-abc123-uc.a.run.app"


def directives(policy: str) -> dict[str, set[str]]:
    out = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        out[name] = set(sources)
    return out


def test_the_build_is_uploaded_with_its_types_and_caching() -> None:
    files = CONFIG.resource("google_storage_bucket_object.web").body
    assert expr(files["for_each"]) == "local.web_files"
    assert expr(CONFIG.locals["web_files"]) == 'fileset(local.web_dist, "**")'
    assert "../web/dist" in expr(CONFIG.locals["web_dist"])
    assert "immutable" in expr(files["cache_control"]) and "assets/" in expr(files["cache_control"])
    billing = CONFIG.resource("google_storage_bucket_object.web_billing").body
    assert billing["name"] == "billing" and billing["source"].endswith("/index.html")
    config = CONFIG.resource("google_storage_bucket_object.web_config").body
    assert config["name"] == "config.json" and config["cache_control"] == "no-cache"
    (lifecycle,) = config["lifecycle"]
    assert "index.html" in expr(lifecycle["precondition"][0]["condition"])


def test_the_runtime_config_signs_in_with_supabase_against_the_api() -> None:
    config = expr(CONFIG.locals["web_config"])
    assert 'auth = "supabase"' in config and "api = local.web_api_origin" in config
    assert "var.supabase_publishable_key" in config
    origin = expr(CONFIG.locals["web_api_origin"])
    assert 'google_cloudfunctions2_function.fn["api"].service_config[0].uri' in origin
    # ...and the API lets the web app's origin call it.
    wiring = hcl.source(CONFIG.locals["function_env"])
    assert 'name == "api" ? {TALE_CORS_ORIGIN = var.frontend_origin}' in wiring


def test_a_cdn_serves_it_over_https_only_with_the_security_headers() -> None:
    backend = CONFIG.resource("google_compute_backend_bucket.web").body
    assert backend["enable_cdn"] is True
    headers = backend["custom_response_headers"]
    assert "Content-Security-Policy: ${local.web_csp}" in headers
    assert any(h.startswith("Strict-Transport-Security:") for h in headers)
    assert "X-Content-Type-Options: nosniff" in headers
    policy = CONFIG.resource("google_compute_ssl_policy.web").body
    assert policy["min_tls_version"] == "TLS_1_2" and policy["profile"] == "MODERN"
    https = CONFIG.resource("google_compute_global_forwarding_rule.web").body
    assert https["port_range"] == "443"
    redirect = CONFIG.resource("google_compute_url_map.web_redirect").block("default_url_redirect")
    assert redirect["https_redirect"] is True
    certificate = CONFIG.resource("google_compute_managed_ssl_certificate.web").block("managed")
    assert certificate["domains"] == ["${local.web_host}"]


def _evaluated() -> dict[str, object]:
    if tfeval.binary() is None:
        pytest.skip("terraform is not installed (the static checks above still ran)")
    policy = expr(CONFIG.locals["web_csp"])
    policy = policy.replace("local.web_api_origin", f'"{API}"')
    policy = policy.replace("local.web_supabase", expr(CONFIG.locals["web_supabase"]))
    files = CONFIG.resource("google_storage_bucket_object.web").body
    types = json.dumps(CONFIG.locals["web_types"])

    def per_file(expression: str) -> str:
        names = '["index.html", "assets/index-Ab12.js", "assets/index-Cd34.css", "favicon.svg"]'
        body = expression.replace("local.web_types", types).replace("each.value", "f")
        return f"{{ for f in {names} : f => {body} }}"

    return tfeval.evaluate(
        {
            "host": expr(CONFIG.locals["web_host"]),
            "policy": policy,
            "types": per_file(expr(files["content_type"])),
            "caching": per_file(expr(files["cache_control"])),
        }
    )


def test_the_deployed_policy_is_tale_serves_with_the_clouds_origins() -> None:
    values = _evaluated()
    assert values["host"] == "dev.tale.example.com"  # environments/dev.tfvars
    deployed = directives(str(values["policy"]))
    supabase = "https://abcdefghijklmnop.supabase.co"
    served = directives(
        content_security_policy([API, supabase], ["https://storage.googleapis.com"])
    )
    assert deployed == served
    assert not any(re.search("unsafe", s) for sources in deployed.values() for s in sources)
    assert values["types"] == {
        "index.html": "text/html; charset=utf-8",
        "assets/index-Ab12.js": "text/javascript; charset=utf-8",
        "assets/index-Cd34.css": "text/css; charset=utf-8",
        "favicon.svg": "image/svg+xml",
    }
    caching = values["caching"]
    assert isinstance(caching, dict)
    assert caching["index.html"] == "no-cache"
    assert caching["assets/index-Ab12.js"] == "public, max-age=31536000, immutable"


def test_cloud_build_builds_the_web_app_before_testing_and_planning() -> None:
    from tests.infra.test_cloudbuild import BY_ID, script, waits_for

    web = script(BY_ID["web"])
    assert "npm --prefix web ci" in web and "npm --prefix web run build" in web
    assert "web" in waits_for("test") and "web" in waits_for("tf-plan")
    assert "chromium" in script(BY_ID["test"])
    assert "supabase_publishable_key=" in script(BY_ID["tf-plan"])
