# Terraform and provider pins, and the state backend.
#
# The state lives in a GCS bucket created once, out of band (see docs/deploy.md); its name is
# given at init time so that one configuration serves every environment:
#
#   terraform init -backend-config=bucket=<state bucket> -backend-config=prefix=tale/<env>

terraform {
  required_version = ">= 1.6, < 2.0"

  required_providers {
    google = {
      source = "hashicorp/google"
      # 6.47 adds `gpu_zonal_redundancy_disabled` to google_cloud_run_v2_job (GPU jobs).
      version = "~> 6.47"
    }
  }

  backend "gcs" {
    prefix = "tale"
  }
}

provider "google" {
  project = var.project_id
  region  = var.region

  default_labels = {
    app         = "tale"
    environment = var.environment
    managed-by  = "terraform"
  }
}

data "google_project" "this" {
  project_id = var.project_id
}
