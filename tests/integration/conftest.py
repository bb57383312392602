"""Integration tests against a real PostgreSQL dressed as Supabase (see ``tests/pg.py``)."""

from __future__ import annotations

from tests.pg import pg_db, pg_server

__all__ = ["pg_db", "pg_server"]
