# GENERATED from shared/registry.py by `python -m terraform.generate`. Do not edit:
# change the registry and regenerate (tests/infra/test_registry_sync.py fails when stale).

locals {
  dead_letter_topic     = "tale.dead-letter"
  shot_clip_max_attempt = 20

  # Every topic the code publishes to or subscribes from.
  topics = [
    "tale.submitted",
    "characters.requested",
    "shot.requested",
    "shot.rendered",
    "narration.requested",
    "stitch.requested",
    "tale.finished",
    "tale.dead-letter",
    "tale.sweep",
    "trends.collect",
    "trends.collected",
  ]

  # Every Cloud Function, by name (= entry point).
  functions = {
    plan_story = {
      trigger               = "tale.submitted"
      memory                = "512Mi"
      timeout_s             = 540
      concurrency           = 1
      max_delivery_attempts = 5
      needs                 = ["store", "keys", "planner", "bus", "records", "usage", "audit"]
      schedule              = null
    }
    render_characters = {
      trigger               = "characters.requested"
      memory                = "1Gi"
      timeout_s             = 540
      concurrency           = 1
      max_delivery_attempts = 5
      needs                 = ["store", "images", "blobs", "bus", "records", "usage"]
      schedule              = null
    }
    render_shot = {
      trigger               = "shot.requested"
      memory                = "2Gi"
      timeout_s             = 540
      concurrency           = 1
      max_delivery_attempts = 5
      needs                 = ["store", "videos", "bus", "blobs", "records", "usage", "claims"]
      schedule              = null
    }
    narrate_shot = {
      trigger               = "narration.requested"
      memory                = "1Gi"
      timeout_s             = 300
      concurrency           = 1
      max_delivery_attempts = 5
      needs                 = ["store", "voices", "blobs", "bus", "records", "usage"]
      schedule              = null
    }
    collect_shots = {
      trigger               = "shot.rendered"
      memory                = "256Mi"
      timeout_s             = 60
      concurrency           = 1
      max_delivery_attempts = 5
      needs                 = ["store", "bus", "records"]
      schedule              = null
    }
    stitch_video = {
      trigger               = "stitch.requested"
      memory                = "4Gi"
      timeout_s             = 540
      concurrency           = 1
      max_delivery_attempts = 5
      needs                 = ["store", "blobs", "bus", "records"]
      schedule              = null
    }
    notify_user = {
      trigger               = "tale.finished"
      memory                = "256Mi"
      timeout_s             = 60
      concurrency           = 1
      max_delivery_attempts = 5
      needs                 = ["store", "claims", "notifier", "blobs", "bus", "records", "ledger"]
      schedule              = null
    }
    settle_credits = {
      trigger               = "tale.finished"
      memory                = "256Mi"
      timeout_s             = 60
      concurrency           = 1
      max_delivery_attempts = 5
      needs                 = ["ledger", "store", "bus", "records"]
      schedule              = null
    }
    handle_dead_letter = {
      trigger               = "tale.dead-letter"
      memory                = "256Mi"
      timeout_s             = 60
      concurrency           = 1
      max_delivery_attempts = 5
      needs                 = ["store", "bus", "records"]
      schedule              = null
    }
    sweep_stuck = {
      trigger               = "tale.sweep"
      memory                = "256Mi"
      timeout_s             = 300
      concurrency           = 1
      max_delivery_attempts = 5
      needs                 = ["store", "bus", "records", "ledger"]
      schedule              = "*/5 * * * *"
    }
    collect_trends = {
      trigger               = "trends.collect"
      memory                = "512Mi"
      timeout_s             = 300
      concurrency           = 1
      max_delivery_attempts = 5
      needs                 = ["trends", "youtube", "store", "claims", "bus"]
      schedule              = "0 */4 * * *"
    }
    analyze_trends = {
      trigger               = "trends.collected"
      memory                = "512Mi"
      timeout_s             = 540
      concurrency           = 1
      max_delivery_attempts = 5
      needs                 = ["trends", "explainer", "notifier", "store", "claims", "bus", "usage", "audit"]
      schedule              = null
    }
    api = {
      trigger               = "http"
      memory                = "512Mi"
      timeout_s             = 60
      concurrency           = 40
      max_delivery_attempts = 5
      needs                 = ["store", "claims", "keys", "bus", "blobs", "ledger", "records", "verifier", "payments"]
      schedule              = null
    }
    auth_webhook = {
      trigger               = "http"
      memory                = "256Mi"
      timeout_s             = 30
      concurrency           = 20
      max_delivery_attempts = 5
      needs                 = ["store", "claims", "ledger", "records"]
      schedule              = null
    }
    stripe_webhook = {
      trigger               = "http"
      memory                = "256Mi"
      timeout_s             = 60
      concurrency           = 20
      max_delivery_attempts = 5
      needs                 = ["ledger", "payments", "notifier", "claims", "store", "blobs"]
      schedule              = null
    }
  }
}
