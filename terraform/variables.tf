# Inputs. Secrets are never variables: their values are added to Secret Manager out of band
# (docs/deploy.md), and the functions read them as secret environment variables.

variable "project_id" {
  description = "The Google Cloud project to deploy into."
  type        = string
}

variable "environment" {
  description = "Environment name (dev, prod): labels and resource names."
  type        = string
  default     = "dev"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,14}$", var.environment))
    error_message = "environment must be 2-15 lowercase letters, digits or hyphens."
  }
}

variable "region" {
  description = <<-EOT
    Region of the functions, buckets, Pub/Sub push targets, KMS key and (scenario B) the GPU
    job. It must offer NVIDIA L4 GPUs for Cloud Run jobs when scenario = "B"
    (us-central1, europe-west1, europe-west4, asia-southeast1, … — check the current list).
  EOT
  type        = string
  default     = "us-central1"
}

variable "scenario" {
  description = <<-EOT
    "A": the models are hosted APIs (the planner, image and video clients get the model API
    key). "B": video is rendered by our own GPU worker, a Cloud Run job on an NVIDIA L4.
  EOT
  type        = string
  default     = "A"

  validation {
    condition     = contains(["A", "B"], var.scenario)
    error_message = "scenario must be \"A\" or \"B\"."
  }
}

variable "source_bucket" {
  description = "Bucket of the functions' source archive; null: the source bucket declared here."
  type        = string
  default     = null
}

variable "source_object" {
  description = <<-EOT
    Object name of the functions' source archive (a zip of main.py, functions/, shared/,
    schemas/ and requirements.txt; terraform/scripts/package_source.py builds it). A new object
    name redeploys every function.
  EOT
  type        = string

  validation {
    condition     = endswith(var.source_object, ".zip")
    error_message = "source_object must name a .zip archive."
  }
}

variable "media_bucket_name" {
  description = "Name of the media bucket (globally unique); null: <project_id>-tale-media."
  type        = string
  default     = null
}

variable "firestore_database" {
  description = "Firestore database id (TALE_FIRESTORE_DATABASE)."
  type        = string
  default     = "tale"
}

variable "firestore_location" {
  description = "Firestore location (a region or a multi-region such as nam5); null: var.region."
  type        = string
  default     = null
}

variable "frontend_origin" {
  description = "The web frontend's origin, allowed by the API's CORS policy (TALE_CORS_ORIGIN)."
  type        = string

  validation {
    condition     = can(regex("^https?://[^/]+$", var.frontend_origin))
    error_message = "frontend_origin must be an origin such as https://app.example.com (no path)."
  }
}

variable "supabase_url" {
  description = "Supabase project URL (TALE_SUPABASE_URL); its keys are secrets, not variables."
  type        = string

  validation {
    condition     = startswith(var.supabase_url, "https://")
    error_message = "supabase_url must be an https URL."
  }
}

variable "max_instances" {
  description = "Upper bound of instances per function (a cost and quota guard)."
  type        = number
  default     = 20
}

variable "gpu_job_image" {
  description = "Container image of the GPU worker (scenario B), e.g. <region>-docker.pkg.dev/<project>/tale/worker:<tag>."
  type        = string
  default     = null
}

variable "gpu_weights_bucket" {
  description = "Bucket holding the open model weights (scenario B), mounted read-only into the GPU job."
  type        = string
  default     = null
}

variable "gpu_weights_path" {
  description = "Folder of the video model's diffusers weights inside gpu_weights_bucket (CogVideoX-5B by default)."
  type        = string
  default     = "cogvideox-5b"
}

variable "gpu_job_timeout" {
  description = "Maximum run time of one GPU task attempt (scenario B), a duration such as \"3600s\"."
  type        = string
  default     = "3600s"
}

variable "gpu_job_max_retries" {
  description = "Retries of a failed GPU task before its execution fails (scenario B)."
  type        = number
  default     = 1
}

variable "gpu_subnet_cidr" {
  description = "Range of the subnet the GPU job egresses through (Direct VPC egress needs a /26 or larger)."
  type        = string
  default     = "10.42.0.0/24"
}

variable "schedules" {
  description = <<-EOT
    Extra Cloud Scheduler jobs that publish to a pipeline topic, by name. The functions that
    declare a `schedule` in shared/registry.py (the stuck-work sweep) get their jobs without
    an entry here; an entry with the same name replaces that job's settings.
  EOT
  type = map(object({
    schedule  = string
    topic     = string
    data      = optional(string, "{}")
    time_zone = optional(string, "Etc/UTC")
  }))
  default = {}
}

variable "operators" {
  description = "IAM members (`group:ops@example.com`) who may read and replay dead letters."
  type        = list(string)
  default     = []
}

variable "deletion_protection" {
  description = "Protect the Firestore database and the GPU job from `terraform destroy`."
  type        = bool
  default     = true
}
