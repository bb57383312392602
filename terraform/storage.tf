# Cloud Storage: the media bucket (character sheets, shot clips, final videos) and the bucket
# of the functions' source archives. Neither is ever public: uniform bucket-level access,
# public access prevention enforced, and media reach users only as short-lived signed URLs.

resource "google_storage_bucket" "media" {
  #checkov:skip=CKV_GCP_62:Access is through the functions' identities only (uniform IAM, no public access); Cloud Audit Logs (data access) are the access log, not a legacy log bucket.
  name     = local.media_bucket_name
  location = var.region

  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  versioning {
    enabled = true
  }

  # Shot clips are intermediates: once a tale is stitched they are only needed to regenerate
  # a shot, for a while. Clips are tales/<id>/shots/NN-a<attempt>.mp4 — a lifecycle condition
  # cannot match "tales/*/shots/", so it matches the prefix "tales/" AND the attempt suffixes
  # "-a1.mp4" … "-a<max>.mp4" (the maximum comes from ShotRequested.attempt), which no other
  # object has (final.mp4, poster.png, storyboard.png, characters/NN.png).
  lifecycle_rule {
    condition {
      age            = 30
      with_state     = "ANY"
      matches_prefix = ["tales/"]
      matches_suffix = [for attempt in range(1, local.shot_clip_max_attempt + 1) : "-a${attempt}.mp4"]
    }
    action {
      type = "Delete"
    }
  }

  # Versioning keeps overwritten or deleted objects for a week, then they go.
  lifecycle_rule {
    condition {
      days_since_noncurrent_time = 7
      with_state                 = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  lifecycle_rule {
    condition {
      age = 1
    }
    action {
      type = "AbortIncompleteMultipartUpload"
    }
  }

  depends_on = [google_project_service.this]
}

# Source archives of the functions, uploaded by Cloud Build (functions/<content hash>.zip).
# Declared here but needed before the first full apply: see docs/deploy.md (bootstrap).
resource "google_storage_bucket" "source" {
  #checkov:skip=CKV_GCP_62:Only Cloud Build and the function builder read or write it; Cloud Audit Logs are the access log.
  name     = local.source_bucket_name
  location = var.region

  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  versioning {
    enabled = true
  }

  # Old archives: a function is rebuilt from its archive only when redeployed, which always
  # uploads a new one. Keep replaced versions a month.
  lifecycle_rule {
    condition {
      days_since_noncurrent_time = 30
      with_state                 = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.this]
}
