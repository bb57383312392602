# Alerts at three levels, mailed to var.alert_emails (docs/operations.md has the runbook):
#
#   critical (severity CRITICAL) — someone looks now:
#     - messages reach the dead-letter topic (a stage gave up on a message);
#     - the share of failed tales in an hour is above var.alert_failure_rate;
#     - a function errors continuously (its pushes fail in every 15-minute window);
#     - a configured model is missing (retired or unknown): every tale that needs it fails.
#   warning (severity WARNING) — look today:
#     - a function's p95 latency is above its budget;
#     - providers throttle us (quota or rate limits).
#   info (no severity: Monitoring's levels stop at WARNING) — the daily summary mail.
#
# Every policy carries `user_labels.level`; tests/infra/test_observability.py checks that
# every critical policy exists and notifies the email channels.

resource "google_monitoring_notification_channel" "email" {
  for_each = toset(var.alert_emails)

  display_name = "Tale ${var.environment} operators (${each.value})"
  type         = "email"
  labels = {
    email_address = each.value
  }

  depends_on = [google_project_service.this]
}

locals {
  alert_channels = [for channel in google_monitoring_notification_channel.email : channel.id]
  metric_prefix  = "logging.googleapis.com/user/"
}

locals {
  alert_severity = { critical = "CRITICAL", warning = "WARNING", info = null }

  # p95 budgets of the pipeline's functions (ms); any other Pub/Sub function gets half its
  # timeout; var.stage_latency_budgets_ms overrides per environment.
  latency_budget_defaults_ms = {
    plan_story         = 60000
    render_characters  = 120000
    render_shot        = 480000
    collect_shots      = 5000
    stitch_video       = 120000
    notify_user        = 15000
    settle_credits     = 5000
    handle_dead_letter = 5000
    sweep_stuck        = 60000
  }
  stage_latency_budgets_ms = {
    for name, ms in merge(
      { for name, f in local.pubsub_functions : name => f.timeout_s * 500 },
      local.latency_budget_defaults_ms,
      var.stage_latency_budgets_ms,
    ) : name => ms if contains(keys(local.pubsub_functions), name)
  }
}

# --- critical ------------------------------------------------------------------------------

resource "google_monitoring_alert_policy" "dead_letters" {
  display_name          = "Tale ${var.environment}: messages dead-lettered"
  combiner              = "OR"
  severity              = local.alert_severity["critical"]
  notification_channels = local.alert_channels
  user_labels           = { level = "critical" }

  conditions {
    display_name = "${local.dead_letter_topic} receives messages"
    condition_threshold {
      filter          = "resource.type = \"pubsub_topic\" AND resource.labels.topic_id = \"${local.dead_letter_topic}\" AND metric.type = \"pubsub.googleapis.com/topic/send_message_operation_count\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  conditions {
    display_name = "a subscription forwards to the dead-letter topic"
    condition_threshold {
      filter          = "resource.type = \"pubsub_subscription\" AND metric.type = \"pubsub.googleapis.com/subscription/dead_letter_message_count\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.label.subscription_id"]
      }
    }
  }

  alert_strategy {
    auto_close = "3600s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = <<-EOT
      A stage gave up on a message after its subscription's maximum delivery attempts;
      `handle_dead_letter` has failed (and refunded) the tale with the last error.
      List them with `tale dead-letters` (TALE_GCP_PROJECT set), fix the cause, then
      `tale replay MESSAGE`. Logs: `jsonPayload.event="stage.retry"`. Runbook:
      docs/operations.md#dead-letters.
    EOT
  }

  depends_on = [google_project_service.this]
}

resource "google_monitoring_alert_policy" "tale_failure_rate" {
  display_name          = "Tale ${var.environment}: failed tales above ${var.alert_failure_rate * 100}%"
  combiner              = "AND"
  severity              = local.alert_severity["critical"]
  notification_channels = local.alert_channels
  user_labels           = { level = "critical" }

  conditions {
    display_name = "failed / finished tales in an hour > ${var.alert_failure_rate}"
    condition_threshold {
      filter             = "resource.type = \"${local.log_resource_type}\" AND metric.type = \"${local.metric_prefix}${google_logging_metric.tale["tale_finished"].name}\" AND metric.labels.outcome = \"failed\""
      denominator_filter = "resource.type = \"${local.log_resource_type}\" AND metric.type = \"${local.metric_prefix}${google_logging_metric.tale["tale_finished"].name}\""
      comparison         = "COMPARISON_GT"
      threshold_value    = var.alert_failure_rate
      duration           = "0s"
      aggregations {
        alignment_period     = "3600s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
      }
      denominator_aggregations {
        alignment_period     = "3600s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  conditions {
    display_name = "at least ${var.alert_failure_min_tales} tales finished in the hour"
    condition_threshold {
      filter          = "resource.type = \"${local.log_resource_type}\" AND metric.type = \"${local.metric_prefix}${google_logging_metric.tale["tale_finished"].name}\""
      comparison      = "COMPARISON_GE"
      threshold_value = var.alert_failure_min_tales
      duration        = "0s"
      aggregations {
        alignment_period     = "3600s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  alert_strategy {
    auto_close = "7200s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = <<-EOT
      More than ${var.alert_failure_rate * 100}% of the tales that finished in the last hour
      failed. The dashboard's "Failed tales by reason" says at which stage and why
      (refused, throttled, timeout, dead-lettered, …); `tale stuck` lists them. Failed tales
      are refunded automatically. Runbook: docs/operations.md#failure-rate.
    EOT
  }
}

resource "google_monitoring_alert_policy" "function_erroring" {
  display_name          = "Tale ${var.environment}: a function is erroring continuously"
  combiner              = "OR"
  severity              = local.alert_severity["critical"]
  notification_channels = local.alert_channels
  user_labels           = { level = "critical" }

  conditions {
    display_name = "pushes to a function fail for ${var.alert_erroring_minutes} min"
    condition_threshold {
      filter          = "resource.type = \"pubsub_subscription\" AND metric.type = \"pubsub.googleapis.com/subscription/push_request_count\" AND NOT metric.labels.response_class = \"ack\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "${var.alert_erroring_minutes * 60}s"
      aggregations {
        alignment_period     = "900s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.label.subscription_id"]
      }
    }
  }

  conditions {
    display_name = "a function answers 5xx for ${var.alert_erroring_minutes} min"
    condition_threshold {
      filter          = "resource.type = \"cloud_run_revision\" AND metric.type = \"run.googleapis.com/request_count\" AND metric.labels.response_code_class = \"5xx\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "${var.alert_erroring_minutes * 60}s"
      aggregations {
        alignment_period     = "900s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.label.service_name"]
      }
    }
  }

  alert_strategy {
    auto_close = "3600s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = <<-EOT
      A function has failed in every 15-minute window for ${var.alert_erroring_minutes}
      minutes (push subscription named after the function, or the Cloud Run service). It may
      be crashing before it logs (memory, import errors): read its logs by
      `resource.labels.service_name`, and `jsonPayload.event="stage.retry"` for the reasons.
      Runbook: docs/operations.md#function-erroring.
    EOT
  }

  depends_on = [google_project_service.this]
}

resource "google_monitoring_alert_policy" "model_missing" {
  display_name          = "Tale ${var.environment}: a configured model is missing"
  combiner              = "OR"
  severity              = local.alert_severity["critical"]
  notification_channels = local.alert_channels
  user_labels           = { level = "critical" }

  conditions {
    display_name = "a provider call found its model retired or unknown"
    condition_threshold {
      filter          = "resource.type = \"${local.log_resource_type}\" AND metric.type = \"${local.metric_prefix}${google_logging_metric.tale["tale_provider_model_missing"].name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["metric.label.provider", "metric.label.model"]
      }
    }
  }

  alert_strategy {
    auto_close = "3600s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = <<-EOT
      A configured model does not exist for its provider (Vertex AI answered 404, or the id
      is retired in Tale's table): every tale that needs it fails at once, with its credits
      refunded, until it is replaced. Run `tale doctor` with the deployment's settings, set
      the model named in the incident (TALE_GEMINI_MODEL, TALE_IMAGE_MODEL, TALE_VEO_MODEL)
      to a current one and redeploy; `tale retry ID` resumes the failed tales. Runbook:
      docs/operations.md#model-missing.
    EOT
  }

  depends_on = [google_project_service.this]
}

# --- warning -------------------------------------------------------------------------------

resource "google_monitoring_alert_policy" "stage_latency" {
  for_each = local.stage_latency_budgets_ms

  display_name          = "Tale ${var.environment}: ${each.key} p95 latency over ${each.value} ms"
  combiner              = "OR"
  severity              = local.alert_severity["warning"]
  notification_channels = local.alert_channels
  user_labels           = { level = "warning" }

  conditions {
    display_name = "p95 of ${each.key} over 15 min > ${each.value} ms"
    condition_threshold {
      filter          = "resource.type = \"${local.log_resource_type}\" AND metric.type = \"${local.metric_prefix}${google_logging_metric.tale["tale_stage_latency"].name}\" AND metric.labels.function = \"${each.key}\""
      comparison      = "COMPARISON_GT"
      threshold_value = each.value
      duration        = "0s"
      aggregations {
        alignment_period     = "900s"
        per_series_aligner   = "ALIGN_PERCENTILE_95"
        cross_series_reducer = "REDUCE_MAX"
        group_by_fields      = ["metric.label.function"]
      }
    }
  }

  alert_strategy {
    auto_close = "3600s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = <<-EOT
      ${each.key} is slower than its budget. Compare with the dashboard's stage latencies and
      provider panels (a slow provider shows there first). Runbook: docs/operations.md#latency.
    EOT
  }
}

resource "google_monitoring_alert_policy" "provider_throttling" {
  display_name          = "Tale ${var.environment}: providers throttle us"
  combiner              = "OR"
  severity              = local.alert_severity["warning"]
  notification_channels = local.alert_channels
  user_labels           = { level = "warning" }

  conditions {
    display_name = "more than ${var.alert_throttles_per_15m} throttled retries in 15 min"
    condition_threshold {
      filter          = "resource.type = \"${local.log_resource_type}\" AND metric.type = \"${local.metric_prefix}${google_logging_metric.tale["tale_provider_throttled"].name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.alert_throttles_per_15m
      duration        = "0s"
      aggregations {
        alignment_period     = "900s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["metric.label.provider"]
      }
    }
  }

  alert_strategy {
    auto_close = "3600s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = <<-EOT
      A provider answers with quota or rate-limit errors; work is retried with backoff, so
      tales slow down. Check the quota (Veo requests per minute, TALE_VEO_REQUESTS_PER_MINUTE)
      and ask for more if the load is real. Runbook: docs/operations.md#throttling.
    EOT
  }
}

# --- info: the daily summary -----------------------------------------------------------------

# Once a day the sweep is asked for a summary too: sweep_stuck logs a tale.daily_summary
# record with the last 24 hours' figures (shared/observability/summary.py), and the policy
# below mails it.
resource "google_cloud_scheduler_job" "daily_summary" {
  name        = "tale-daily-summary"
  description = "Asks sweep_stuck for the daily summary (terraform/alerts.tf)."
  region      = var.region
  schedule    = var.daily_summary_schedule
  time_zone   = var.daily_summary_time_zone

  retry_config {
    retry_count = 1
  }

  pubsub_target {
    topic_name = google_pubsub_topic.topic["tale.sweep"].id
    data       = base64encode(jsonencode({ summary = "daily" }))
  }

  depends_on = [google_project_service.this]
}

resource "google_monitoring_alert_policy" "daily_summary" {
  display_name          = "Tale ${var.environment}: daily summary"
  combiner              = "OR"
  severity              = local.alert_severity["info"]
  notification_channels = local.alert_channels
  user_labels           = { level = "info" }

  conditions {
    display_name = "the daily summary record"
    condition_matched_log {
      filter = "jsonPayload.event=\"tale.daily_summary\""
      label_extractors = {
        started      = "EXTRACT(jsonPayload.started)"
        completed    = "EXTRACT(jsonPayload.completed)"
        failed       = "EXTRACT(jsonPayload.failed)"
        cancelled    = "EXTRACT(jsonPayload.cancelled)"
        active_users = "EXTRACT(jsonPayload.active_users)"
        failure_rate = "EXTRACT(jsonPayload.failure_rate)"
      }
    }
  }

  alert_strategy {
    auto_close = "1800s"
    notification_rate_limit {
      period = "300s"
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = <<-EOT
      Last 24 hours: $${log.extracted_label.started} tales started,
      $${log.extracted_label.completed} completed, $${log.extracted_label.failed} failed,
      $${log.extracted_label.cancelled} cancelled (failure rate
      $${log.extracted_label.failure_rate}); $${log.extracted_label.active_users} active users.
      Latencies, providers and spend: the "Tale (${var.environment})" dashboard.
    EOT
  }

  depends_on = [google_project_service.this]
}
