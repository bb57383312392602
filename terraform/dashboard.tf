# The operators' dashboard: the pipeline funnel, stage latencies, failures by reason,
# provider usage and spend — all from the log-based metrics of monitoring.tf. The layout is
# plain Cloud Monitoring dashboard JSON in dashboards/tale.json (edit it in the console,
# export it with `gcloud monitoring dashboards describe`, and paste it back); the title
# names the environment. tests/infra/test_observability.py checks that every metric and
# label it uses exists.

resource "google_monitoring_dashboard" "tale" {
  dashboard_json = jsonencode(merge(
    jsondecode(file("${path.module}/dashboards/tale.json")),
    { displayName = "Tale (${var.environment})" },
  ))

  depends_on = [google_project_service.this, google_logging_metric.tale]
}

output "dashboard_url" {
  description = "The operators' dashboard in the Cloud console."
  value       = "https://console.cloud.google.com/monitoring/dashboards/custom/${basename(google_monitoring_dashboard.tale.id)}?project=${var.project_id}"
}
