"""The daily summary: one ``tale.daily_summary`` record with the last 24 hours' figures.

Cloud Scheduler publishes ``{"summary": "daily"}`` to ``tale.sweep`` once a day
(``terraform/alerts.tf``); ``sweep_stuck`` sweeps as usual and then writes this record; the
info-level alert policy mails it to the operators (its label extractors put the figures in
the mail). Reading the tales is one query; nothing is written.
"""

from __future__ import annotations

import json
import logging

from shared.observability.events import emit
from shared.observability.stats import MAX_TALES, tale_figures
from shared.ports.store import TaleStore
from shared.pubsub_message import Envelope

WINDOW_S = 24 * 3600
_log = logging.getLogger("tale.summary")


def wants_summary(envelope: Envelope) -> bool:
    try:
        payload = json.loads(envelope.data or b"{}")
    except ValueError:
        return False
    return isinstance(payload, dict) and payload.get("summary") == "daily"


def log_daily_summary(store: TaleStore, now: float) -> None:
    since = now - WINDOW_S
    tales = [t for t in store.list_tales(limit=MAX_TALES) if t.updated_at >= since]
    figures = tale_figures(tales, since, now)
    emit(
        _log,
        "tale.daily_summary",
        f"last 24 h: {figures.started} started, {figures.completed} completed, "
        f"{figures.failed} failed, {figures.cancelled} cancelled, "
        f"{figures.active_users} active users",
        window_hours=24,
        started=figures.started,
        completed=figures.completed,
        failed=figures.failed,
        cancelled=figures.cancelled,
        active_users=figures.active_users,
        failure_rate=round(figures.failure_rate, 4),
    )
