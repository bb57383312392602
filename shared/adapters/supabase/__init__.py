"""Supabase adapters: accounts and credits in the project's PostgreSQL, reached through its
REST API (PostgREST) with the service-role key. The schema is ``supabase/migrations/``."""
