# Example settings for production. No secrets here: their values live in Secret Manager
# (docs/deploy.md). source_object is passed by Cloud Build (-var=source_object=…).

project_id      = "tale-prod-123456"
environment     = "prod"
region          = "us-central1"
scenario        = "B"
frontend_origin = "https://tale.example.com"
supabase_url    = "https://qrstuvwxyzabcdef.supabase.co"

# Scenario B: the GPU worker image, built by Cloud Build from worker/ (_BUILD_GPU_IMAGE=true).
gpu_job_image       = "us-central1-docker.pkg.dev/tale-prod-123456/tale/worker:latest"
gpu_job_timeout     = "3600s"
gpu_job_max_retries = 1

max_instances       = 50
deletion_protection = true

schedules = {}
