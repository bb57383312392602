"""The embedded local runtime: drives the stage functions from the durable SQLite bus."""
