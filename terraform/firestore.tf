# Firestore (native mode): the pipeline's state — tales, shots, event logs, idempotency keys.

resource "google_firestore_database" "tale" {
  name        = var.firestore_database
  location_id = local.firestore_location
  type        = "FIRESTORE_NATIVE"

  concurrency_mode                  = "OPTIMISTIC"
  app_engine_integration_mode       = "DISABLED"
  point_in_time_recovery_enablement = "POINT_IN_TIME_RECOVERY_ENABLED"
  delete_protection_state           = var.deletion_protection ? "DELETE_PROTECTION_ENABLED" : "DELETE_PROTECTION_DISABLED"
  # `terraform destroy` leaves the database (and its data) alone.
  deletion_policy = "ABANDON"

  depends_on = [google_project_service.this]
}

# Composite indexes of TaleStore.list_tales (owner and/or states, newest first), on the
# collection FirestoreTaleStore keeps tales in (`<root>_tales`, root "tale").
locals {
  firestore_tales_collection = "tale_tales"

  tale_indexes = {
    by_owner = [
      { field_path = "owner", order = "ASCENDING" },
      { field_path = "created_at", order = "DESCENDING" },
    ]
    by_state = [
      { field_path = "state", order = "ASCENDING" },
      { field_path = "created_at", order = "DESCENDING" },
    ]
    by_owner_and_state = [
      { field_path = "owner", order = "ASCENDING" },
      { field_path = "state", order = "ASCENDING" },
      { field_path = "created_at", order = "DESCENDING" },
    ]
  }
}

resource "google_firestore_index" "tales" {
  for_each = local.tale_indexes

  database    = google_firestore_database.tale.name
  collection  = local.firestore_tales_collection
  query_scope = "COLLECTION"

  dynamic "fields" {
    for_each = each.value
    content {
      field_path = fields.value.field_path
      order      = fields.value.order
    }
  }
}
