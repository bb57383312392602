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

variable "web_dist" {
  description = "The web app's build to upload (npm --prefix web run build). Null: web/dist of this checkout."
  type        = string
  default     = null
}

variable "supabase_publishable_key" {
  description = "The Supabase project's anon (publishable) key, which the web app's sign-in uses (meant for browsers; never the service key). Give it with -var or TF_VAR_supabase_publishable_key; empty: the web app says sign-in is not configured."
  type        = string
  default     = ""
}

variable "api_url" {
  description = "Where mail clients reach the API (its custom domain, or the api function's URL after a first apply): the trend digest's one-click unsubscribe (TALE_TRENDS_API_URL). Empty: not set."
  type        = string
  default     = ""

  validation {
    condition     = var.api_url == "" || can(regex("^https://[^/?#]+(/[^?#]*)?$", var.api_url))
    error_message = "api_url must be an https URL (RFC 8058 one-click needs HTTPS), or empty."
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

variable "email_provider" {
  description = "How owners are emailed (TALE_EMAIL_PROVIDER): sendgrid (the tale-email-api-key secret is its API key), smtp (a relay; that secret is its password) or outbox (.eml files in the media bucket, nothing is sent)."
  type        = string
  default     = "sendgrid"

  validation {
    condition     = contains(["sendgrid", "smtp", "outbox"], var.email_provider)
    error_message = "email_provider must be sendgrid, smtp or outbox."
  }
}

variable "stripe_prices" {
  description = "The Stripe price id of each paid plan (TALE_STRIPE_PRICES), e.g. { pro = \"price_…\", business = \"price_…\" } (docs/deploy.md: Payments)."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for plan, price in var.stripe_prices : contains(["pro", "business"], plan) && startswith(price, "price_")])
    error_message = "stripe_prices maps pro and business to Stripe price ids (price_…)."
  }
}

variable "billing_url" {
  description = "The web app's billing page (TALE_BILLING_URL): where Checkout and the portal return, and what billing mail links to. Empty: the frontend origin + /billing."
  type        = string
  default     = ""
}

variable "billing_grace_days" {
  description = "Days a failed renewal keeps its plan while Stripe retries (TALE_BILLING_GRACE_DAYS); end Stripe's retry schedule with it."
  type        = number
  default     = 7
}

variable "email_from" {
  description = "The From address of every email (TALE_EMAIL_FROM), e.g. \"Tale <noreply@tale.example.com>\"; with SendGrid, a verified sender or an address of an authenticated domain."
  type        = string

  validation {
    condition     = can(regex("^[^@\\s<>]+@[^@\\s<>]+$|<[^@\\s<>]+@[^@\\s<>]+>$", var.email_from))
    error_message = "email_from must be an address, or a name and <address>."
  }
}

variable "smtp_host" {
  description = "The SMTP relay (TALE_SMTP_HOST) when email_provider is smtp."
  type        = string
  default     = ""
}

variable "smtp_port" {
  description = "The relay's port (TALE_SMTP_PORT): 587 for STARTTLS, 465 for implicit TLS."
  type        = number
  default     = 587
}

variable "smtp_security" {
  description = "TLS to the relay (TALE_SMTP_SECURITY): starttls or tls."
  type        = string
  default     = "starttls"

  validation {
    condition     = contains(["starttls", "tls"], var.smtp_security)
    error_message = "smtp_security must be starttls or tls: mail leaves the project encrypted."
  }
}

variable "smtp_username" {
  description = "The relay's login name (TALE_SMTP_USERNAME); empty: no login."
  type        = string
  default     = ""
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

variable "gpu_video_model" {
  description = "The self-hosted video model (scenario B): an id of shared/providers/selfhosted/video_models.py; it picks the GPU, vCPU and memory of the job (gpu_job.tf). The default renders 9:16 natively on an L4."
  type        = string
  default     = "wan2.1-t2v-1.3b"

  validation {
    condition     = contains(["wan2.1-t2v-1.3b", "wan2.1-t2v-14b", "cogvideox-5b", "cogvideox-5b-i2v"], var.gpu_video_model)
    error_message = "gpu_video_model must be a model of shared/providers/selfhosted/video_models.py."
  }
}

variable "gpu_tasks" {
  description = "Tasks per tale execution (scenario B): they run in parallel, one GPU each, each loading the weights once (TALE_GPU_TASKS)."
  type        = number
  default     = 4
}

variable "gpu_weights_path" {
  description = "Folder of the video model's diffusers weights inside gpu_weights_bucket (Wan2.1-T2V-1.3B-Diffusers by default)."
  type        = string
  default     = "Wan2.1-T2V-1.3B-Diffusers"
}

variable "gpu_voice_weights_path" {
  description = "Folder of the narrator's weights (Bark, laid out as suno/bark-small: config, generation config, tokenizer, speaker_embeddings/) inside gpu_weights_bucket (scenario B)."
  type        = string
  default     = "bark-small"
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

# --- operations: alerts, dashboards, backups (docs/operations.md) -------------------------

variable "alert_emails" {
  description = "Who is told when an alert fires (one email notification channel each)."
  type        = list(string)

  validation {
    condition     = length(var.alert_emails) > 0 && alltrue([for e in var.alert_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "alert_emails must list at least one email address."
  }
}

variable "alert_failure_rate" {
  description = "Critical alert: the share of finished tales that failed in an hour, above which operators are paged."
  type        = number
  default     = 0.2

  validation {
    condition     = var.alert_failure_rate > 0 && var.alert_failure_rate < 1
    error_message = "alert_failure_rate must be between 0 and 1."
  }
}

variable "alert_failure_min_tales" {
  description = "The failure-rate alert waits for at least this many finished tales in the hour (one failure out of one is not an incident)."
  type        = number
  default     = 5
}

variable "alert_erroring_minutes" {
  description = "Critical alert: a function whose pushes fail in every 15-minute window for this long."
  type        = number
  default     = 30
}

variable "alert_throttles_per_15m" {
  description = "Warning: provider throttling retries in 15 minutes above which operators are told."
  type        = number
  default     = 10
}

variable "stage_latency_budgets_ms" {
  description = "Warning: p95 latency budget per function in milliseconds, over the defaults in terraform/monitoring.tf."
  type        = map(number)
  default     = {}
}

variable "daily_summary_schedule" {
  description = "When the info-level daily summary is mailed (cron, in daily_summary_time_zone)."
  type        = string
  default     = "0 8 * * *"
}

variable "daily_summary_time_zone" {
  description = "Time zone of the daily summary's schedule."
  type        = string
  default     = "Etc/UTC"
}

variable "firestore_backup_retention_days" {
  description = "Days a daily Firestore backup is kept (managed backups; at most 7 for daily ones)."
  type        = number
  default     = 7

  validation {
    condition     = var.firestore_backup_retention_days >= 1 && var.firestore_backup_retention_days <= 7
    error_message = "firestore_backup_retention_days must be 1-7 (Firestore's limit for daily backups)."
  }
}

variable "firestore_weekly_backup_weeks" {
  description = "Weeks a weekly (Sunday) Firestore backup is kept (at most 14)."
  type        = number
  default     = 8

  validation {
    condition     = var.firestore_weekly_backup_weeks >= 1 && var.firestore_weekly_backup_weeks <= 14
    error_message = "firestore_weekly_backup_weeks must be 1-14 (Firestore's limit for weekly backups)."
  }
}

variable "firestore_export_schedule" {
  description = "When Firestore is exported to the backups bucket (cron, UTC)."
  type        = string
  default     = "30 3 * * *"
}

variable "backup_retention_days" {
  description = "Days an export is kept in the backups bucket before its lifecycle rule deletes it."
  type        = number
  default     = 30

  validation {
    condition     = var.backup_retention_days >= 7
    error_message = "backup_retention_days must be at least 7."
  }
}

variable "min_instances" {
  description = "Warm instances per function name (e.g. { api = 1 } in prod: no cold start for users); others scale to zero."
  type        = map(number)
  default     = {}
}

variable "planner_image" {
  description = "Container image of the self-hosted language model server (scenario B): vLLM's OpenAI-compatible server, e.g. an Artifact Registry copy of vllm/vllm-openai."
  type        = string
  default     = null
}

variable "planner_model" {
  description = "The planner's open model (scenario B), served under this name (TALE_PLANNER_MODEL)."
  type        = string
  default     = "Qwen/Qwen2.5-7B-Instruct"
}

variable "planner_weights_path" {
  description = "Folder of the planner model's weights inside gpu_weights_bucket (scenario B)."
  type        = string
  default     = "Qwen2.5-7B-Instruct"
}

variable "planner_min_instances" {
  description = "Planner server instances kept warm (scenario B): loading a 15 GB model takes minutes, longer than a plan may wait."
  type        = number
  default     = 1
}

variable "planner_connector_cidr" {
  description = "A /28 in the scenario B network for the Serverless VPC Access connector the planning functions reach the planner through."
  type        = string
  default     = "10.42.1.0/28"
}
