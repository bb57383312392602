# Example settings for production. No secrets here: their values live in Secret Manager
# (docs/deploy.md). source_object is passed by Cloud Build (-var=source_object=…).

project_id      = "tale-prod-123456"
environment     = "prod"
region          = "us-central1"
scenario        = "B"
frontend_origin = "https://tale.example.com"
supabase_url    = "https://qrstuvwxyzabcdef.supabase.co"
email_from      = "Tale <noreply@tale.example.com>"

# Scenario B: the GPU worker image, built by Cloud Build from worker/ (_BUILD_GPU_IMAGE=true).
gpu_job_image       = "us-central1-docker.pkg.dev/tale-prod-123456/tale/worker:latest"
gpu_job_timeout     = "3600s"
gpu_job_max_retries = 1

max_instances       = 50
deletion_protection = true
# No cold start for the web frontend's API.
min_instances = { api = 1 }

schedules = {}

# Operations (docs/operations.md): the on-call rota and the product owner get the alerts.
alert_emails                    = ["oncall@example.com", "product@example.com"]
alert_failure_rate              = 0.1
alert_failure_min_tales         = 5
alert_erroring_minutes          = 15
alert_throttles_per_15m         = 20
daily_summary_schedule          = "0 8 * * *"
daily_summary_time_zone         = "Asia/Seoul"
firestore_backup_retention_days = 7
firestore_weekly_backup_weeks   = 14
firestore_export_schedule       = "30 3 * * *"
backup_retention_days           = 90
