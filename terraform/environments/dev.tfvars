# Example settings for a development project. No secrets here: their values live in Secret
# Manager (docs/deploy.md). source_object is passed by Cloud Build (-var=source_object=…).

project_id      = "tale-dev-123456"
environment     = "dev"
region          = "us-central1"
scenario        = "A"
frontend_origin = "https://dev.tale.example.com"
supabase_url    = "https://abcdefghijklmnop.supabase.co"
email_from      = "Tale <noreply@dev.tale.example.com>"

max_instances       = 5
deletion_protection = false

# Operations (docs/operations.md): alerts go to the team; loose thresholds, short backups.
alert_emails                    = ["tale-dev-alerts@example.com"]
alert_failure_rate              = 0.5
alert_failure_min_tales         = 10
firestore_backup_retention_days = 2
firestore_weekly_backup_weeks   = 2
backup_retention_days           = 7
