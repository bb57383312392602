"""Scenario B's GPU worker (a Cloud Run GPU job): see ``worker.tale_worker``."""
