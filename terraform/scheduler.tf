# Scheduled publishes (Cloud Scheduler → a pipeline topic). None by default: nothing in the
# code runs on a schedule yet. A periodic job — say a sweep of stuck tales every 5 minutes, or
# a trend scout — is added by putting its topic and function in shared/registry.py
# (regenerating locals.tf) and an entry in var.schedules:
#
#   schedules = {
#     sweep = { schedule = "*/5 * * * *", topic = "tale.sweep" }
#   }

resource "google_cloud_scheduler_job" "publish" {
  for_each = var.schedules

  name      = "tale-${each.key}"
  region    = var.region
  schedule  = each.value.schedule
  time_zone = each.value.time_zone

  pubsub_target {
    topic_name = google_pubsub_topic.topic[each.value.topic].id
    data       = base64encode(each.value.data)
  }

  lifecycle {
    precondition {
      condition     = contains(local.topics, each.value.topic)
      error_message = "schedules.${each.key}.topic must be a topic of shared/registry.py (terraform/locals.tf)."
    }
  }

  depends_on = [google_project_service.this]
}
