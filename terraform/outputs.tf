output "project" {
  description = "The project deployed into."
  value       = var.project_id
}

output "region" {
  description = "The region of the functions, buckets and (scenario B) the GPU job."
  value       = var.region
}

output "api_url" {
  description = "The HTTP API (the web frontend's base URL, routes under /v1)."
  value       = google_cloudfunctions2_function.fn["api"].service_config[0].uri
}

output "webhook_url" {
  description = "The Supabase auth webhook endpoint (configure it in Supabase with the webhook secret)."
  value       = google_cloudfunctions2_function.fn["auth_webhook"].service_config[0].uri
}

output "stripe_webhook_url" {
  description = "The Stripe webhook endpoint (add it in Stripe's dashboard, then store its signing secret in tale-stripe-webhook-secret)."
  value       = google_cloudfunctions2_function.fn["stripe_webhook"].service_config[0].uri
}

output "media_bucket" {
  description = "The media bucket (TALE_MEDIA_BUCKET)."
  value       = google_storage_bucket.media.name
}

output "source_bucket" {
  description = "Where Cloud Build uploads the functions' source archives."
  value       = coalesce(var.source_bucket, google_storage_bucket.source.name)
}

output "firestore_database" {
  description = "The Firestore database (TALE_FIRESTORE_DATABASE)."
  value       = google_firestore_database.tale.name
}

output "kms_key" {
  description = "The story key-encryption key (TALE_KMS_KEY)."
  value       = google_kms_crypto_key.story.id
}

output "gpu_job" {
  description = "The GPU worker job (scenario B), or null."
  value       = local.scenario_b ? google_cloud_run_v2_job.gpu_worker[0].id : null
}

output "web_url" {
  description = "The web app (served by the CDN once the certificate is active)."
  value       = var.frontend_origin
}

output "web_ip" {
  description = "Point the frontend origin's DNS A record here (the managed certificate needs it)."
  value       = google_compute_global_address.web.address
}

output "web_bucket" {
  description = "The web app's static files (terraform uploads web/dist)."
  value       = google_storage_bucket.web.name
}
