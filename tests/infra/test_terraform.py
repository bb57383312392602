"""Static checks of terraform/ (parsed with python-hcl2), cross-checked with the code.

tests/infra/test_terraform_eval.py evaluates the same expressions with the terraform binary
where it is installed; these checks need nothing but Python.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shared.config import Settings
from shared.registry import DEAD_LETTER_TOPIC, FUNCTIONS
from tests.infra import hcl
from tests.infra.hcl import TERRAFORM, expr

CONFIG = hcl.load()
ROOT = TERRAFORM.parent


def test_the_expected_files_exist() -> None:
    for name in (
        "versions.tf",
        "variables.tf",
        "apis.tf",
        "pubsub.tf",
        "functions.tf",
        "iam.tf",
        "storage.tf",
        "firestore.tf",
        "secrets.tf",
        "gpu_job.tf",
        "scheduler.tf",
        "outputs.tf",
        "locals.tf",
        "environments/dev.tfvars",
        "environments/prod.tfvars",
    ):
        assert (TERRAFORM / name).is_file(), name


# --- providers, backend, variables --------------------------------------------------------


def test_the_google_provider_is_pinned_to_6x_and_state_is_in_gcs() -> None:
    (block,) = CONFIG.terraform
    (providers,) = block["required_providers"]
    google = providers["google"]
    assert google["source"] == "hashicorp/google"
    assert re.fullmatch(r"~> 6\.\d+", google["version"]), google["version"]
    (backend,) = block["backend"]
    assert "gcs" in backend
    # The bucket is chosen at init time (-backend-config=bucket=…), never committed.
    assert "bucket" not in backend["gcs"]


def test_the_scenario_is_validated() -> None:
    scenario = CONFIG.variables["scenario"]
    (validation,) = scenario["validation"]
    assert expr(validation["condition"]) == 'contains(["A", "B"], var.scenario)'
    assert scenario["default"] in ("A", "B")


def test_the_example_tfvars_set_only_declared_non_secret_variables() -> None:
    for path in sorted((TERRAFORM / "environments").glob("*.tfvars")):
        values = _tfvars(path)
        assert set(values) <= set(CONFIG.variables), path.name
        for key in values:
            assert not re.search(r"secret|password|token|(^|_)key$", key), (path.name, key)
        assert values["scenario"] in ("A", "B")
        # The registry mirror is not a variable: environments cannot override it.
        assert "functions" not in values


def test_no_variable_carries_a_secret() -> None:
    for name, variable in CONFIG.variables.items():
        assert not re.search(r"secret|password|token|api_key|service_key", name), name
        assert variable.get("sensitive") is not True, name


def _tfvars(path: Path) -> dict[str, object]:
    import hcl2

    with path.open(encoding="utf-8") as f:
        doc = hcl2.load(
            f, serialization_options=hcl2.SerializationOptions(strip_string_quotes=True)
        )
    return {k: v for k, v in doc.items() if not k.startswith("__")}


# --- APIs -----------------------------------------------------------------------------------


def test_the_apis_the_deployment_uses_are_enabled() -> None:
    apis = " ".join(str(v) for v in hcl.iter_values(CONFIG.locals["apis"]))
    for api in (
        "cloudfunctions",
        "run",
        "cloudbuild",
        "artifactregistry",
        "pubsub",
        "firestore",
        "storage",
        "secretmanager",
        "cloudkms",
        "cloudscheduler",
        "iam",
        "iamcredentials",
    ):
        assert f"{api}.googleapis.com" in apis, api
    service = CONFIG.resource("google_project_service.this")
    assert service.body["disable_on_destroy"] is False


# --- functions -------------------------------------------------------------------------------


def test_functions_are_http_served_without_eventarc_triggers() -> None:
    fn = CONFIG.resource("google_cloudfunctions2_function.fn")
    assert "event_trigger" not in fn.body
    ingress = expr(fn.block("service_config")["ingress_settings"])
    assert ingress == 'each.value.trigger == "http" ? "ALLOW_ALL" : "ALLOW_INTERNAL_ONLY"'


def test_every_function_runs_as_its_own_service_account() -> None:
    fn = CONFIG.resource("google_cloudfunctions2_function.fn")
    service = fn.block("service_config")
    assert expr(service["service_account_email"]) == "google_service_account.fn[each.key].email"
    accounts = CONFIG.resource("google_service_account.fn")
    assert expr(accounts.body["for_each"]) == "local.functions"
    assert expr(accounts.body["account_id"]) == "local.service_account_ids[each.key]"
    assert (
        expr(CONFIG.locals["service_account_ids"])
        == '{for name, f in local.functions : name => "tale-${replace(name, "_", "-")}"}'
    )


def test_no_workload_uses_the_default_compute_service_account() -> None:
    text = "\n".join(p.read_text(encoding="utf-8") for p in TERRAFORM.glob("*.tf"))
    assert "compute@developer.gserviceaccount.com" not in text
    assert "google_compute_default_service_account" not in text
    assert "google_app_engine_default_service_account" not in text
    for attribute in ("service_account_email", "service_account"):
        for resource in CONFIG.resources.values():
            for value in hcl.iter_attributes(resource.body, attribute):
                assert expr(value).startswith("google_service_account."), (
                    resource.address,
                    attribute,
                    value,
                )


def test_secrets_are_secret_environment_variables_not_plain_ones() -> None:
    service = CONFIG.resource("google_cloudfunctions2_function.fn").block("service_config")
    (dynamic,) = service["dynamic"]
    secret_env = dynamic["secret_environment_variables"]
    assert expr(secret_env["for_each"]) == "local.function_secrets[each.key]"
    (content,) = secret_env["content"]
    assert "google_secret_manager_secret.secret[" in expr(content["secret"])
    # No plain setting carries a secret.
    plain = " ".join(str(v) for v in hcl.iter_values(CONFIG.locals["function_env"]))
    assert not re.search(r"SECRET|SERVICE_KEY|API_KEY|PASSWORD", plain)


def test_settings_passed_to_the_functions_exist_in_shared_config() -> None:
    """A typo in a TALE_ name would silently leave the setting at its default."""
    text = (TERRAFORM / "wiring.tf").read_text() + (TERRAFORM / "functions.tf").read_text()
    names = set(re.findall(r"\b(TALE_[A-Z0-9_]+)\b", text))
    declared_ahead = {
        # Settings the deployment provides before the code reads them.
        "TALE_SCENARIO",  # scenario A/B switch
        "TALE_GPU_JOB",  # render_shot's GPU job (scenario B)
        "TALE_MODEL_API_KEY",  # hosted model clients (scenario A)
    }
    fields = {f"TALE_{name.upper()}" for name in Settings.model_fields}
    unknown = names - fields - declared_ahead
    assert not unknown, f"not settings of shared/config.py: {sorted(unknown)}"
    for required in ("TALE_GCP_PROJECT", "TALE_MEDIA_BUCKET", "TALE_FIRESTORE_DATABASE"):
        assert required in names


# --- Pub/Sub -----------------------------------------------------------------------------


def test_one_push_subscription_per_pubsub_function() -> None:
    sub = CONFIG.resource("google_pubsub_subscription.push")
    assert expr(sub.body["for_each"]) == "local.pubsub_functions"
    assert (
        expr(CONFIG.locals["pubsub_functions"])
        == '{for name, f in local.functions : name => f if f.trigger != "http"}'
    )
    assert expr(sub.body["name"]) == "each.key"
    assert expr(sub.body["topic"]) == "google_pubsub_topic.topic[each.value.trigger].id"


def test_pushes_are_oidc_authenticated_to_the_function_with_the_topic_in_the_path() -> None:
    sub = CONFIG.resource("google_pubsub_subscription.push")
    push = sub.block("push_config")
    uri = "google_cloudfunctions2_function.fn[each.key].service_config[0].uri"
    assert push["push_endpoint"] == (
        "${" + uri + "}/projects/${var.project_id}/topics/${each.value.trigger}"
    )
    oidc = sub.block("push_config", "oidc_token")
    assert expr(oidc["service_account_email"]) == "google_service_account.push_invoker.email"
    assert expr(oidc["audience"]) == uri
    assert "no_wrapper" not in push  # functions-framework converts the wrapped format


def test_retry_policy_backs_off_from_10s_to_600s() -> None:
    retry = CONFIG.resource("google_pubsub_subscription.push").block("retry_policy")
    assert retry == {"minimum_backoff": "10s", "maximum_backoff": "600s"}


def test_dead_letter_policy_uses_the_dead_letter_topic_and_registry_attempts() -> None:
    sub = CONFIG.resource("google_pubsub_subscription.push")
    (dynamic,) = sub.body["dynamic"]
    policy = dynamic["dead_letter_policy"]
    # Every subscription but the dead-letter topic's own gets the policy.
    assert expr(policy["for_each"]) == (
        "each.value.trigger == local.dead_letter_topic ? [] : [each.value.max_delivery_attempts]"
    )
    (content,) = policy["content"]
    assert expr(content["dead_letter_topic"]) == (
        "google_pubsub_topic.topic[local.dead_letter_topic].id"
    )
    assert expr(content["max_delivery_attempts"]) == "dead_letter_policy.value"


def test_the_dead_letter_topic_is_consumed_by_handle_dead_letter() -> None:
    consumers = [f.name for f in FUNCTIONS if f.trigger == DEAD_LETTER_TOPIC]
    assert consumers == ["handle_dead_letter"]


def test_the_pubsub_service_agent_can_dead_letter() -> None:
    agent = expr(CONFIG.locals["pubsub_service_agent"])
    assert agent.endswith("@gcp-sa-pubsub.iam.gserviceaccount.com")
    publisher = CONFIG.resource("google_pubsub_topic_iam_member.dead_letter_publisher").body
    assert expr(publisher["topic"]) == "google_pubsub_topic.topic[local.dead_letter_topic].name"
    assert publisher["role"] == "roles/pubsub.publisher"
    assert expr(publisher["member"]) == "local.pubsub_service_agent"
    subscriber = CONFIG.resource("google_pubsub_subscription_iam_member.dead_letter_subscriber")
    assert subscriber.body["role"] == "roles/pubsub.subscriber"
    assert expr(subscriber.body["member"]) == "local.pubsub_service_agent"
    assert expr(subscriber.body["subscription"]) == (
        "google_pubsub_subscription.push[each.key].name"
    )


def test_subscriptions_never_expire_and_wait_for_the_function() -> None:
    sub = CONFIG.resource("google_pubsub_subscription.push")
    assert sub.block("expiration_policy") == {"ttl": ""}
    assert expr(sub.body["ack_deadline_seconds"]) == "min(600, each.value.timeout_s + 60)"


def test_only_the_push_invoker_may_invoke_the_pipeline_functions() -> None:
    invoker = CONFIG.resource("google_cloud_run_v2_service_iam_member.push_invoker").body
    assert expr(invoker["for_each"]) == "local.pubsub_functions"
    assert invoker["role"] == "roles/run.invoker"
    assert expr(invoker["member"]) == "serviceAccount:${google_service_account.push_invoker.email}"
    assert expr(invoker["name"]) == (
        "google_cloudfunctions2_function.fn[each.key].service_config[0].service"
    )


# --- IAM -------------------------------------------------------------------------------------


def test_public_invocation_is_only_for_the_http_functions_and_justified() -> None:
    public = [
        r
        for r in CONFIG.resources.values()
        if any(
            str(v) in ("allUsers", "allAuthenticatedUsers")
            for v in hcl.iter_attributes(r.body, "member")
        )
        or any("allUsers" in str(v) for v in hcl.iter_attributes(r.body, "members"))
    ]
    assert [r.address for r in public] == [
        "google_cloud_run_v2_service_iam_member.public",
        "google_storage_bucket_iam_member.web_public",
    ]
    resource, web = public
    # The web app's static files (terraform/web.tf): read-only, in a bucket of their own.
    assert web.body["role"] == "roles/storage.objectViewer"
    assert expr(web.body["bucket"]) == "google_storage_bucket.web.name"
    assert any(c.startswith("checkov:skip=CKV_GCP_28:") for c in web.comments())
    assert expr(resource.body["for_each"]) == "local.http_functions"
    assert resource.body["role"] == "roles/run.invoker"
    assert any(c.startswith("checkov:skip=CKV_GCP_102:") for c in resource.comments())
    http = {f.name for f in FUNCTIONS if f.is_http}
    assert http == {"api", "auth_webhook", "stripe_webhook"}


def test_project_level_roles_are_few_and_not_primitive() -> None:
    allowed = {
        "google_project_iam_member.datastore_user": {"roles/datastore.user"},
        # the functions that call Google's models on Vertex AI (scenario A)
        "google_project_iam_member.vertex_user": {"roles/aiplatform.user"},
        # the GPU worker reads the tale's plan from Firestore (scenario B)
        "google_project_iam_member.gpu_worker_firestore": {"roles/datastore.user"},
        "google_project_iam_member.build": {
            "roles/artifactregistry.writer",
            "roles/logging.logWriter",
        },
        "google_project_iam_member.build_gcf_buckets": {"roles/storage.objectAdmin"},
        # the nightly Firestore export (backups.tf), limited to our database
        "google_project_iam_member.backup_export": {"roles/datastore.importExportAdmin"},
    }
    for resource in CONFIG.of_type("google_project_iam_member"):
        assert resource.address in allowed, resource.address
        role = expr(resource.body["role"])
        if role == "each.value":  # for_each over a literal set of roles
            roles = set(re.findall(r'"(roles/[^"]+)"', str(resource.body["for_each"])))
        else:
            roles = {role}
        assert roles and roles <= allowed[resource.address], (resource.address, roles)
    for type_ in ("google_project_iam_binding", "google_project_iam_policy"):
        assert not CONFIG.of_type(type_), type_


def test_the_builder_reaches_only_the_gcf_staging_buckets() -> None:
    member = CONFIG.resource("google_project_iam_member.build_gcf_buckets").body
    condition = member["condition"][0]
    assert 'resource.name.startsWith("projects/_/buckets/gcf-v2-")' in condition["expression"]


def test_firestore_access_is_limited_to_our_database() -> None:
    member = CONFIG.resource("google_project_iam_member.datastore_user").body
    assert expr(member["for_each"]) == "local.store_users"
    condition = member["condition"][0]
    assert "databases/${var.firestore_database}" in condition["expression"]


def test_blob_access_is_on_the_media_bucket_only() -> None:
    member = CONFIG.resource("google_storage_bucket_iam_member.media_object_admin").body
    assert expr(member["for_each"]) == "local.blob_users"
    assert expr(member["bucket"]) == "google_storage_bucket.media.name"
    assert member["role"] == "roles/storage.objectAdmin"


def test_url_signers_may_sign_only_as_themselves() -> None:
    member = CONFIG.resource("google_service_account_iam_member.self_token_creator").body
    assert member["role"] == "roles/iam.serviceAccountTokenCreator"
    assert expr(member["service_account_id"]) == "google_service_account.fn[each.key].name"
    assert expr(member["member"]) == ("serviceAccount:${google_service_account.fn[each.key].email}")
    assert CONFIG.locals["url_signers"] == ["api", "notify_user"]
    for name in CONFIG.locals["url_signers"]:
        spec = next(f for f in FUNCTIONS if f.name == name)
        assert "blobs" in spec.needs, name


def test_grants_follow_the_needs() -> None:
    wiring = (TERRAFORM / "wiring.tf").read_text()
    for local_, need in (
        ("store_users", "store"),
        ("blob_users", "blobs"),
        ("key_users", "keys"),
    ):
        derivation = (
            rf"{local_}\s*=\s*toset\(\[for name, f in local\.functions : "
            rf'name if contains\(f\.needs, "{need}"\)\]\)'
        )
        assert re.search(derivation, wiring), local_
    kms = CONFIG.resource("google_kms_crypto_key_iam_member.story_key_user").body
    assert expr(kms["for_each"]) == "local.key_users"
    assert kms["role"] == "roles/cloudkms.cryptoKeyEncrypterDecrypter"
    publisher = CONFIG.resource("google_pubsub_topic_iam_member.publisher").body
    assert expr(publisher["for_each"]) == "local.publisher_grants"
    assert publisher["role"] == "roles/pubsub.publisher"
    secrets = CONFIG.resource("google_secret_manager_secret_iam_member.function").body
    assert expr(secrets["for_each"]) == "local.function_secret_grants"
    assert secrets["role"] == "roles/secretmanager.secretAccessor"


# --- storage ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "google_storage_bucket.media",
        "google_storage_bucket.source",
        "google_storage_bucket.backups",
    ],
)
def test_buckets_are_private_uniform_and_versioned(address: str) -> None:
    bucket = CONFIG.resource(address)
    assert bucket.body["uniform_bucket_level_access"] is True
    assert bucket.body["public_access_prevention"] == "enforced"
    assert bucket.block("versioning") == {"enabled": True}
    assert bucket.body.get("force_destroy", False) is False


def test_every_bucket_is_checked() -> None:
    assert {r.address for r in CONFIG.of_type("google_storage_bucket")} == {
        "google_storage_bucket.media",
        "google_storage_bucket.source",
        "google_storage_bucket.backups",
        "google_storage_bucket.web",
    }
    for type_ in ("google_storage_bucket_acl", "google_storage_default_object_acl"):
        assert not CONFIG.of_type(type_)


def test_shot_clips_expire_after_30_days() -> None:
    rules = CONFIG.resource("google_storage_bucket.media").body["lifecycle_rule"]
    clip_rules = [r for r in rules if "matches_suffix" in r["condition"][0]]
    (rule,) = clip_rules
    condition = rule["condition"][0]
    assert condition["age"] == 30
    assert condition["matches_prefix"] == ["tales/"]
    assert expr(condition["matches_suffix"]) == (
        '[for attempt in range(1, local.shot_clip_max_attempt + 1) : "-a${attempt}.mp4"]'
    )
    assert rule["action"][0]["type"] == "Delete"


def test_the_clip_layout_is_the_one_the_lifecycle_rule_matches() -> None:
    """tales/<id>/shots/NN-a<attempt>.mp4 — and nothing kept is named like a clip."""
    shots = (ROOT / "shared" / "stages" / "shots.py").read_text(encoding="utf-8")
    assert 'f"{tale_prefix(tale_id)}/shots/{index:02d}-a{attempt}.mp4"' in shots
    common = (ROOT / "shared" / "stages" / "common.py").read_text(encoding="utf-8")
    assert 'return f"tales/{tale_id}"' in common
    clip = re.compile(r"-a\d+\.mp4$")
    for kept in ("final.mp4", "poster.png", "storyboard.png", "characters/01.png"):
        assert not clip.search(f"tales/tale-000001/{kept}"), kept


# --- Firestore, KMS, secrets --------------------------------------------------------------


def test_firestore_is_native_with_pitr_and_delete_protection() -> None:
    db = CONFIG.resource("google_firestore_database.tale").body
    assert db["type"] == "FIRESTORE_NATIVE"
    assert db["point_in_time_recovery_enablement"] == "POINT_IN_TIME_RECOVERY_ENABLED"
    assert "DELETE_PROTECTION_ENABLED" in db["delete_protection_state"]
    assert db["deletion_policy"] == "ABANDON"


def test_firestore_indexes_cover_list_tales() -> None:
    indexes = {
        name: [(f["field_path"], f["order"]) for f in fields]
        for name, fields in CONFIG.locals["tale_indexes"].items()
    }
    assert sorted(indexes.values()) == sorted(
        [
            [("owner", "ASCENDING"), ("created_at", "DESCENDING")],
            [("state", "ASCENDING"), ("created_at", "DESCENDING")],
            [("owner", "ASCENDING"), ("state", "ASCENDING"), ("created_at", "DESCENDING")],
        ]
    )
    index = CONFIG.resource("google_firestore_index.tales").body
    assert expr(index["collection"]) == "local.firestore_tales_collection"


def test_the_index_collection_is_the_one_the_firestore_adapter_uses() -> None:
    module = pytest.importorskip("shared.adapters.gcp.firestore_store")
    import inspect

    root = inspect.signature(module.FirestoreTaleStore).parameters["root"].default
    assert CONFIG.locals["firestore_tales_collection"] == f"{root}_tales"


def test_the_story_key_rotates_and_cannot_be_destroyed() -> None:
    key = CONFIG.resource("google_kms_crypto_key.story")
    assert key.body["purpose"] == "ENCRYPT_DECRYPT"
    assert key.body["rotation_period"] == "7776000s"
    assert key.block("lifecycle")["prevent_destroy"] is True


def test_secrets_are_declared_without_values() -> None:
    declared = {v["secret_id"] for v in CONFIG.locals["secrets"].values()}
    assert declared == {
        "tale-model-api-key",
        "tale-email-api-key",
        "tale-supabase-service-key",
        "tale-supabase-jwt-secret",
        "tale-webhook-secret",
        "tale-stripe-secret-key",
        "tale-stripe-webhook-secret",
        "tale-youtube-api-key",
        "tale-trends-unsubscribe-key",
    }
    assert not CONFIG.of_type("google_secret_manager_secret_version")
    secret = CONFIG.resource("google_secret_manager_secret.secret").body
    assert expr(secret["for_each"]) == "local.secrets"


# --- scenario B -------------------------------------------------------------------------------


SCENARIO_B_FILES = ("gpu_job.tf", "planner.tf")


def test_the_gpu_job_exists_only_in_scenario_b() -> None:
    assert expr(CONFIG.locals["scenario_b"]) == 'var.scenario == "B"'
    in_files = [r for r in CONFIG.resources.values() if r.file in SCENARIO_B_FILES]
    addresses = {r.address for r in in_files}
    assert {
        "google_cloud_run_v2_job.gpu_worker",
        "google_cloud_run_v2_service.planner",
    } <= addresses
    for resource in in_files:
        assert expr(resource.body.get("count")) == "local.scenario_b ? 1 : 0", resource.address
    for resource in CONFIG.resources.values():
        if resource.file not in SCENARIO_B_FILES:
            assert "count" not in resource.body, resource.address


def test_references_to_scenario_b_resources_are_guarded() -> None:
    """Outside the scenario B files, `…gpu_worker[0]` and `…planner[0]` may only appear
    behind `local.scenario_b ?`."""
    for path in TERRAFORM.glob("*.tf"):
        if path.name in SCENARIO_B_FILES:
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if "gpu_worker[0]" in line or "planner[0]" in line:
                assert "local.scenario_b ?" in line or "local.scenario_b &&" in line, line


def test_the_gpu_job_runs_on_the_models_gpu_with_vpc_only_egress() -> None:
    job = CONFIG.resource("google_cloud_run_v2_job.gpu_worker")
    task = job.block("template", "template")
    (container,) = task["containers"]
    assert {k: expr(v) for k, v in container["resources"][0]["limits"].items()} == {
        "nvidia.com/gpu": "1",
        "cpu": "local.gpu_model.cpu",
        "memory": "local.gpu_model.memory",
    }
    assert expr(container["image"]) == "var.gpu_job_image"
    assert expr(task["node_selector"][0]["accelerator"]) == "local.gpu_model.gpu"
    assert task["gpu_zonal_redundancy_disabled"] is True
    assert expr(task["service_account"]) == "google_service_account.gpu_worker[0].email"
    assert expr(task["timeout"]) == "var.gpu_job_timeout"
    assert expr(task["max_retries"]) == "var.gpu_job_max_retries"
    vpc = task["vpc_access"][0]
    assert vpc["egress"] == "ALL_TRAFFIC"
    assert "network_interfaces" in vpc
    subnet = CONFIG.resource("google_compute_subnetwork.gpu").body
    assert subnet["private_ip_google_access"] is True
    assert not CONFIG.of_type("google_compute_router_nat"), "no NAT: no internet egress"


# --- scheduler, outputs ---------------------------------------------------------------------


def test_scheduler_jobs_come_from_the_registry_and_a_variable() -> None:
    job = CONFIG.resource("google_cloud_scheduler_job.publish").body
    assert expr(job["for_each"]) == "local.schedules"
    assert "local.scheduled_functions" in expr(CONFIG.locals["schedules"])
    assert "var.schedules" in expr(CONFIG.locals["schedules"])
    assert CONFIG.variables["schedules"]["default"] == {}
    assert job["retry_config"][0]["retry_count"] == 0
    assert expr(job["pubsub_target"][0]["topic_name"]) == (
        "google_pubsub_topic.topic[each.value.topic].id"
    )


def test_outputs() -> None:
    assert {"api_url", "webhook_url", "media_bucket", "region", "project"} <= set(CONFIG.outputs)
    assert 'fn["api"]' in expr(CONFIG.outputs["api_url"]["value"])
    assert 'fn["auth_webhook"]' in expr(CONFIG.outputs["webhook_url"]["value"])


# --- checkov skips --------------------------------------------------------------------------


def test_checkov_skips_are_inside_resources_and_give_a_reason() -> None:
    pattern = re.compile(r"^checkov:skip=(CKV2?_[A-Z]+_\d+):(.{20,})$")
    in_resources = 0
    for resource in CONFIG.resources.values():
        for comment in resource.comments():
            if comment.startswith("checkov:"):
                assert pattern.match(comment), (resource.address, comment)
                in_resources += 1
    text = "\n".join(p.read_text(encoding="utf-8") for p in TERRAFORM.glob("*.tf"))
    assert text.count("#checkov:skip=") == in_resources


def test_the_gpu_network_denies_egress_to_the_internet() -> None:
    deny = CONFIG.resource("google_compute_firewall.gpu_deny_egress").body
    assert deny["direction"] == "EGRESS" and deny["destination_ranges"] == ["0.0.0.0/0"]
    assert "deny" in deny and "allow" not in deny
    allow = CONFIG.resource("google_compute_firewall.gpu_allow_private_google").body
    assert "199.36.153.8/30" in str(allow["destination_ranges"])  # private.googleapis.com
    assert not CONFIG.of_type("google_compute_router_nat")  # no route out


def test_operators_keep_a_copy_of_every_dead_letter() -> None:
    from shared.config import Settings

    hold = CONFIG.resource("google_pubsub_subscription.dead_letter_hold").body
    assert hold["name"] == Settings().dead_letter_subscription
    assert expr(hold["topic"]) == "google_pubsub_topic.topic[local.dead_letter_topic].id"
    assert "push_config" not in hold  # pulled by operators only
    assert hold["message_retention_duration"] == "604800s"
    assert hold["expiration_policy"][0]["ttl"] == ""
    reader = CONFIG.resource("google_pubsub_subscription_iam_member.operator_dead_letters").body
    assert reader["role"] == "roles/pubsub.subscriber"
    assert expr(reader["for_each"]) == "toset(var.operators)"
