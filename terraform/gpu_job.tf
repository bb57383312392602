# Scenario B: the GPU worker renders shots on our own model, as a Cloud Run job. render_shot
# starts one execution per tale (and attempt) with var.gpu_tasks tasks that run in parallel,
# each on its own GPU and loading the weights once. A job has no ingress at all; its egress goes
# through a VPC without Cloud NAT (Direct VPC egress, ALL_TRAFFIC), so it reaches Google APIs
# (Private Google Access, googleapis.com resolved to private.googleapis.com below) — our bucket
# and services — and nothing on the internet. The weights are a read-only bucket mount.
#
# The GPU and memory follow the video model (var.gpu_video_model) from the table in
# shared/providers/selfhosted/video_models.py (sources and date there); tests/infra checks that
# the GPU's memory holds the documented peak and the RAM the CPU-offloaded weights.
#
# Nothing here exists in scenario A (count = 0).

locals {
  # Per model: the accelerator, the task's vCPU and memory (Cloud Run: an L4 takes 4-8 vCPU and
  # 16-32 GiB; an RTX PRO 6000 at least 20 vCPU and 80 GiB), and whether components wait in
  # host memory between their turns on the GPU (model CPU offload).
  gpu_models = {
    "wan2.1-t2v-1.3b"  = { gpu = "nvidia-l4", cpu = "8", memory = "32Gi", offload = "true" }
    "wan2.1-t2v-14b"   = { gpu = "nvidia-rtx-pro-6000", cpu = "20", memory = "80Gi", offload = "true" }
    "cogvideox-5b"     = { gpu = "nvidia-l4", cpu = "8", memory = "32Gi", offload = "true" }
    "cogvideox-5b-i2v" = { gpu = "nvidia-l4", cpu = "8", memory = "32Gi", offload = "true" }
  }
  gpu_model = local.gpu_models[var.gpu_video_model]
}

resource "google_compute_network" "gpu" {
  count = local.scenario_b ? 1 : 0

  name                    = "tale-gpu"
  auto_create_subnetworks = false
  routing_mode            = "REGIONAL"

  depends_on = [google_project_service.this]
}

resource "google_compute_subnetwork" "gpu" {
  count = local.scenario_b ? 1 : 0

  name                     = "tale-gpu-${var.region}"
  region                   = var.region
  network                  = google_compute_network.gpu[0].id
  ip_cidr_range            = var.gpu_subnet_cidr
  private_ip_google_access = true

  log_config {
    aggregation_interval = "INTERVAL_10_MIN"
    flow_sampling        = 0.5
    metadata             = "INCLUDE_ALL_METADATA"
  }
}

# Nothing may connect into this network (a job has no ingress anyway); replaces the implicit
# rules with explicit ones.
# No route to the internet: the network has no Cloud NAT, and egress is denied everywhere
# except Google's private API range (Private Google Access: Firestore, Storage, Pub/Sub, KMS)
# and the subnet itself (our model servers). A story cannot leave the project from here.
resource "google_compute_firewall" "gpu_deny_egress" {
  count = local.scenario_b ? 1 : 0

  name               = "tale-gpu-deny-egress"
  network            = google_compute_network.gpu[0].id
  direction          = "EGRESS"
  priority           = 65000
  destination_ranges = ["0.0.0.0/0"]

  deny {
    protocol = "all"
  }

  log_config {
    metadata = "INCLUDE_ALL_METADATA"
  }
}

resource "google_compute_firewall" "gpu_allow_private_google" {
  count = local.scenario_b ? 1 : 0

  name               = "tale-gpu-allow-private-google"
  network            = google_compute_network.gpu[0].id
  direction          = "EGRESS"
  priority           = 1000
  destination_ranges = ["199.36.153.8/30", var.gpu_subnet_cidr]

  allow {
    protocol = "tcp"
    ports    = ["443", "8000"]
  }
}

resource "google_compute_firewall" "gpu_deny_ingress" {
  count = local.scenario_b ? 1 : 0

  name      = "tale-gpu-deny-ingress"
  network   = google_compute_network.gpu[0].id
  direction = "INGRESS"
  priority  = 1000

  source_ranges = ["0.0.0.0/0"]

  deny {
    protocol = "all"
  }

  log_config {
    metadata = "INCLUDE_ALL_METADATA"
  }
}

# Google APIs from inside the network: with egress denied everywhere but 199.36.153.8/30,
# googleapis.com must resolve to private.googleapis.com (Private Google Access), and so must
# run.app, so that calls to the internal-only planner service (planner.tf) enter the VPC.
resource "google_dns_managed_zone" "googleapis" {
  count = local.scenario_b ? 1 : 0

  name        = "tale-gpu-googleapis"
  dns_name    = "googleapis.com."
  description = "Private Google Access for the scenario B network."
  visibility  = "private"

  private_visibility_config {
    networks {
      network_url = google_compute_network.gpu[0].id
    }
  }

  depends_on = [google_project_service.this]
}

resource "google_dns_record_set" "googleapis_private" {
  count = local.scenario_b ? 1 : 0

  managed_zone = google_dns_managed_zone.googleapis[0].name
  name         = "private.googleapis.com."
  type         = "A"
  ttl          = 300
  rrdatas      = ["199.36.153.8", "199.36.153.9", "199.36.153.10", "199.36.153.11"]
}

resource "google_dns_record_set" "googleapis_all" {
  count = local.scenario_b ? 1 : 0

  managed_zone = google_dns_managed_zone.googleapis[0].name
  name         = "*.googleapis.com."
  type         = "CNAME"
  ttl          = 300
  rrdatas      = ["private.googleapis.com."]
}

resource "google_dns_managed_zone" "run_app" {
  count = local.scenario_b ? 1 : 0

  name        = "tale-gpu-run-app"
  dns_name    = "run.app."
  description = "Cloud Run URLs through the VPC (internal ingress) for the scenario B network."
  visibility  = "private"

  private_visibility_config {
    networks {
      network_url = google_compute_network.gpu[0].id
    }
  }

  depends_on = [google_project_service.this]
}

resource "google_dns_record_set" "run_app_private" {
  count = local.scenario_b ? 1 : 0

  managed_zone = google_dns_managed_zone.run_app[0].name
  name         = "*.run.app."
  type         = "A"
  ttl          = 300
  rrdatas      = ["199.36.153.8", "199.36.153.9", "199.36.153.10", "199.36.153.11"]
}

resource "google_service_account" "gpu_worker" {
  count = local.scenario_b ? 1 : 0

  account_id   = "tale-gpu-worker"
  display_name = "Tale: GPU worker job (scenario B)"

  depends_on = [google_project_service.this]
}

resource "google_cloud_run_v2_job" "gpu_worker" {
  count = local.scenario_b ? 1 : 0

  name                = "tale-gpu-worker"
  location            = var.region
  deletion_protection = var.deletion_protection

  # One execution per tale and attempt: render_shot's dispatch overrides task_count (at most
  # var.gpu_tasks, TALE_GPU_TASKS), TALE_TALE_ID and TALE_GPU_ATTEMPT. Its tasks run at once.
  template {
    task_count  = var.gpu_tasks
    parallelism = var.gpu_tasks

    template {
      service_account = google_service_account.gpu_worker[0].email
      timeout         = var.gpu_job_timeout
      max_retries     = var.gpu_job_max_retries

      containers {
        image = var.gpu_job_image

        resources {
          limits = {
            "nvidia.com/gpu" = "1"
            cpu              = local.gpu_model.cpu
            memory           = local.gpu_model.memory
          }
        }

        env {
          name  = "TALE_GCP_PROJECT"
          value = var.project_id
        }
        env {
          name  = "TALE_MEDIA_BUCKET"
          value = local.media_bucket_name
        }
        env {
          name  = "TALE_SCENARIO"
          value = "B"
        }
        env {
          name  = "TALE_KMS_KEY"
          value = google_kms_crypto_key.story.id
        }
        env {
          name  = "TALE_GPU_WEIGHTS"
          value = "/weights/${var.gpu_weights_path}"
        }
        env {
          name  = "TALE_GPU_PIPELINE"
          value = var.gpu_video_model
        }
        env {
          name  = "TALE_GPU_OFFLOAD"
          value = local.gpu_model.offload
        }
        # The narrator (Bark, scenario B's voice): each task voices its shots' narration.
        env {
          name  = "TALE_GPU_VOICE_WEIGHTS"
          value = "/weights/${var.gpu_voice_weights_path}"
        }

        volume_mounts {
          name       = "weights"
          mount_path = "/weights"
        }
      }

      # Weights load once per task from the mounted bucket; nothing is fetched from a hub.
      volumes {
        name = "weights"
        gcs {
          bucket    = var.gpu_weights_bucket
          read_only = true
        }
      }

      node_selector {
        accelerator = local.gpu_model.gpu
      }
      # One GPU without a standby in another zone: cheaper, and a render is retried anyway.
      gpu_zonal_redundancy_disabled = true

      vpc_access {
        egress = "ALL_TRAFFIC"
        network_interfaces {
          network    = google_compute_network.gpu[0].id
          subnetwork = google_compute_subnetwork.gpu[0].id
        }
      }
    }
  }

  lifecycle {
    precondition {
      condition     = var.gpu_job_image != null
      error_message = "scenario \"B\" needs gpu_job_image (the worker image, built from worker/)."
    }
    precondition {
      condition     = var.gpu_weights_bucket != null
      error_message = "scenario \"B\" needs gpu_weights_bucket (the open model weights)."
    }
  }

  depends_on = [google_project_service.this]
}

# The worker reads shot inputs and writes clips in the media bucket, nothing else.
resource "google_storage_bucket_iam_member" "gpu_worker_media" {
  count = local.scenario_b ? 1 : 0

  bucket = google_storage_bucket.media.name
  role   = "roles/storage.objectAdmin"
  member = "serviceAccount:${google_service_account.gpu_worker[0].email}"
}

# render_shot starts executions with per-shot overrides and polls them (reads their state):
# both on this job only.
resource "google_cloud_run_v2_job_iam_member" "render_shot_runs_gpu_worker" {
  count = local.scenario_b ? 1 : 0

  project  = var.project_id
  location = var.region
  name     = google_cloud_run_v2_job.gpu_worker[0].name
  role     = "roles/run.jobsExecutorWithOverrides"
  member   = "serviceAccount:${google_service_account.fn["render_shot"].email}"
}

resource "google_cloud_run_v2_job_iam_member" "render_shot_reads_gpu_worker" {
  count = local.scenario_b ? 1 : 0

  project  = var.project_id
  location = var.region
  name     = google_cloud_run_v2_job.gpu_worker[0].name
  role     = "roles/run.viewer"
  member   = "serviceAccount:${google_service_account.fn["render_shot"].email}"
}

# Where Cloud Build pushes the worker image (bootstrap it with -target before the first build:
# docs/deploy.md). Untagged images are cleaned up after two weeks.
resource "google_artifact_registry_repository" "tale" {
  #checkov:skip=CKV_GCP_84:Images hold code and model weights we publish ourselves, no user data; Google-managed encryption is enough.
  count = local.scenario_b ? 1 : 0

  repository_id = "tale"
  location      = var.region
  format        = "DOCKER"
  description   = "Tale container images (the GPU worker)."

  cleanup_policies {
    id     = "delete-untagged"
    action = "DELETE"
    condition {
      tag_state  = "UNTAGGED"
      older_than = "1209600s"
    }
  }

  depends_on = [google_project_service.this]
}

# The worker reads the tale's plan (Firestore; the story is sealed with KMS), publishes
# shot.rendered, and nothing more.
resource "google_project_iam_member" "gpu_worker_firestore" {
  count   = local.scenario_b ? 1 : 0
  project = var.project_id
  role    = "roles/datastore.user"
  member  = "serviceAccount:${google_service_account.gpu_worker[0].email}"
}

resource "google_kms_crypto_key_iam_member" "gpu_worker_story_key" {
  count         = local.scenario_b ? 1 : 0
  crypto_key_id = google_kms_crypto_key.story.id
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = "serviceAccount:${google_service_account.gpu_worker[0].email}"
}

resource "google_pubsub_topic_iam_member" "gpu_worker_publishes_rendered" {
  count  = local.scenario_b ? 1 : 0
  topic  = google_pubsub_topic.topic["shot.rendered"].name
  role   = "roles/pubsub.publisher"
  member = "serviceAccount:${google_service_account.gpu_worker[0].email}"
}

resource "google_storage_bucket_iam_member" "gpu_worker_weights" {
  count  = local.scenario_b ? 1 : 0
  bucket = var.gpu_weights_bucket
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.gpu_worker[0].email}"
}
