"""GCP adapters: the ports on Google Cloud services.

- ``firestore_store``: the tale store on Cloud Firestore (``FirestoreTaleStore``).
- ``gcs_blobs``: the blob store on Cloud Storage.
- ``kms_keys``: the key-encryption key on Cloud KMS.

Imported only when GCP is configured; importing this package itself loads no Google library.
"""
