# The Google APIs this deployment uses. Never disabled on destroy: other things in the project
# may use them too.

locals {
  apis = toset(concat(
    [
      "artifactregistry.googleapis.com",     # function images
      "cloudbuild.googleapis.com",           # builds the functions from source
      "cloudfunctions.googleapis.com",       # Cloud Functions (2nd gen)
      "cloudkms.googleapis.com",             # story encryption keys
      "cloudresourcemanager.googleapis.com", # project IAM
      "cloudscheduler.googleapis.com",       # scheduled publishes
      "compute.googleapis.com",              # the web app's load balancer and Cloud CDN
      "firestore.googleapis.com",            # pipeline state
      "iam.googleapis.com",                  # service accounts
      "iamcredentials.googleapis.com",       # signBlob for signed media URLs
      "logging.googleapis.com",
      "monitoring.googleapis.com",
      "pubsub.googleapis.com", # the event bus
      "run.googleapis.com",    # the functions' services (and the GPU job)
      "secretmanager.googleapis.com",
      "storage.googleapis.com",
    ],
    var.scenario == "B" ? ["compute.googleapis.com", "dns.googleapis.com", "vpcaccess.googleapis.com"] : [], # the GPU network, its private DNS, the functions' connector
    var.scenario == "A" ? ["aiplatform.googleapis.com"] : [],                                                # Gemini, the image model and Veo on Vertex AI
  ))
}

resource "google_project_service" "this" {
  for_each = local.apis

  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}
