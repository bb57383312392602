"""The embedded default: SQLite and filesystem adapters that need no network or credentials."""
