"""terraform/ evaluated by the terraform binary (offline: no provider, no cloud).

``terraform fmt`` checks the layout; the provider-free expressions (the registry mirror, the
derivations in wiring.tf and the resources' own expressions over ``each``) are computed for
both scenarios and compared with shared/registry.py. Skipped where terraform is not
installed (CI runs ``terraform fmt`` and ``validate`` in its own steps).
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

from shared.registry import BY_NAME, DEAD_LETTER_TOPIC, FUNCTIONS, TOPICS
from tests.infra import hcl, tfeval
from tests.infra.hcl import TERRAFORM, expr

pytestmark = pytest.mark.skipif(tfeval.binary() is None, reason="terraform is not installed")

CONFIG = hcl.load()
PUBSUB = {f.name for f in FUNCTIONS if not f.is_http}
HTTP = {f.name for f in FUNCTIONS if f.is_http}


def _each(address: str, *path: str) -> str:
    """The expression at ``path`` of ``address``, for each of its instances."""
    resource = CONFIG.resource(address)
    node: Any = resource.body
    for key in path:
        node = node[key][0] if isinstance(node[key], list) else node[key]
    expression = hcl.source(node)
    assert tfeval.is_pure(expression), expression
    return tfeval.per_instance(resource, expression)


def _probes() -> dict[str, str]:
    fn = "google_cloudfunctions2_function.fn"
    sub = "google_pubsub_subscription.push"
    media = CONFIG.resource("google_storage_bucket.media").body["lifecycle_rule"]
    clip_rule = next(r for r in media if "matches_suffix" in r["condition"][0])
    return {
        "functions": "local.functions",
        "topics": "local.topics",
        "fn_entry_point": _each(fn, "build_config", "entry_point"),
        "fn_memory": _each(fn, "service_config", "available_memory"),
        "fn_timeout": _each(fn, "service_config", "timeout_seconds"),
        "fn_concurrency": _each(fn, "service_config", "max_instance_request_concurrency"),
        "fn_cpu": _each(fn, "service_config", "available_cpu"),
        "fn_ingress": _each(fn, "service_config", "ingress_settings"),
        "fn_account": _each("google_service_account.fn", "account_id"),
        "sub_name": _each(sub, "name"),
        "sub_ack_deadline": _each(sub, "ack_deadline_seconds"),
        "sub_dead_letter": tfeval.per_instance(
            CONFIG.resource(sub),
            hcl.source(CONFIG.resource(sub).body["dynamic"][0]["dead_letter_policy"]["for_each"]),
        ),
        "public": "keys(local.http_functions)",
        "invoked_by_push": "keys(local.pubsub_functions)",
        "dead_letter_subscribers": expr(
            CONFIG.resource("google_pubsub_subscription_iam_member.dead_letter_subscriber").body[
                "for_each"
            ]
        ).join(["keys(", ")"]),
        "store_users": "local.store_users",
        "blob_users": "local.blob_users",
        "key_users": "local.key_users",
        "url_signers": "local.url_signer_set",
        "publisher_grants": "local.publisher_grants",
        "function_secrets": "local.function_secrets",
        "secret_grants": "local.function_secret_grants",
        "secrets": "local.secrets",
        "env": "local.function_env",
        "clip_suffixes": hcl.source(clip_rule["condition"][0]["matches_suffix"]),
        "gpu_count": hcl.source(
            CONFIG.resource("google_cloud_run_v2_job.gpu_worker").body["count"]
        ),
        "apis": "local.apis",
        "schedules": "local.schedules",
    }


@pytest.fixture(scope="module", params=["A", "B"])
def evaluated(request: pytest.FixtureRequest) -> dict[str, Any]:
    values = tfeval.evaluate(_probes(), {"scenario": request.param})
    values["scenario"] = request.param
    return values


def test_terraform_fmt() -> None:
    terraform = tfeval.binary()
    assert terraform is not None
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            [terraform, "fmt", "-check", "-diff", "-recursive", str(TERRAFORM)],
            capture_output=True,
            text=True,
            env=tfeval.env(Path(tmp)),
            timeout=60,
            check=False,
        )
    assert done.returncode == 0, f"run `terraform fmt -recursive terraform`:\n{done.stdout}"


def test_the_mirror_evaluates_to_the_registry(evaluated: dict[str, Any]) -> None:
    assert evaluated["topics"] == list(TOPICS)
    for spec in FUNCTIONS:
        f = evaluated["functions"][spec.name]
        assert (f["trigger"], f["memory"], f["timeout_s"]) == (
            spec.trigger,
            spec.memory,
            spec.timeout_s,
        )
        assert (f["concurrency"], f["max_delivery_attempts"], f["needs"]) == (
            spec.concurrency,
            spec.max_delivery_attempts,
            list(spec.needs),
        )


def test_each_function_gets_its_registry_settings(evaluated: dict[str, Any]) -> None:
    for spec in FUNCTIONS:
        assert evaluated["fn_entry_point"][spec.name] == spec.name
        assert evaluated["fn_memory"][spec.name] == spec.memory
        assert evaluated["fn_timeout"][spec.name] == spec.timeout_s
        assert evaluated["fn_concurrency"][spec.name] == spec.concurrency
        assert evaluated["fn_account"][spec.name] == f"tale-{spec.name.replace('_', '-')}"
        if spec.concurrency > 1:  # Cloud Functions needs a whole vCPU for concurrency
            assert evaluated["fn_cpu"][spec.name] == "1"


def test_ingress_is_internal_except_for_http_functions(evaluated: dict[str, Any]) -> None:
    for spec in FUNCTIONS:
        want = "ALLOW_ALL" if spec.is_http else "ALLOW_INTERNAL_ONLY"
        assert evaluated["fn_ingress"][spec.name] == want, spec.name
    assert set(evaluated["public"]) == HTTP
    assert set(evaluated["invoked_by_push"]) == PUBSUB


def test_subscriptions_and_dead_lettering(evaluated: dict[str, Any]) -> None:
    assert set(evaluated["sub_name"]) == PUBSUB
    for name in PUBSUB:
        spec = BY_NAME[name]
        assert evaluated["sub_name"][name] == name
        assert 10 <= evaluated["sub_ack_deadline"][name] <= 600
        assert evaluated["sub_ack_deadline"][name] > spec.timeout_s
        if spec.trigger == DEAD_LETTER_TOPIC:
            assert evaluated["sub_dead_letter"][name] == [], "the end of the line"
        else:
            assert evaluated["sub_dead_letter"][name] == [spec.max_delivery_attempts]
    assert set(evaluated["dead_letter_subscribers"]) == {
        f.name for f in FUNCTIONS if not f.is_http and f.trigger != DEAD_LETTER_TOPIC
    }


def test_grants_follow_the_needs_exactly(evaluated: dict[str, Any]) -> None:
    def needing(client: str) -> set[str]:
        return {f.name for f in FUNCTIONS if client in f.needs}

    assert set(evaluated["store_users"]) == needing("store")
    assert set(evaluated["blob_users"]) == needing("blobs")
    assert set(evaluated["key_users"]) == needing("keys")
    assert set(evaluated["url_signers"]) == {"api", "notify_user"}
    pipeline = set(TOPICS) - {DEAD_LETTER_TOPIC}
    grants = {(g["function"], g["topic"]) for g in evaluated["publisher_grants"].values()}
    assert grants == {(f, t) for f in needing("bus") for t in pipeline}


def test_secrets_follow_the_needs_and_the_scenario(evaluated: dict[str, Any]) -> None:
    secrets = evaluated["function_secrets"]
    model_clients = {
        f.name
        for f in FUNCTIONS
        if {"planner", "images", "videos", "voices", "explainer"} & set(f.needs)
    }
    for spec in FUNCTIONS:
        got = set(secrets[spec.name])
        wants_model_key = evaluated["scenario"] == "A" and spec.name in model_clients
        assert ("model_api_key" in got) == wants_model_key, spec.name
        assert ("supabase_service_key" in got) == bool({"ledger", "records"} & set(spec.needs))
        assert ("supabase_jwt_secret" in got) == ("verifier" in spec.needs)
        assert ("email_api_key" in got) == ("notifier" in spec.needs)
        assert ("webhook_secret" in got) == (spec.name == "auth_webhook")
        assert ("stripe_secret_key" in got) == ("payments" in spec.needs)
        assert ("stripe_webhook_secret" in got) == (spec.name == "stripe_webhook")
        assert ("youtube_api_key" in got) == ("youtube" in spec.needs)
        unsubscribes = spec.name in ("analyze_trends", "api")  # makes / checks the tokens
        assert ("trends_unsubscribe_secret" in got) == unsubscribes, spec.name
    grants = {(g["function"], g["secret"]) for g in evaluated["secret_grants"].values()}
    assert grants == {(name, s) for name, keys in secrets.items() for s in keys}
    envs = [v["env"] for v in evaluated["secrets"].values()]
    assert len(envs) == len(set(envs))


def test_every_function_gets_the_gcp_settings(evaluated: dict[str, Any]) -> None:
    for spec in FUNCTIONS:
        env = evaluated["env"][spec.name]
        assert env["TALE_GCP_PROJECT"] == "tale-dev-123456"
        assert env["TALE_MEDIA_BUCKET"]
        assert env["TALE_FIRESTORE_DATABASE"]
        assert env["TALE_SCENARIO"] == evaluated["scenario"]
        assert env["TALE_HOME"].startswith("/tmp/")
        # The API's CORS policy, and the trend digest's links into the frontend.
        cors = spec.name in ("api", "analyze_trends") or "payments" in spec.needs
        assert ("TALE_CORS_ORIGIN" in env) == cors  # payments: the billing page's default


def test_functions_that_send_email_get_the_email_settings(evaluated: dict[str, Any]) -> None:
    for spec in FUNCTIONS:
        env = evaluated["env"][spec.name]
        sends = "notifier" in spec.needs
        assert ("TALE_EMAIL_PROVIDER" in env) == sends, spec.name
        if sends:
            assert env["TALE_EMAIL_PROVIDER"] == "sendgrid"  # the default
            assert env["TALE_EMAIL_FROM"] == "Tale <noreply@dev.tale.example.com>"
            assert "TALE_SMTP_HOST" not in env  # only with the smtp provider
            assert "email_api_key" in evaluated["function_secrets"][spec.name]
    smtp = tfeval.evaluate(
        {"env": "local.function_env"},
        {"scenario": evaluated["scenario"], "email_provider": "smtp", "smtp_host": "relay.example"},
    )
    env = smtp["env"]["notify_user"]
    assert (env["TALE_EMAIL_PROVIDER"], env["TALE_SMTP_HOST"], env["TALE_SMTP_PORT"]) == (
        "smtp",
        "relay.example",
        "587",
    )
    assert env["TALE_SMTP_SECURITY"] == "starttls"


def test_clip_suffixes_cover_every_shot_attempt(evaluated: dict[str, Any]) -> None:
    from terraform.generate import shot_clip_max_attempt

    top = shot_clip_max_attempt()
    assert evaluated["clip_suffixes"] == [f"-a{n}.mp4" for n in range(1, top + 1)]


def test_the_gpu_job_only_in_scenario_b(evaluated: dict[str, Any]) -> None:
    assert evaluated["gpu_count"] == (1 if evaluated["scenario"] == "B" else 0)
    assert ("vpcaccess.googleapis.com" in evaluated["apis"]) == (evaluated["scenario"] == "B")
    assert "compute.googleapis.com" in evaluated["apis"]  # the web app's load balancer, always


def test_every_scheduled_function_gets_a_job_on_its_trigger(evaluated: dict[str, Any]) -> None:
    scheduled = {f.name: f for f in FUNCTIONS if f.schedule is not None}
    assert "sweep_stuck" in scheduled
    assert evaluated["schedules"] == {
        name: {"schedule": f.schedule, "topic": f.trigger, "data": "{}", "time_zone": "Etc/UTC"}
        for name, f in scheduled.items()
    }
