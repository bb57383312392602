# Metrics from the functions' structured logs (log-based metrics).
#
# Every function writes one JSON object per log line (shared/observability/logs.py): Cloud
# Logging keeps `severity`, `message`, `time` and the trace as the entry's own fields and the
# rest in jsonPayload — `event` (a stable name: stage.done, stage.retry, tale.finished, …),
# `function`, `stage`, `outcome`, `reason` (a low-cardinality class), `provider`,
# `duration_ms`, `credits`, … The metrics below count and measure those records; alerts.tf
# and dashboard.tf use them. tests/infra/test_observability.py checks that every event and
# field used here is one the formatter writes, and `tale stats` computes the same figures
# from the local stores (shared/observability/stats.py).
#
# Metric type: logging.googleapis.com/user/<name>; labels come from jsonPayload fields.

locals {
  # The resource type of the functions' log entries (Cloud Run functions run on Cloud Run).
  log_resource_type = "cloud_run_revision"

  stage_events = "jsonPayload.event=(\"stage.done\" OR \"stage.failed\" OR \"stage.retry\")"

  # name => what to count (filter), labels (label => jsonPayload field), and for a
  # distribution the field whose value it records and its buckets (scale × growth^i).
  log_metrics = {
    tale_stage_invocations = {
      description = "Function invocations about a tale, by outcome (ok, failed, retry)."
      filter      = local.stage_events
      labels      = { function = "function", stage = "stage", outcome = "outcome" }
      value       = null
      unit        = "1"
      buckets     = null
    }
    tale_stage_latency = {
      description = "Wall time of each invocation in milliseconds."
      filter      = local.stage_events
      labels      = { function = "function", stage = "stage", outcome = "outcome" }
      value       = "duration_ms"
      unit        = "ms"
      buckets     = { scale = 10, growth = 2, count = 20 }
    }
    tale_stage_errors = {
      description = "Failed invocations: retried (transient) or failed (permanent), by reason class."
      filter      = "jsonPayload.event=(\"stage.failed\" OR \"stage.retry\")"
      labels      = { function = "function", stage = "stage", outcome = "outcome", reason = "reason", provider = "provider" }
      value       = null
      unit        = "1"
      buckets     = null
    }
    tale_provider_calls = {
      description = "Provider calls whose usage was recorded (planner, images, video)."
      filter      = "jsonPayload.event=\"provider.call\""
      labels      = { provider = "provider", model = "model" }
      value       = null
      unit        = "1"
      buckets     = null
    }
    tale_provider_video_seconds = {
      description = "Seconds of video generated per provider call."
      filter      = "jsonPayload.event=\"provider.call\" AND jsonPayload.video_seconds>0"
      labels      = { provider = "provider", model = "model" }
      value       = "video_seconds"
      unit        = "s"
      buckets     = { scale = 1, growth = 2, count = 10 }
    }
    tale_provider_throttled = {
      description = "Retries caused by a provider's quota or rate limit."
      filter      = "jsonPayload.event=\"provider.throttled\""
      labels      = { provider = "provider", function = "function" }
      value       = null
      unit        = "1"
      buckets     = null
    }
    tale_provider_model_missing = {
      description = "Calls that found a configured model missing (retired or unknown): the critical model_missing alert."
      filter      = "jsonPayload.event=\"provider.model_missing\""
      labels      = { provider = "provider", model = "model" }
      value       = null
      unit        = "1"
      buckets     = null
    }
    tale_started = {
      description = "Tales accepted."
      filter      = "jsonPayload.event=\"tale.started\""
      labels      = {}
      value       = null
      unit        = "1"
      buckets     = null
    }
    tale_finished = {
      description = "Tales finished, by outcome (completed, failed, cancelled)."
      filter      = "jsonPayload.event=\"tale.finished\""
      labels      = { outcome = "outcome" }
      value       = null
      unit        = "1"
      buckets     = null
    }
    tale_failures = {
      description = "Failed tales by failing stage and reason class."
      filter      = "jsonPayload.event=\"tale.finished\" AND jsonPayload.outcome=\"failed\""
      labels      = { error_stage = "error_stage", reason = "reason" }
      value       = null
      unit        = "1"
      buckets     = null
    }
    tale_active_users = {
      description = "Tales started per user pseudonym (a hash): the number of series is the number of active users."
      filter      = "jsonPayload.event=\"tale.started\""
      labels      = { user = "user" }
      value       = null
      unit        = "1"
      buckets     = null
    }
    tale_credits_reserved = {
      description = "Credits reserved per tale (the API)."
      filter      = "jsonPayload.event=\"credits.reserved\""
      labels      = {}
      value       = "credits"
      unit        = "1"
      buckets     = { scale = 1, growth = 2, count = 8 }
    }
    tale_credit_settlements = {
      description = "Reservations settled (a finished video, credits spent) or refunded."
      filter      = "jsonPayload.event=(\"credits.settled\" OR \"credits.refunded\")"
      labels      = { outcome = "outcome" }
      value       = null
      unit        = "1"
      buckets     = null
    }
  }
}

resource "google_logging_metric" "tale" {
  for_each = local.log_metrics

  name        = each.key
  description = each.value.description
  filter      = each.value.filter

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = each.value.value == null ? "INT64" : "DISTRIBUTION"
    unit         = each.value.unit
    display_name = "Tale: ${replace(trimprefix(each.key, "tale_"), "_", " ")}"

    dynamic "labels" {
      for_each = each.value.labels
      content {
        key        = labels.key
        value_type = "STRING"
      }
    }
  }

  label_extractors = { for label, field in each.value.labels : label => "EXTRACT(jsonPayload.${field})" }
  value_extractor  = each.value.value == null ? null : "EXTRACT(jsonPayload.${each.value.value})"

  dynamic "bucket_options" {
    for_each = each.value.buckets == null ? [] : [each.value.buckets]
    content {
      exponential_buckets {
        num_finite_buckets = bucket_options.value.count
        growth_factor      = bucket_options.value.growth
        scale              = bucket_options.value.scale
      }
    }
  }

  depends_on = [google_project_service.this]
}
