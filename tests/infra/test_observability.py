"""Monitoring, alerts, the dashboard and backups in terraform/, checked against the code.

The log-based metrics must count what the formatter writes (event names and fields of
shared/observability), every alert must say its level and notify the operators, every
metric the alerts and the dashboard use must exist with the labels they use, and Firestore
must have point-in-time recovery, scheduled backups and an export with a retention rule.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest

from shared.observability.events import EVENTS, FIELDS, FORBIDDEN, emit
from shared.observability.logs import JsonFormatter
from shared.observability.summary import wants_summary
from shared.pubsub_message import Envelope
from shared.registry import DEAD_LETTER_TOPIC, FUNCTIONS, SWEEP_TOPIC
from tests.infra import hcl, tfeval
from tests.infra.hcl import TERRAFORM, expr
from tests.infra.logmetrics import metrics, terms

CONFIG = hcl.load()
METRICS = metrics()
POLICIES = {r.name: r for r in CONFIG.of_type("google_monitoring_alert_policy")}
DASHBOARD = TERRAFORM / "dashboards" / "tale.json"
_METRIC_REF = re.compile(r'google_logging_metric\.tale\["([a-z_]+)"\]\.name')
_METRIC_TYPE = re.compile(r'metric\.type\s*=\s*"logging\.googleapis\.com/user/([a-z_]+)"')
_PROMQL = re.compile(r"logging_googleapis_com:user_([a-z_]+)")


def _conditions(policy: hcl.Resource) -> list[dict[str, Any]]:
    return list(policy.body["conditions"])


def _thresholds(policy: hcl.Resource) -> list[dict[str, Any]]:
    return [c["condition_threshold"][0] for c in _conditions(policy) if "condition_threshold" in c]


def _log_metric_refs(text: str) -> list[str]:
    return _METRIC_REF.findall(text) + _METRIC_TYPE.findall(text)


# --- the log-based metrics count what the formatter writes ----------------------------------


def test_every_metric_filters_on_events_and_fields_the_formatter_writes() -> None:
    assert len(METRICS) >= 10
    for metric in METRICS.values():
        found = terms(metric.filter)
        assert found[0][0] == "event", metric.name  # every metric is about one kind of record
        for field, values, _ in found:
            assert field in FIELDS, (metric.name, field)
            if field == "event":
                assert values and values <= set(EVENTS), (metric.name, values)
        for label, field in metric.labels.items():
            assert field in FIELDS, (metric.name, label, field)
        if metric.value is not None:
            assert metric.value in FIELDS, (metric.name, metric.value)


def test_the_metric_resource_extracts_labels_and_values_from_json_payload() -> None:
    resource = CONFIG.resource("google_logging_metric.tale")
    assert expr(resource.body["for_each"]) == "local.log_metrics"
    assert expr(resource.body["label_extractors"]) == (
        '{for label, field in each.value.labels : label => "EXTRACT(jsonPayload.${field})"}'
    )
    assert "EXTRACT(jsonPayload.${each.value.value})" in expr(resource.body["value_extractor"])
    descriptor = resource.block("metric_descriptor")
    assert descriptor["metric_kind"] == "DELTA"
    assert '"INT64" : "DISTRIBUTION"' in expr(descriptor["value_type"])


def test_the_formatter_writes_those_fields_at_the_top_level_of_the_json() -> None:
    """Cloud Logging puts a top-level field F in jsonPayload.F (what the filters read)."""
    record = logging.LogRecord("tale.test", logging.INFO, __file__, 1, "m", None, None)
    fields = {name: 1 for name in FIELDS if name not in ("event",)}
    record.tale_fields = {"event": "stage.done", **fields}
    entry = json.loads(JsonFormatter("p").format(record))
    for metric in METRICS.values():
        for field, _, _ in terms(metric.filter):
            assert field in entry, (metric.name, field)
        for field in metric.labels.values():
            assert field in entry, (metric.name, field)


def test_no_logged_field_is_named_like_content_or_credentials() -> None:
    assert not [name for name in FIELDS if FORBIDDEN.search(name)]
    with pytest.raises(ValueError, match="unknown log fields"):
        emit(logging.getLogger("t"), "stage.done", "m", prompt="a prompt")
    with pytest.raises(ValueError, match="unknown event"):
        emit(logging.getLogger("t"), "stage.finished", "m")


# --- alerts --------------------------------------------------------------------------------


def test_every_alert_has_a_level_a_severity_and_the_operators_channels() -> None:
    severity = CONFIG.locals["alert_severity"]
    assert severity == {"critical": "CRITICAL", "warning": "WARNING", "info": None}
    assert POLICIES
    for name, policy in POLICIES.items():
        level = policy.body["user_labels"]["level"]
        assert level in severity, name
        assert expr(policy.body["severity"]) == f'local.alert_severity["{level}"]', name
        assert expr(policy.body["notification_channels"]) == "local.alert_channels", name
        assert policy.block("documentation")["content"].strip(), name
    assert expr(CONFIG.locals["alert_channels"]) == (
        "[for channel in google_monitoring_notification_channel.email : channel.id]"
    )
    channel = CONFIG.resource("google_monitoring_notification_channel.email").body
    assert channel["type"] == "email"
    assert expr(channel["for_each"]) == "toset(var.alert_emails)"
    assert expr(channel["labels"]["email_address"]) == "each.value"
    assert "default" not in CONFIG.variables["alert_emails"]  # every environment names people
    assert "length(var.alert_emails) > 0" in expr(
        CONFIG.variables["alert_emails"]["validation"][0]["condition"]
    )


def test_the_critical_alerts_exist() -> None:
    critical = {n for n, p in POLICIES.items() if p.body["user_labels"]["level"] == "critical"}
    assert critical == {"dead_letters", "tale_failure_rate", "function_erroring", "model_missing"}

    dead = _thresholds(POLICIES["dead_letters"])
    assert "pubsub.googleapis.com/topic/send_message_operation_count" in dead[0]["filter"]
    assert 'resource.labels.topic_id = "${local.dead_letter_topic}"' in dead[0]["filter"]
    assert CONFIG.locals["dead_letter_topic"] == DEAD_LETTER_TOPIC
    assert dead[0]["comparison"] == "COMPARISON_GT" and dead[0]["threshold_value"] == 0

    (ratio, volume) = _thresholds(POLICIES["tale_failure_rate"])
    assert POLICIES["tale_failure_rate"].body["combiner"] == "AND"
    assert _log_metric_refs(ratio["filter"]) == ["tale_finished"]
    assert 'metric.labels.outcome = "failed"' in ratio["filter"]
    assert _log_metric_refs(ratio["denominator_filter"]) == ["tale_finished"]
    assert "outcome" not in ratio["denominator_filter"]
    assert expr(ratio["threshold_value"]) == "var.alert_failure_rate"
    assert expr(volume["threshold_value"]) == "var.alert_failure_min_tales"

    (missing,) = _thresholds(POLICIES["model_missing"])
    assert _log_metric_refs(missing["filter"]) == ["tale_provider_model_missing"]
    assert METRICS["tale_provider_model_missing"].filter == (
        'jsonPayload.event="provider.model_missing"'
    )
    assert missing["comparison"] == "COMPARISON_GT" and missing["threshold_value"] == 0

    erroring = _thresholds(POLICIES["function_erroring"])
    push = erroring[0]
    assert "pubsub.googleapis.com/subscription/push_request_count" in push["filter"]
    assert 'NOT metric.labels.response_class = "ack"' in push["filter"]
    # Subscriptions are named after the functions: an incident names the function.
    assert push["aggregations"][0]["group_by_fields"] == ["resource.label.subscription_id"]
    assert expr(push["duration"]) == "${var.alert_erroring_minutes * 60}s"


def test_the_warnings_cover_every_pubsub_functions_latency_and_provider_throttling() -> None:
    warning = {n for n, p in POLICIES.items() if p.body["user_labels"]["level"] == "warning"}
    assert warning == {"stage_latency", "provider_throttling"}
    latency = POLICIES["stage_latency"]
    assert expr(latency.body["for_each"]) == "local.stage_latency_budgets_ms"
    (condition,) = _thresholds(latency)
    assert _log_metric_refs(condition["filter"]) == ["tale_stage_latency"]
    assert condition["aggregations"][0]["per_series_aligner"] == "ALIGN_PERCENTILE_95"
    assert expr(condition["threshold_value"]) == "each.value"
    defaults = CONFIG.locals["latency_budget_defaults_ms"]
    pubsub = {f.name for f in FUNCTIONS if not f.is_http}
    assert set(defaults) <= pubsub
    # The pipeline's functions have budgets of their own; any other gets half its timeout.
    assert {"plan_story", "render_shot", "stitch_video", "notify_user"} <= set(defaults)
    assert "local.pubsub_functions" in expr(CONFIG.locals["stage_latency_budgets_ms"])
    (throttled,) = _thresholds(POLICIES["provider_throttling"])
    assert _log_metric_refs(throttled["filter"]) == ["tale_provider_throttled"]


def test_the_daily_summary_is_asked_for_and_mailed() -> None:
    policy = POLICIES["daily_summary"]
    assert policy.body["user_labels"]["level"] == "info"
    (condition,) = _conditions(policy)
    log_match = condition["condition_matched_log"][0]
    found = terms(log_match["filter"])
    assert found == [("event", {"tale.daily_summary"}, None)]
    for label, extractor in log_match["label_extractors"].items():
        assert extractor == f"EXTRACT(jsonPayload.{label})" and label in FIELDS
    assert policy.block("alert_strategy", "notification_rate_limit")["period"]
    job = CONFIG.resource("google_cloud_scheduler_job.daily_summary").body
    target = job["pubsub_target"][0]
    assert expr(target["topic_name"]) == f'google_pubsub_topic.topic["{SWEEP_TOPIC}"].id'
    assert expr(target["data"]) == 'base64encode(jsonencode({summary = "daily"}))'
    assert wants_summary(Envelope(SWEEP_TOPIC, "m", json.dumps({"summary": "daily"}).encode()))
    assert not wants_summary(Envelope(SWEEP_TOPIC, "m", b"{}"))


def test_alerts_use_only_metrics_and_labels_that_exist() -> None:
    for name, policy in POLICIES.items():
        for condition in _thresholds(policy):
            for key in ("filter", "denominator_filter"):
                text = str(condition.get(key, ""))
                for metric in _log_metric_refs(text):
                    assert metric in METRICS, (name, metric)
                    for label in re.findall(r"metric\.labels\.([a-z_]+)", text):
                        assert label in METRICS[metric].labels, (name, metric, label)
                    groups = condition["aggregations"][0].get("group_by_fields", [])
                    for group in groups:
                        label = group.removeprefix("metric.label.")
                        assert label in METRICS[metric].labels, (name, metric, group)


# --- the dashboard -------------------------------------------------------------------------


def _widgets(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [t["widget"] for t in doc["mosaicLayout"]["tiles"]]


def _queries(widget: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    """(time series query, legend template) of a chart or scorecard."""
    if "xyChart" in widget:
        return [
            (d["timeSeriesQuery"], d.get("legendTemplate", ""))
            for d in widget["xyChart"]["dataSets"]
        ]
    if "scorecard" in widget:
        return [(widget["scorecard"]["timeSeriesQuery"], "")]
    return []


def test_the_dashboard_json_is_a_valid_mosaic_layout() -> None:
    doc = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    layout = doc["mosaicLayout"]
    assert layout["columns"] <= 48
    cells: set[tuple[int, int]] = set()
    for tile in layout["tiles"]:
        x, y, w, h = tile["xPos"], tile["yPos"], tile["width"], tile["height"]
        assert x >= 0 and y >= 0 and w > 0 and h > 0 and x + w <= layout["columns"], tile
        area = {(i, j) for i in range(x, x + w) for j in range(y, y + h)}
        assert not area & cells, f"tiles overlap: {tile['widget']['title']}"
        cells |= area
        widget = tile["widget"]
        kinds = {"xyChart", "scorecard", "text"} & set(widget)
        assert widget["title"] and len(kinds) == 1, widget
    resource = CONFIG.resource("google_monitoring_dashboard.tale").body
    assert 'file("${path.module}/dashboards/tale.json")' in expr(resource["dashboard_json"])


def test_the_dashboard_shows_funnel_latency_failures_providers_and_spend() -> None:
    doc = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    used: set[str] = set()
    for widget in _widgets(doc):
        for query, legend in _queries(widget):
            if "timeSeriesFilter" in query:
                series = query["timeSeriesFilter"]
                (metric,) = _METRIC_TYPE.findall(series["filter"])
                assert metric in METRICS, (widget["title"], metric)
                labels = re.findall(r"metric\.labels?\.([a-z_]+)", series["filter"])
                labels += [
                    g.removeprefix("metric.label.")
                    for g in series["aggregation"].get("groupByFields", [])
                ]
                labels += re.findall(r"\$\{metric\.labels\.([a-z_]+)\}", legend)
                for label in labels:
                    assert label in METRICS[metric].labels, (widget["title"], label)
                used.add(metric)
            else:
                promql = query["prometheusQuery"]
                for name in _PROMQL.findall(promql):
                    base = re.sub(r"_(sum|count|bucket)$", "", name)
                    assert base in METRICS, (widget["title"], name)
                    if base != name:
                        assert METRICS[base].value is not None, f"{base} is not a distribution"
                    used.add(base)
    assert {
        "tale_started",
        "tale_finished",
        "tale_active_users",
        "tale_stage_latency",
        "tale_stage_invocations",
        "tale_failures",
        "tale_stage_errors",
        "tale_provider_calls",
        "tale_provider_video_seconds",
        "tale_provider_throttled",
        "tale_credits_reserved",
        "tale_credit_settlements",
    } <= used


# --- backups and environments ----------------------------------------------------------------


def test_firestore_has_pitr_scheduled_backups_and_a_retained_export() -> None:
    db = CONFIG.resource("google_firestore_database.tale").body
    assert db["point_in_time_recovery_enablement"] == "POINT_IN_TIME_RECOVERY_ENABLED"
    daily = CONFIG.resource("google_firestore_backup_schedule.daily").body
    assert "daily_recurrence" in daily
    assert expr(daily["retention"]) == "${var.firestore_backup_retention_days * 86400}s"
    weekly = CONFIG.resource("google_firestore_backup_schedule.weekly").body
    assert weekly["weekly_recurrence"][0]["day"] == "SUNDAY"
    for schedule in (daily, weekly):
        assert expr(schedule["database"]) == "google_firestore_database.tale.name"

    bucket = CONFIG.resource("google_storage_bucket.backups")
    rules = bucket.body["lifecycle_rule"]
    retention = [r for r in rules if "age" in r["condition"][0]]
    assert [expr(r["condition"][0]["age"]) for r in retention] == ["var.backup_retention_days"]
    assert retention[0]["action"][0]["type"] == "Delete"
    assert bucket.body["public_access_prevention"] == "enforced"
    assert bucket.block("versioning") == {"enabled": True}

    job = CONFIG.resource("google_cloud_scheduler_job.firestore_export").body
    target = job["http_target"][0]
    assert target["http_method"] == "POST"
    assert target["uri"].endswith(":exportDocuments")
    assert "google_firestore_database.tale.name" in target["uri"]
    assert "gs://${google_storage_bucket.backups.name}" in expr(target["body"])
    token = target["oauth_token"][0]
    assert expr(token["service_account_email"]) == "google_service_account.backup.email"
    assert token["scope"] == "https://www.googleapis.com/auth/datastore"
    export = CONFIG.resource("google_project_iam_member.backup_export").body
    assert export["role"] == "roles/datastore.importExportAdmin"
    assert "databases/${var.firestore_database}" in export["condition"][0]["expression"]


def _tfvars(path: Path) -> dict[str, Any]:
    import hcl2

    with path.open(encoding="utf-8") as f:
        doc = hcl2.load(
            f, serialization_options=hcl2.SerializationOptions(strip_string_quotes=True)
        )
    return {k: v for k, v in doc.items() if not k.startswith("__")}


def test_dev_staging_and_prod_are_separate_projects_with_their_own_operators() -> None:
    envs = {
        name: _tfvars(TERRAFORM / "environments" / f"{name}.tfvars")
        for name in ("dev", "staging", "prod")
    }
    assert len({v["project_id"] for v in envs.values()}) == 3
    for name, values in envs.items():
        assert values["environment"] == name
        assert values["alert_emails"] and all("@" in e for e in values["alert_emails"])
    # Production is stricter and keeps backups longer.
    assert envs["prod"]["alert_failure_rate"] < envs["dev"]["alert_failure_rate"]
    assert envs["prod"]["backup_retention_days"] > envs["dev"]["backup_retention_days"]
    assert envs["prod"]["deletion_protection"] is True
    fn = CONFIG.resource("google_cloudfunctions2_function.fn").block("service_config")
    assert expr(fn["min_instance_count"]) == "lookup(var.min_instances, each.key, 0)"


@pytest.mark.skipif(tfeval.binary() is None, reason="terraform is not installed")
def test_the_budgets_and_locations_evaluate_as_intended() -> None:
    """With the terraform binary: budgets for exactly the Pub/Sub functions (an override for
    a function that does not exist is dropped), and the backups bucket's location."""
    values = tfeval.evaluate(
        {
            "budgets": "local.stage_latency_budgets_ms",
            "metrics": "keys(local.log_metrics)",
            "location": "local.backups_location",
        },
        {
            "stage_latency_budgets_ms": {"render_shot": 1234, "no_such_function": 1},
            "firestore_location": "nam5",
        },
    )
    pubsub = {f.name: f for f in FUNCTIONS if not f.is_http}
    assert set(values["budgets"]) == set(pubsub)
    assert values["budgets"]["render_shot"] == 1234
    assert (
        values["budgets"]["plan_story"] == CONFIG.locals["latency_budget_defaults_ms"]["plan_story"]
    )
    for name, spec in pubsub.items():
        if name not in CONFIG.locals["latency_budget_defaults_ms"] and name != "render_shot":
            assert values["budgets"][name] == spec.timeout_s * 500
    assert set(values["metrics"]) == set(METRICS)
    assert values["location"] == "US"
