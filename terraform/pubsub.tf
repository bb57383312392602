# The event bus: one topic per event type plus the dead-letter topic, and one push
# subscription per Pub/Sub-triggered function.
#
# Why push subscriptions rather than Eventarc triggers: the subscription that an Eventarc
# trigger creates for a 2nd-gen function is managed by Eventarc, and a dead-letter policy
# cannot be attached to it from Terraform (a known provider/product limitation). So the
# Pub/Sub-triggered functions are deployed as HTTP-served functions, and Terraform owns their
# subscriptions: OIDC-authenticated push to
#   <function uri>/projects/<project>/topics/<topic>
# which functions-framework turns into the same `messagePublished` CloudEvent that Eventarc
# sends (it takes the topic from that path), with our retry and dead-letter policies.

resource "google_pubsub_topic" "topic" {
  #checkov:skip=CKV_GCP_83:Messages carry ids and logical keys only (stories are sealed in Firestore); Google-managed encryption is enough.
  for_each = toset(local.topics)

  name = each.value

  # Keep a week of messages so a broken subscription can be fixed and sought back.
  message_retention_duration = "604800s"

  depends_on = [google_project_service.this]
}

# Pushes every Pub/Sub message to its function, authenticated with an OIDC token of this
# account (which may invoke exactly those functions and nothing else).
resource "google_service_account" "push_invoker" {
  account_id   = "tale-push-invoker"
  display_name = "Tale: Pub/Sub push to the pipeline functions"

  depends_on = [google_project_service.this]
}

resource "google_pubsub_subscription" "push" {
  for_each = local.pubsub_functions

  name  = each.key
  topic = google_pubsub_topic.topic[each.value.trigger].id

  # For push, the time Pub/Sub waits for the function's response before retrying.
  ack_deadline_seconds       = min(600, each.value.timeout_s + 60)
  message_retention_duration = "604800s"

  push_config {
    push_endpoint = "${google_cloudfunctions2_function.fn[each.key].service_config[0].uri}/projects/${var.project_id}/topics/${each.value.trigger}"

    oidc_token {
      service_account_email = google_service_account.push_invoker.email
      audience              = google_cloudfunctions2_function.fn[each.key].service_config[0].uri
    }
  }

  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }

  # The dead-letter topic's own subscription (handle_dead_letter) has no dead-letter policy:
  # it is the end of the line, retried with backoff until its retention runs out.
  dynamic "dead_letter_policy" {
    for_each = each.value.trigger == local.dead_letter_topic ? [] : [each.value.max_delivery_attempts]
    content {
      dead_letter_topic     = google_pubsub_topic.topic[local.dead_letter_topic].id
      max_delivery_attempts = dead_letter_policy.value
    }
  }

  # Never expire for lack of traffic (the default is 31 days).
  expiration_policy {
    ttl = ""
  }

  depends_on = [
    google_cloud_run_v2_service_iam_member.push_invoker,
    google_pubsub_topic_iam_member.dead_letter_publisher,
  ]
}

# Dead-lettering is done by the Pub/Sub service agent: it must publish to the dead-letter topic
# and acknowledge (subscribe to) the source subscriptions.
locals {
  pubsub_service_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}

resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  topic  = google_pubsub_topic.topic[local.dead_letter_topic].name
  role   = "roles/pubsub.publisher"
  member = local.pubsub_service_agent
}

resource "google_pubsub_subscription_iam_member" "dead_letter_subscriber" {
  for_each = { for name, f in local.pubsub_functions : name => f if f.trigger != local.dead_letter_topic }

  subscription = google_pubsub_subscription.push[each.key].name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_service_agent
}

# The service agent mints the push OIDC tokens as the invoker account (needed in projects
# created before April 2021, harmless after).
resource "google_service_account_iam_member" "push_token_creator" {
  service_account_id = google_service_account.push_invoker.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_service_agent
}

# The operators' copy of every dead letter (`tale dead-letters`, `tale replay` with
# TALE_GCP_PROJECT set). No push endpoint and nothing else reads it, so a letter stays for a
# week or until it is replayed; `handle_dead_letter` meanwhile fails the tale through its own
# push subscription. Operators need roles/pubsub.subscriber on it and roles/pubsub.publisher
# on the topics (granted to var.operators).
resource "google_pubsub_subscription" "dead_letter_hold" {
  name  = "dead-letter-hold"
  topic = google_pubsub_topic.topic[local.dead_letter_topic].id

  ack_deadline_seconds       = 60
  message_retention_duration = "604800s"
  retain_acked_messages      = false

  expiration_policy {
    ttl = "" # never expires, however long it goes unread
  }
}

resource "google_pubsub_subscription_iam_member" "operator_dead_letters" {
  for_each = toset(var.operators)

  subscription = google_pubsub_subscription.dead_letter_hold.name
  role         = "roles/pubsub.subscriber"
  member       = each.value
}

resource "google_pubsub_topic_iam_member" "operator_replay" {
  for_each = { for pair in setproduct(var.operators, local.topics) : "${pair[0]} ${pair[1]}" => pair }

  topic  = google_pubsub_topic.topic[each.value[1]].name
  role   = "roles/pubsub.publisher"
  member = each.value[0]
}
