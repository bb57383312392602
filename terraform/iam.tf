# Identities and grants. One service account per function (never the default compute
# account), granted only what the clients it needs use (wiring.tf lists the mapping); no
# function has a project-wide role except datastore.user, which Firestore only offers at the
# project level — limited to our database by an IAM condition.

resource "google_service_account" "fn" {
  for_each = local.functions

  account_id   = local.service_account_ids[each.key]
  display_name = "Tale function ${each.key}"
  description  = "Runtime identity of the ${each.key} Cloud Function (needs: ${join(", ", each.value.needs)})."

  depends_on = [google_project_service.this]
}

# store → Firestore, our database only.
resource "google_project_iam_member" "datastore_user" {
  for_each = local.store_users

  project = var.project_id
  role    = "roles/datastore.user"
  member  = "serviceAccount:${google_service_account.fn[each.key].email}"

  condition {
    title       = "tale-firestore-only"
    description = "Only the Tale Firestore database."
    expression  = "resource.name == \"projects/${var.project_id}/databases/${var.firestore_database}\""
  }
}

# blobs → objects of the media bucket only.
resource "google_storage_bucket_iam_member" "media_object_admin" {
  for_each = local.blob_users

  bucket = google_storage_bucket.media.name
  role   = "roles/storage.objectAdmin"
  member = "serviceAccount:${google_service_account.fn[each.key].email}"
}

# planner, images, videos, voices, explainer (scenario A) → Vertex AI: google-genai calls
# Gemini, the image model, Veo and the speech model as the function's own identity
# (application default credentials).
resource "google_project_iam_member" "vertex_user" {
  for_each = local.model_users

  project = var.project_id
  role    = "roles/aiplatform.user"
  member  = "serviceAccount:${google_service_account.fn[each.key].email}"
}

# Scenario A: Veo writes each shot attempt's clip into the media bucket itself (its storageUri
# is gs://<media bucket>/tales/<id>/shots/NN-a<attempt>/, read back by recovery), as the Vertex
# AI service agent: it may create objects in the media bucket, nothing more.
locals {
  vertex_service_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-aiplatform.iam.gserviceaccount.com"
}

resource "google_storage_bucket_iam_member" "vertex_agent_media_writer" {
  for_each = local.scenario_a ? toset(["media"]) : toset([])

  bucket = google_storage_bucket.media.name
  role   = "roles/storage.objectCreator"
  member = local.vertex_service_agent

  depends_on = [google_project_service.this]
}

# Signed media URLs are signed with IAM signBlob as the function itself: it may create tokens
# for its own account only.
resource "google_service_account_iam_member" "self_token_creator" {
  for_each = local.url_signer_set

  service_account_id = google_service_account.fn[each.key].name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "serviceAccount:${google_service_account.fn[each.key].email}"
}

# bus → publish to the pipeline topics (topic-level grants, no project-wide publisher).
resource "google_pubsub_topic_iam_member" "publisher" {
  for_each = local.publisher_grants

  topic  = google_pubsub_topic.topic[each.value.topic].name
  role   = "roles/pubsub.publisher"
  member = "serviceAccount:${google_service_account.fn[each.value.function].email}"
}

# keys → encrypt and decrypt story data keys with the story key.
resource "google_kms_crypto_key_iam_member" "story_key_user" {
  for_each = local.key_users

  crypto_key_id = google_kms_crypto_key.story.id
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = "serviceAccount:${google_service_account.fn[each.key].email}"
}

# Secrets: each function reads exactly the secrets its clients need.
resource "google_secret_manager_secret_iam_member" "function" {
  for_each = local.function_secret_grants

  secret_id = google_secret_manager_secret.secret[each.value.secret].id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.fn[each.value.function].email}"
}

# Pub/Sub push: the invoker account may invoke the Pub/Sub-triggered functions (their Cloud
# Run services: a 2nd-gen function is invoked through its service).
resource "google_cloud_run_v2_service_iam_member" "push_invoker" {
  for_each = local.pubsub_functions

  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.fn[each.key].service_config[0].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.push_invoker.email}"
}

# Public invocation, for the HTTP functions only. Each authenticates every request itself,
# so Cloud Run's IAM check cannot be what protects them:
# - api verifies the caller's Supabase access token (JWT) on every route (and CORS);
# - auth_webhook verifies the Standard Webhooks signature (webhook secret) of each delivery;
# - stripe_webhook verifies the Stripe-Signature of each delivery (the endpoint's secret).
resource "google_cloud_run_v2_service_iam_member" "public" {
  #checkov:skip=CKV_GCP_102:Intentionally public — api checks Supabase JWTs itself and the webhooks check their senders' signatures; browsers, Supabase and Stripe cannot present Google identity tokens.
  for_each = local.http_functions

  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.fn[each.key].service_config[0].service
  role     = "roles/run.invoker"
  member   = "allUsers"
}

# The identity Cloud Build uses to build the functions' images from source (instead of the
# default compute account): reads the source archive, writes images and build logs.
resource "google_service_account" "build" {
  account_id   = "tale-function-builder"
  display_name = "Tale: builds the Cloud Functions"

  depends_on = [google_project_service.this]
}

resource "google_project_iam_member" "build" {
  for_each = toset([
    "roles/artifactregistry.writer",
    "roles/logging.logWriter",
  ])

  project = var.project_id
  role    = each.value
  member  = "serviceAccount:${google_service_account.build.email}"
}

# The build reads the copy of the source that Cloud Functions stages in its own buckets
# (gcf-v2-sources-<project number>-<region>, created on first deploy) and caches there:
# object admin on those buckets only.
resource "google_project_iam_member" "build_gcf_buckets" {
  project = var.project_id
  role    = "roles/storage.objectAdmin"
  member  = "serviceAccount:${google_service_account.build.email}"

  condition {
    title       = "gcf-staging-buckets-only"
    description = "Only the buckets Cloud Functions creates for staging sources (gcf-v2-*)."
    expression  = "resource.name.startsWith(\"projects/_/buckets/gcf-v2-\")"
  }
}

resource "google_storage_bucket_iam_member" "build_source_reader" {
  bucket = coalesce(var.source_bucket, google_storage_bucket.source.name)
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.build.email}"
}
