# Every Cloud Function (2nd gen), one per entry in the registry mirror (locals.tf): the entry
# point is the registry name, the code is the source archive, and each runs as its own
# least-privilege service account.
#
# All of them are HTTP-served: the Pub/Sub-triggered ones receive authenticated pushes from
# their subscriptions (pubsub.tf explains why there is no Eventarc trigger), so they only
# accept internal traffic; `api`, `auth_webhook` and `stripe_webhook` are public (iam.tf says why).

resource "google_cloudfunctions2_function" "fn" {
  for_each = local.functions

  name        = each.key
  location    = var.region
  description = each.value.trigger == "http" ? "Tale ${each.key} (HTTP)" : "Tale ${each.key} (Pub/Sub ${each.value.trigger}, push)"

  build_config {
    runtime         = "python311"
    entry_point     = each.key
    service_account = google_service_account.build.id

    source {
      storage_source {
        bucket = coalesce(var.source_bucket, google_storage_bucket.source.name)
        object = var.source_object
      }
    }
  }

  service_config {
    service_account_email            = google_service_account.fn[each.key].email
    available_memory                 = each.value.memory
    timeout_seconds                  = each.value.timeout_s
    max_instance_request_concurrency = each.value.concurrency
    # Cloud Functions allows more than one concurrent request only with at least one vCPU.
    available_cpu      = each.value.concurrency > 1 ? "1" : null
    max_instance_count = var.max_instances
    min_instance_count = lookup(var.min_instances, each.key, 0)
    ingress_settings   = each.value.trigger == "http" ? "ALLOW_ALL" : "ALLOW_INTERNAL_ONLY"

    # Scenario B: planning functions reach the internal-only planner server (planner.tf).
    vpc_connector                 = local.scenario_b && contains(local.planner_clients, each.key) ? google_vpc_access_connector.planner[0].id : null
    vpc_connector_egress_settings = local.scenario_b && contains(local.planner_clients, each.key) ? "PRIVATE_RANGES_ONLY" : null

    all_traffic_on_latest_revision = true

    environment_variables = merge(
      local.function_env[each.key],
      {
        TALE_KMS_KEY = google_kms_crypto_key.story.id
        # shipped in the source archive by package_source.py --font (no system CJK font): Hangul,
        # kana and Han; the bold one beside it
        TALE_FONT = "/workspace/fonts/NotoSansCJK-Regular.ttc"
      },
      local.scenario_b && each.key == "render_shot" ? { TALE_GPU_JOB = google_cloud_run_v2_job.gpu_worker[0].id, TALE_GPU_TASKS = tostring(var.gpu_tasks) } : {},
      # Scenario B: where the planning functions find the planner server (planner.tf).
      local.scenario_b && contains(local.planner_clients, each.key) ? { TALE_PLANNER_URL = google_cloud_run_v2_service.planner[0].uri, TALE_PLANNER_MODEL = var.planner_model } : {},
      local.scenario_b && contains(local.planner_clients, each.key) ? { TALE_EGRESS_ALLOW = jsonencode([trimprefix(google_cloud_run_v2_service.planner[0].uri, "https://")]) } : {},
    )

    dynamic "secret_environment_variables" {
      for_each = local.function_secrets[each.key]
      content {
        key        = local.secrets[secret_environment_variables.value].env
        project_id = var.project_id
        secret     = google_secret_manager_secret.secret[secret_environment_variables.value].secret_id
        version    = "latest"
      }
    }
  }

  labels = {
    function = replace(each.key, "_", "-")
  }

  depends_on = [
    google_project_service.this,
    google_secret_manager_secret_iam_member.function,
    google_project_iam_member.build,
    google_project_iam_member.build_gcf_buckets,
    google_storage_bucket_iam_member.build_source_reader,
  ]
}
