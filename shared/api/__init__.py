"""The HTTP API for the web frontend (``/v1``) and the Supabase auth webhook."""
