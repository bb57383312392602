# Scheduled work: Cloud Scheduler publishes to a pipeline topic on a cron schedule.
#
# Every function of shared/registry.py with a `schedule` gets a job that publishes `{}` to its
# trigger topic (the stuck-work sweep, `sweep_stuck`, every 5 minutes). Further jobs can be
# added without code changes through var.schedules, e.g.
#
#   schedules = {
#     nightly_sweep = { schedule = "0 3 * * *", topic = "tale.sweep" }
#   }
#
# The message is delivered through the topic's push subscription like any other, so a sweep
# that fails is retried and, in the end, dead-lettered. Cloud Scheduler publishes as its own
# service agent; no grant is needed for topics in the same project.

locals {
  scheduled_functions = {
    for name, f in local.functions : name => {
      schedule  = f.schedule
      topic     = f.trigger
      data      = "{}"
      time_zone = "Etc/UTC"
    } if f.schedule != null
  }
  schedules = merge(local.scheduled_functions, var.schedules)
}

resource "google_cloud_scheduler_job" "publish" {
  for_each = local.schedules

  name        = "tale-${replace(each.key, "_", "-")}"
  description = "Publishes to ${each.value.topic} (terraform/scheduler.tf)."
  region      = var.region
  schedule    = each.value.schedule
  time_zone   = each.value.time_zone

  # A missed tick is not worth catching up on: the next one does the same work.
  retry_config {
    retry_count = 0
  }

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
