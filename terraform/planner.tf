# Scenario B's language model: vLLM's OpenAI-compatible server on a Cloud Run GPU service, inside
# the scenario B network (shared/providers/selfhosted/planner.py calls it).
#
# Why a Cloud Run service and not a Vertex AI private endpoint: the worker's network, its
# private DNS and the weights bucket mount are reused as they are; it scales to what a plan
# needs (one L4 decodes ~15-20 tokens/s for a 7B model: settings planner_tokens_per_s); and the
# image is vLLM itself, so the request the tests check (json_schema structured output,
# streamed chunks) is the request the server gets. A Vertex endpoint would add a model
# upload and a Private Service Connect forwarding rule for the same container.
#
# Ingress is internal only: requests must come through a VPC network of this project. The
# functions that plan or explain (registry needs "planner" or "explainer") reach it through a
# Serverless VPC Access connector in the scenario B network (private ranges only, so their
# other calls, such as Supabase, keep their usual route); run.app resolves to Private Google
# Access addresses in that network (gpu_job.tf), so their calls enter the VPC and count as
# internal. The server's own egress is the network's (no internet: nothing leaves).
#
# Nothing here exists in scenario A (count = 0).

locals {
  planner_clients = toset([
    for name, f in local.functions : name
    if length(setintersection(f.needs, ["planner", "explainer"])) > 0
  ])
}

resource "google_service_account" "planner" {
  count = local.scenario_b ? 1 : 0

  account_id   = "tale-planner-server"
  display_name = "Tale: self-hosted language model server (scenario B)"

  depends_on = [google_project_service.this]
}

resource "google_cloud_run_v2_service" "planner" {
  count = local.scenario_b ? 1 : 0

  name                = "tale-planner"
  location            = var.region
  deletion_protection = var.deletion_protection
  ingress             = "INGRESS_TRAFFIC_INTERNAL_ONLY"
  # Only this project's VPC networks reach it (ingress); inside them only our workloads run.
  invoker_iam_disabled = true

  template {
    service_account                  = google_service_account.planner[0].email
    max_instance_request_concurrency = 8
    timeout                          = "600s"

    scaling {
      min_instance_count = var.planner_min_instances
      max_instance_count = 2
    }

    containers {
      image = var.planner_image
      args = [
        "--model", "/weights/${var.planner_weights_path}",
        "--served-model-name", var.planner_model,
        "--port", "8080",
        "--max-model-len", "16384",
        "--gpu-memory-utilization", "0.90",
      ]

      ports {
        container_port = 8080
      }

      resources {
        limits = {
          "nvidia.com/gpu" = "1"
          cpu              = "8"
          memory           = "32Gi"
        }
        startup_cpu_boost = true
      }

      env {
        name  = "HF_HUB_OFFLINE"
        value = "1"
      }

      volume_mounts {
        name       = "weights"
        mount_path = "/weights"
      }

      startup_probe {
        initial_delay_seconds = 60
        period_seconds        = 10
        failure_threshold     = 60
        http_get {
          path = "/health"
        }
      }
    }

    volumes {
      name = "weights"
      gcs {
        bucket    = var.gpu_weights_bucket
        read_only = true
      }
    }

    node_selector {
      accelerator = "nvidia-l4"
    }
    gpu_zonal_redundancy_disabled = true

    vpc_access {
      egress = "ALL_TRAFFIC"
      network_interfaces {
        network    = google_compute_network.gpu[0].id
        subnetwork = google_compute_subnetwork.gpu[0].id
      }
    }
  }

  lifecycle {
    precondition {
      condition     = var.planner_image != null
      error_message = "scenario \"B\" needs planner_image (vLLM's OpenAI-compatible server)."
    }
  }

  depends_on = [google_project_service.this]
}

resource "google_storage_bucket_iam_member" "planner_weights" {
  count  = local.scenario_b ? 1 : 0
  bucket = var.gpu_weights_bucket
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.planner[0].email}"
}

resource "google_vpc_access_connector" "planner" {
  count = local.scenario_b ? 1 : 0

  name          = "tale-planner"
  region        = var.region
  network       = google_compute_network.gpu[0].name
  ip_cidr_range = var.planner_connector_cidr
  machine_type  = "e2-micro"
  min_instances = 2
  max_instances = 3

  depends_on = [google_project_service.this]
}
