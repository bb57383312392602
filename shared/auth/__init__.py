"""Authentication: Supabase access-token verification, local development tokens and
Standard Webhooks (Supabase auth hooks) signature checks.

- ``tokens``: ``TokenVerifier`` turns an ``Authorization: Bearer <jwt>`` header into an
  ``Identity`` or raises ``AuthError`` (with an HTTP status and a reason, never the token).
- ``jwks``: ``JwksSource`` fetches and caches the project's signing keys.
- ``local``: ``LocalSigner`` mints Supabase-shaped tokens for local development and verifies
  them through the production code path.
- ``webhooks``: ``WebhookVerifier`` / ``sign`` for Standard Webhooks, with a ``ReplayGuard``.
"""
