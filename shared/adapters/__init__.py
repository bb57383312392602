"""Adapters: implementations of the ports (local embedded default, later GCP and Supabase)."""
