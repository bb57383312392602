# What each function gets, derived from the registry mirror (locals.tf) and the variables only:
# no resource references here, so tests/infra can evaluate this file with `terraform console`.
#
# The clients a function `needs` (shared/registry.py) decide everything it is granted:
#   store    → roles/datastore.user, limited to our Firestore database
#   blobs    → roles/storage.objectAdmin on the media bucket only
#   bus      → roles/pubsub.publisher on the pipeline topics
#   keys     → roles/cloudkms.cryptoKeyEncrypterDecrypter on the story key
#   ledger, records → the Supabase service key (secret) and URL
#   verifier → the Supabase URL and JWT secret
#   planner, images, videos, voices, explainer → the model API key and roles/aiplatform.user
#              (the models on Vertex AI are called as the function's own identity), scenario A
#              only (scenario B's narration is voiced by the GPU worker)
#   notifier → the email API key (SendGrid's, or the SMTP relay's password) and the email
#              settings; its sent-markers are claims, so a function that needs it also needs
#              claims (tests/unit/test_email_senders.py checks the registry)
#   youtube  → the YouTube Data API key (the trend scout's collector)
#   payments → the Stripe API key and the plans' price ids (api: checkout and portal;
#              stripe_webhook: its events), and the billing settings
#   trends   → the trend store lives in the same Firestore database: a function that needs
#              it also needs store, which grants it (tests/trends checks the registry)

locals {
  scenario_a = var.scenario == "A"
  scenario_b = var.scenario == "B"

  media_bucket_name  = coalesce(var.media_bucket_name, "${var.project_id}-tale-media")
  source_bucket_name = "${var.project_id}-tale-source"
  firestore_location = coalesce(var.firestore_location, var.region)

  # Pub/Sub-triggered functions (served over HTTP, fed by push subscriptions) and HTTP ones.
  pubsub_functions = { for name, f in local.functions : name => f if f.trigger != "http" }
  http_functions   = { for name, f in local.functions : name => f if f.trigger == "http" }

  # Topics the functions publish to: all but the dead-letter topic, which only Pub/Sub feeds.
  # (The registry does not say which topics each function publishes, so a function that needs
  # the bus may publish to any pipeline topic; no project-wide role is granted.)
  pipeline_topics = [for t in local.topics : t if t != local.dead_letter_topic]

  # One service account per function: tale-<name with - for _>.
  service_account_ids = { for name, f in local.functions : name => "tale-${replace(name, "_", "-")}" }

  # Functions that call Google's models on Vertex AI (scenario A).
  model_users = local.scenario_a ? toset([
    for name, f in local.functions : name
    if length(setintersection(f.needs, ["planner", "images", "videos", "voices", "explainer"])) > 0
  ]) : toset([])

  # Functions that sign media URLs (IAM signBlob as themselves).
  url_signers = ["api", "notify_user"]

  # Secret Manager secrets: the secret id and the setting (environment variable) it fills.
  secrets = {
    model_api_key        = { secret_id = "tale-model-api-key", env = "TALE_MODEL_API_KEY" }
    email_api_key        = { secret_id = "tale-email-api-key", env = "TALE_EMAIL_API_KEY" }
    supabase_service_key = { secret_id = "tale-supabase-service-key", env = "TALE_SUPABASE_SERVICE_KEY" }
    supabase_jwt_secret  = { secret_id = "tale-supabase-jwt-secret", env = "TALE_SUPABASE_JWT_SECRET" }
    webhook_secret       = { secret_id = "tale-webhook-secret", env = "TALE_WEBHOOK_SECRET" }
    youtube_api_key      = { secret_id = "tale-youtube-api-key", env = "TALE_YOUTUBE_API_KEY" }
    # Signs the trend digest's unsubscribe tokens: analyze_trends makes them, the api checks them.
    trends_unsubscribe_secret = { secret_id = "tale-trends-unsubscribe-key", env = "TALE_TRENDS_UNSUBSCRIBE_SECRET" }
    stripe_secret_key         = { secret_id = "tale-stripe-secret-key", env = "TALE_STRIPE_SECRET_KEY" }
    # The signing secret of the Stripe webhook endpoint (whsec_…): stripe_webhook only.
    stripe_webhook_secret = { secret_id = "tale-stripe-webhook-secret", env = "TALE_STRIPE_WEBHOOK_SECRET" }
  }

  secrets_by_need = {
    ledger    = ["supabase_service_key"]
    records   = ["supabase_service_key"]
    verifier  = ["supabase_jwt_secret"]
    notifier  = ["email_api_key"]
    planner   = local.scenario_a ? ["model_api_key"] : []
    images    = local.scenario_a ? ["model_api_key"] : []
    videos    = local.scenario_a ? ["model_api_key"] : []
    voices    = local.scenario_a ? ["model_api_key"] : []
    explainer = local.scenario_a ? ["model_api_key"] : []
    youtube   = ["youtube_api_key"]
    payments  = ["stripe_secret_key"]
  }

  # Secrets a function needs for what it is rather than for a client: the signup webhook
  # verifies Standard Webhooks signatures.
  secrets_by_function = {
    auth_webhook   = ["webhook_secret"]
    analyze_trends = ["trends_unsubscribe_secret"]
    api            = ["trends_unsubscribe_secret"]
    stripe_webhook = ["stripe_webhook_secret"] # it verifies Stripe's signatures
  }

  function_secrets = {
    for name, f in local.functions : name => sort(distinct(concat(
      flatten([for need in f.needs : lookup(local.secrets_by_need, need, [])]),
      lookup(local.secrets_by_function, name, []),
    )))
  }

  # Plain settings (TALE_*, see shared/config.py). TALE_GCP_PROJECT selects the GCP adapters,
  # which all check that the media bucket and the KMS key are configured, so every function
  # gets the GCP settings (names are not permissions: the grants above follow `needs`).
  # Resource-derived settings (the KMS key, the GPU job) are added in functions.tf.
  function_env = {
    for name, f in local.functions : name => merge(
      {
        TALE_GCP_PROJECT        = var.project_id
        TALE_MEDIA_BUCKET       = local.media_bucket_name
        TALE_FIRESTORE_DATABASE = var.firestore_database
        TALE_SCENARIO           = var.scenario
        TALE_HOME               = "/tmp/tale" # the only writable path in a function
        LOG_EXECUTION_ID        = "true"
      },
      length(setintersection(f.needs, ["ledger", "records", "verifier"])) > 0 ? { TALE_SUPABASE_URL = var.supabase_url } : {},
      name == "api" ? { TALE_CORS_ORIGIN = var.frontend_origin } : {},
      # The trend digest links to the frontend and unsubscribes through the API (one-click).
      name == "analyze_trends" ? { TALE_CORS_ORIGIN = var.frontend_origin } : {},
      name == "analyze_trends" && var.api_url != "" ? { TALE_TRENDS_API_URL = var.api_url } : {},
      # What the video model renders is checked at submission (api) and by the worker.
      local.scenario_b ? { TALE_GPU_PIPELINE = var.gpu_video_model } : {},
      contains(f.needs, "notifier") ? local.email_env : {},
      contains(f.needs, "payments") ? local.billing_env : {},
    )
  }

  # What the functions that need payments know of the plans (shared/config.py).
  billing_env = merge(
    {
      TALE_STRIPE_PRICES      = jsonencode(var.stripe_prices)
      TALE_BILLING_GRACE_DAYS = tostring(var.billing_grace_days)
      TALE_CORS_ORIGIN        = var.frontend_origin
    },
    var.billing_url != "" ? { TALE_BILLING_URL = var.billing_url } : {},
  )

  # How the functions that need the notifier send email (shared/config.py).
  email_env = merge(
    { TALE_EMAIL_PROVIDER = var.email_provider, TALE_EMAIL_FROM = var.email_from },
    var.email_provider == "smtp" ? {
      TALE_SMTP_HOST     = var.smtp_host
      TALE_SMTP_PORT     = tostring(var.smtp_port)
      TALE_SMTP_SECURITY = var.smtp_security
      TALE_SMTP_USERNAME = var.smtp_username
    } : {},
  )

  # Flattened pairs for the per-resource IAM grants.
  function_secret_grants = merge([
    for name, keys in local.function_secrets : { for k in keys : "${name}/${k}" => { function = name, secret = k } }
  ]...)

  publisher_grants = merge([
    for name, f in local.functions : {
      for t in local.pipeline_topics : "${name}/${t}" => { function = name, topic = t }
    } if contains(f.needs, "bus")
  ]...)

  store_users    = toset([for name, f in local.functions : name if contains(f.needs, "store")])
  blob_users     = toset([for name, f in local.functions : name if contains(f.needs, "blobs")])
  key_users      = toset([for name, f in local.functions : name if contains(f.needs, "keys")])
  url_signer_set = toset([for name in local.url_signers : name if contains(local.functions[name].needs, "blobs")])
}
