# Cloud KMS: the key-encryption key that wraps each story's data key (envelope encryption —
# shared/crypto), so Firestore never holds a story in the clear. Functions that need "keys"
# may encrypt and decrypt with it (iam.tf); nobody can export it.

resource "google_kms_key_ring" "tale" {
  name     = "tale-${var.environment}"
  location = var.region

  depends_on = [google_project_service.this]
}

resource "google_kms_crypto_key" "story" {
  name     = "story"
  key_ring = google_kms_key_ring.tale.id
  purpose  = "ENCRYPT_DECRYPT"

  # New versions every 90 days; older versions still decrypt what they wrapped.
  rotation_period = "7776000s"

  version_template {
    algorithm        = "GOOGLE_SYMMETRIC_ENCRYPTION"
    protection_level = "SOFTWARE"
  }

  lifecycle {
    # Destroying the key would make every sealed story unreadable.
    prevent_destroy = true
  }
}
