# The web app: the same static build `tale serve` serves at / (web/dist, made by
# `npm --prefix web ci && npm --prefix web run build`; install.sh and Cloud Build's `web` step
# make it), uploaded to a bucket of its own and served on var.frontend_origin by an external
# HTTPS load balancer with Cloud CDN.
#
# - What differs from `tale serve` is /config.json, written here: Supabase sign-in (the
#   project's URL and its publishable anon key, which browsers are meant to hold) and the API's
#   origin — the api function, whose CORS allows var.frontend_origin (TALE_CORS_ORIGIN).
# - The content security policy is a response header of the CDN's backend bucket: scripts and
#   styles from the site only, connections to the API and Supabase, media from the signed
#   Cloud Storage URLs.
# - Routes are in the URL's hash (#/tales/ID), so no path needs rewriting to index.html; the
#   one path the app is entered at besides / is /billing (where Checkout and the billing
#   portal return), uploaded as a copy of index.html.
# - Hashed assets are cached for a year; index.html, billing and config.json are revalidated.

locals {
  web_bucket_name = "${var.project_id}-tale-web"
  web_host        = regex("^https?://([^/:]+)", var.frontend_origin)[0]
  web_dist        = coalesce(var.web_dist, "${path.module}/../web/dist")
  web_files       = fileset(local.web_dist, "**")
  web_api_origin  = var.api_url != "" ? regex("^https://[^/?#]+", var.api_url) : google_cloudfunctions2_function.fn["api"].service_config[0].uri
  web_supabase    = regex("^https://[^/?#]+", var.supabase_url)

  # Content types by extension (a bucket object's Content-Type is what browsers get).
  web_types = {
    html  = "text/html; charset=utf-8"
    js    = "text/javascript; charset=utf-8"
    css   = "text/css; charset=utf-8"
    svg   = "image/svg+xml"
    png   = "image/png"
    ico   = "image/x-icon"
    json  = "application/json"
    txt   = "text/plain; charset=utf-8"
    woff2 = "font/woff2"
    map   = "application/json"
  }

  web_config = jsonencode({
    auth              = "supabase"
    api               = local.web_api_origin
    supabase_url      = var.supabase_url
    supabase_anon_key = var.supabase_publishable_key
  })

  web_csp = join("; ", [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' blob: data: https://storage.googleapis.com",
    "media-src 'self' blob: https://storage.googleapis.com",
    "connect-src 'self' ${local.web_api_origin} ${local.web_supabase}",
    "font-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ])
}

resource "google_storage_bucket" "web" {
  #checkov:skip=CKV_GCP_62:Static files anyone may read; the load balancer's logs are the access log.
  #checkov:skip=CKV_GCP_114:The web app is public by design: its bucket is read by everyone (through the CDN); nothing else is stored in it.
  name     = local.web_bucket_name
  location = var.region

  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "inherited"
  force_destroy               = true # only build output: the next apply uploads it again

  versioning {
    enabled = true
  }

  website {
    main_page_suffix = "index.html"
  }

  # Replaced builds' files go after a week (a page open during a deploy still finds its assets).
  lifecycle_rule {
    condition {
      days_since_noncurrent_time = 7
      with_state                 = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.this]
}

resource "google_storage_bucket_iam_member" "web_public" {
  #checkov:skip=CKV_GCP_28:The web app's static files are public by design (HTML, JavaScript, CSS); no user data is in this bucket.
  bucket = google_storage_bucket.web.name
  role   = "roles/storage.objectViewer"
  member = "allUsers"
}

resource "google_storage_bucket_object" "web" {
  for_each = local.web_files

  bucket        = google_storage_bucket.web.name
  name          = each.value
  source        = "${local.web_dist}/${each.value}"
  content_type  = lookup(local.web_types, reverse(split(".", each.value))[0], "application/octet-stream")
  cache_control = startswith(each.value, "assets/") ? "public, max-age=31536000, immutable" : "no-cache"
}

# Checkout and the billing portal return to <frontend origin>/billing: the app, which shows the
# account page there.
resource "google_storage_bucket_object" "web_billing" {
  bucket        = google_storage_bucket.web.name
  name          = "billing"
  source        = "${local.web_dist}/index.html"
  content_type  = local.web_types.html
  cache_control = "no-cache"
}

resource "google_storage_bucket_object" "web_config" {
  bucket        = google_storage_bucket.web.name
  name          = "config.json"
  content       = local.web_config
  content_type  = local.web_types.json
  cache_control = "no-cache"

  lifecycle {
    precondition {
      condition     = fileexists("${local.web_dist}/index.html")
      error_message = "No web build in var.web_dist: run npm --prefix web ci && npm --prefix web run build first (install.sh does)."
    }
  }
}

# --- Cloud CDN behind an external HTTPS load balancer -----------------------------------------

resource "google_compute_backend_bucket" "web" {
  name        = "tale-web"
  bucket_name = google_storage_bucket.web.name
  enable_cdn  = true

  cdn_policy {
    cache_mode        = "USE_ORIGIN_HEADERS"
    negative_caching  = true
    serve_while_stale = 86400
  }

  custom_response_headers = [
    "Content-Security-Policy: ${local.web_csp}",
    "X-Content-Type-Options: nosniff",
    "Referrer-Policy: no-referrer",
    "X-Frame-Options: DENY",
    "Strict-Transport-Security: max-age=31536000; includeSubDomains",
  ]

  depends_on = [google_project_service.this]
}

resource "google_compute_url_map" "web" {
  name            = "tale-web"
  default_service = google_compute_backend_bucket.web.id
}

resource "google_compute_managed_ssl_certificate" "web" {
  name = "tale-web"

  managed {
    domains = [local.web_host]
  }
}

resource "google_compute_ssl_policy" "web" {
  name            = "tale-web"
  profile         = "MODERN"
  min_tls_version = "TLS_1_2"
}

resource "google_compute_target_https_proxy" "web" {
  name             = "tale-web"
  url_map          = google_compute_url_map.web.id
  ssl_certificates = [google_compute_managed_ssl_certificate.web.id]
  ssl_policy       = google_compute_ssl_policy.web.id
}

resource "google_compute_global_address" "web" {
  name = "tale-web"
}

resource "google_compute_global_forwarding_rule" "web" {
  name                  = "tale-web"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  target                = google_compute_target_https_proxy.web.id
  ip_address            = google_compute_global_address.web.id
  port_range            = "443"
}

# Plain HTTP only redirects to HTTPS.
resource "google_compute_url_map" "web_redirect" {
  name = "tale-web-redirect"

  default_url_redirect {
    https_redirect         = true
    redirect_response_code = "MOVED_PERMANENTLY_DEFAULT"
    strip_query            = false
  }
}

resource "google_compute_target_http_proxy" "web_redirect" {
  name    = "tale-web-redirect"
  url_map = google_compute_url_map.web_redirect.id
}

resource "google_compute_global_forwarding_rule" "web_redirect" {
  name                  = "tale-web-redirect"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  target                = google_compute_target_http_proxy.web_redirect.id
  ip_address            = google_compute_global_address.web.id
  port_range            = "80"
}
