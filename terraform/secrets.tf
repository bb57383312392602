# Secret Manager secrets. Only the containers are declared: values are added out of band
# (`gcloud secrets versions add …`, docs/deploy.md), never through Terraform variables or
# state. Each function reads the ones it needs as secret environment variables (functions.tf)
# and may access exactly those (iam.tf).

resource "google_secret_manager_secret" "secret" {
  for_each = local.secrets

  secret_id = each.value.secret_id

  labels = {
    setting = lower(replace(each.value.env, "_", "-"))
  }

  replication {
    auto {}
  }

  depends_on = [google_project_service.this]
}
