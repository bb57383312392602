"""Observability: structured logs, the metrics derived from them, and the local figures.

- ``context``: what the invocation in progress is about (tale, function, stage, shot,
  attempt) — every log line inside a handler carries it;
- ``events``: the stable event names and fields of the structured records, the failure
  reason classes and the helpers that emit records (``emit``);
- ``logs``: the Cloud Logging JSON formatter, the console formatter, the redaction guard and
  ``setup_logging``;
- ``usage``: one ``provider.call`` record per provider usage record;
- ``stats``: the same figures as the log-based metrics (``terraform/monitoring.tf``),
  computed from the local stores for a time window (``tale stats``).

On GCP the records are the metrics: ``terraform/monitoring.tf`` turns them into log-based
metrics, ``alerts.tf`` and ``dashboard.tf`` use those. ``docs/operations.md`` is the guide.
"""
