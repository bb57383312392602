# Backups of the pipeline's state (Firestore). Supabase (ledger, profiles, user-facing tale
# records) is backed up by Supabase itself; docs/operations.md says how, and how to restore.
#
# Three layers:
#   1. point-in-time recovery (firestore.tf: point_in_time_recovery_enablement) — any
#      minute of the last 7 days, read or cloned from the live database;
#   2. managed backups: daily (kept var.firestore_backup_retention_days) and weekly on
#      Sunday (kept var.firestore_weekly_backup_weeks) — restored into a new database;
#   3. a nightly export to the backups bucket (Cloud Scheduler → exportDocuments, with an
#      OAuth token of tale-backup), kept var.backup_retention_days by a lifecycle rule —
#      portable, and outside the database's own lifecycle.

locals {
  backups_bucket_name = "${var.project_id}-tale-backups"
  # An export's bucket must be in the database's location (a multi-region's continent).
  backups_location = lookup({ nam5 = "US", eur3 = "EU" }, local.firestore_location, local.firestore_location)
}

resource "google_firestore_backup_schedule" "daily" {
  project   = var.project_id
  database  = google_firestore_database.tale.name
  retention = "${var.firestore_backup_retention_days * 86400}s"

  daily_recurrence {}
}

resource "google_firestore_backup_schedule" "weekly" {
  project   = var.project_id
  database  = google_firestore_database.tale.name
  retention = "${var.firestore_weekly_backup_weeks * 7 * 86400}s"

  weekly_recurrence {
    day = "SUNDAY"
  }
}

resource "google_storage_bucket" "backups" {
  #checkov:skip=CKV_GCP_62:Written by Firestore exports and read by operators only (uniform IAM, no public access); Cloud Audit Logs are the access log.
  name     = local.backups_bucket_name
  location = local.backups_location

  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  versioning {
    enabled = true
  }

  # The retention rule: an export is deleted after var.backup_retention_days …
  lifecycle_rule {
    condition {
      age = var.backup_retention_days
    }
    action {
      type = "Delete"
    }
  }

  # … and a deleted or overwritten version a week later.
  lifecycle_rule {
    condition {
      days_since_noncurrent_time = 7
      with_state                 = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.this]
}

# The account the scheduled export runs as: exports our database, writes the bucket.
resource "google_service_account" "backup" {
  account_id   = "tale-backup"
  display_name = "Tale: scheduled Firestore exports"

  depends_on = [google_project_service.this]
}

resource "google_project_iam_member" "backup_export" {
  project = var.project_id
  role    = "roles/datastore.importExportAdmin"
  member  = "serviceAccount:${google_service_account.backup.email}"

  condition {
    title       = "tale-firestore-only"
    description = "Only the Tale Firestore database."
    expression  = "resource.name == \"projects/${var.project_id}/databases/${var.firestore_database}\""
  }
}

# The export itself is written by Firestore's service agent; the caller needs the bucket too.
resource "google_storage_bucket_iam_member" "backup_writer" {
  for_each = toset(["exporter", "firestore_agent"])

  bucket = google_storage_bucket.backups.name
  role   = "roles/storage.objectAdmin"
  member = each.key == "exporter" ? "serviceAccount:${google_service_account.backup.email}" : "serviceAccount:service-${data.google_project.this.number}@gcp-sa-firestore.iam.gserviceaccount.com"
}

resource "google_cloud_scheduler_job" "firestore_export" {
  name        = "tale-firestore-export"
  description = "Exports the Firestore database to the backups bucket (terraform/backups.tf)."
  region      = var.region
  schedule    = var.firestore_export_schedule
  time_zone   = "Etc/UTC"

  retry_config {
    retry_count = 2
  }

  http_target {
    http_method = "POST"
    uri         = "https://firestore.googleapis.com/v1/projects/${var.project_id}/databases/${google_firestore_database.tale.name}:exportDocuments"
    headers     = { "Content-Type" = "application/json" }
    # A bucket without a folder: each export goes to its own timestamped folder.
    body = base64encode(jsonencode({ outputUriPrefix = "gs://${google_storage_bucket.backups.name}" }))

    oauth_token {
      service_account_email = google_service_account.backup.email
      scope                 = "https://www.googleapis.com/auth/datastore"
    }
  }

  depends_on = [
    google_project_service.this,
    google_project_iam_member.backup_export,
    google_storage_bucket_iam_member.backup_writer,
  ]
}

output "backups_bucket" {
  description = "Where the nightly Firestore exports go (kept var.backup_retention_days)."
  value       = google_storage_bucket.backups.name
}
