# Example settings for staging: the release candidate, deployed from the same commit and the
# same source archive that prod will get (docs/operations.md, "Promotion"). Its own project,
# so its data, quotas and alerts are separate. No secrets here: their values live in Secret
# Manager (docs/deploy.md). source_object is passed by Cloud Build (-var=source_object=…).

project_id      = "tale-staging-123456"
environment     = "staging"
region          = "us-central1"
scenario        = "B"
frontend_origin = "https://staging.tale.example.com"
supabase_url    = "https://stagingabcdefghij.supabase.co"
email_from      = "Tale <noreply@staging.tale.example.com>"

# Scenario B as in prod, on a smaller scale.
gpu_job_image       = "us-central1-docker.pkg.dev/tale-staging-123456/tale/worker:latest"
gpu_job_timeout     = "3600s"
gpu_job_max_retries = 1

max_instances       = 10
deletion_protection = true

schedules = {}

# Operations (docs/operations.md): prod's thresholds, mailed to the team only.
alert_emails                    = ["tale-staging-alerts@example.com"]
alert_failure_rate              = 0.2
alert_failure_min_tales         = 5
daily_summary_schedule          = "0 8 * * *"
daily_summary_time_zone         = "Asia/Seoul"
firestore_backup_retention_days = 7
firestore_weekly_backup_weeks   = 4
backup_retention_days           = 30
