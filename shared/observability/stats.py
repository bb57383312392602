"""The figures of the log-based metrics, computed from the stores for a time window.

``tale stats`` prints them for the embedded default (and, with ``TALE_GCP_PROJECT``, for a
deployment, reading Firestore and Supabase). Each figure has the same definition as the
metric in ``terraform/monitoring.tf`` that the dashboard shows:

- per function — invocations about a tale and their latency (p50 / p95 / max): the
  per-invocation usage records (provider ``gcp``, ``shared.entrypoints``), whose
  ``gib_seconds`` divided by the function's memory is the invocation's wall time
  (``tale_stage_invocations``, ``tale_stage_latency``);
- retries by stage and reason class — the tale event log's ``attempt failed: …`` lines,
  written where ``stage.retry`` is logged (``tale_stage_errors`` with outcome ``retry``);
- failed tales by failing stage and reason class (``tale_failures``);
- per provider — calls, seconds of video, images and tokens from the provider usage records
  (``tale_provider_calls``, ``tale_provider_video_seconds``), throttled retries and other
  errors at the stages that call it (``tale_provider_throttled``, ``tale_stage_errors``);
- business — tales started (created in the window), completed, failed and cancelled
  (finished in the window), active users (owners of the tales started), credits reserved,
  spent (reservations of tales settled in the window) and refunded (the ledger).

Differences, on purpose: a log-based metric counts events as they happen (a tale that fails
and is retried to completion is one failure *and* one completion; a redelivered provider call
is logged twice), the stores keep the latest state and one record per logical key.
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from shared.domain.tale import TaleRecord, TaleState
from shared.metering import memory_gib
from shared.observability.events import provider_for, reason_of
from shared.ports.ledger import Ledger
from shared.ports.store import TaleStore
from shared.ports.usage import UsageRecorder
from shared.registry import BY_NAME, FUNCTIONS

PLATFORM = "gcp"
RETRY_PREFIX = "attempt failed: "
MAX_TALES = 100_000
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}


def parse_since(text: str, now: float) -> float:
    """``30m``, ``24h``, ``7d``, ``2w`` ago, or an ISO date / date-time (UTC unless it says)."""
    match = _DURATION.match(text.strip())
    if match:
        return now - float(match.group(1)) * _UNIT_S[match.group(2)]
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"--since {text!r}: use a duration such as 30m, 24h or 7d, or a date (2025-01-31)"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


@dataclass
class StageFigures:
    stage: str
    invocations: int = 0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    max_ms: float = 0.0


@dataclass
class ProviderFigures:
    calls: int = 0
    video_seconds: float = 0.0
    images: float = 0.0
    input_tokens: float = 0.0
    output_tokens: float = 0.0
    throttled: int = 0
    errors: int = 0


@dataclass
class TaleFigures:
    """What the tale records alone say (also the daily summary's figures)."""

    started: int = 0
    completed: int = 0
    failed: int = 0
    cancelled: int = 0
    active_users: int = 0
    failures: dict[str, dict[str, int]] = field(default_factory=dict)
    """Failing stage → reason class → failed tales."""

    @property
    def failure_rate(self) -> float:
        finished = self.completed + self.failed
        return self.failed / finished if finished else 0.0


@dataclass
class Stats:
    since: float
    until: float
    tales: TaleFigures
    credits_reserved: int = 0
    credits_spent: int = 0
    credits_refunded: int = 0
    stages: dict[str, StageFigures] = field(default_factory=dict)
    """Function → its invocations about a tale."""
    retries: dict[str, dict[str, int]] = field(default_factory=dict)
    """Stage → reason class → retried invocations."""
    providers: dict[str, ProviderFigures] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["tales"]["failure_rate"] = round(self.tales.failure_rate, 4)
        return out


def _within(at: float, since: float, until: float) -> bool:
    return since <= at <= until


def tale_figures(tales: Iterable[TaleRecord], since: float, until: float) -> TaleFigures:
    figures = TaleFigures()
    users: set[str] = set()
    failures: dict[str, Counter[str]] = defaultdict(Counter)
    for tale in tales:
        if _within(tale.created_at, since, until):
            figures.started += 1
            users.add(tale.owner)
        if not _within(tale.updated_at, since, until):
            continue
        if tale.state is TaleState.COMPLETED:
            figures.completed += 1
        elif tale.state is TaleState.CANCELLED:
            figures.cancelled += 1
        elif tale.state is TaleState.FAILED:
            figures.failed += 1
            failures[tale.error_stage or "unknown"][reason_of(tale.error_reason)] += 1
    figures.active_users = len(users)
    figures.failures = {stage: dict(c) for stage, c in sorted(failures.items())}
    return figures


def _provider_stages(scenario: str) -> dict[str, str]:
    """Stage → the provider its functions call."""
    out: dict[str, str] = {}
    for spec in FUNCTIONS:
        provider = provider_for(spec.needs, scenario)
        if provider is not None:
            out.setdefault(spec.stage, provider)
    return out


def collect(
    store: TaleStore,
    usage: UsageRecorder,
    ledger: Ledger,
    *,
    since: float,
    until: float | None = None,
    scenario: str = "offline",
) -> Stats:
    """The figures of every tale active in ``[since, until]``."""
    until = time.time() if until is None else until
    tales = [t for t in store.list_tales(limit=MAX_TALES) if t.updated_at >= since]
    stats = Stats(since, until, tale_figures(tales, since, until))
    durations: dict[str, list[float]] = defaultdict(list)
    retries: dict[str, Counter[str]] = defaultdict(Counter)
    providers: dict[str, ProviderFigures] = defaultdict(ProviderFigures)
    by_stage = _provider_stages(scenario)
    for tale in tales:
        for record in usage.for_tale(tale.tale_id):
            if not _within(record.at, since, until):
                continue
            if record.provider == PLATFORM:
                spec = BY_NAME.get(record.model)
                if spec is not None and record.units.get("gib_seconds"):
                    seconds = record.units["gib_seconds"] / memory_gib(spec.memory)
                    durations[spec.name].append(seconds * 1000)
                continue
            figures = providers[record.provider]
            figures.calls += 1
            figures.video_seconds += record.units.get("video_seconds", 0.0)
            figures.images += record.units.get("images", 0.0)
            figures.input_tokens += record.units.get("input_tokens", 0.0)
            figures.output_tokens += record.units.get("output_tokens", 0.0)
        for event in store.events(tale.tale_id):
            if event.message.startswith(RETRY_PREFIX) and _within(event.at, since, until):
                reason = reason_of(event.message.removeprefix(RETRY_PREFIX))
                retries[event.stage][reason] += 1
                provider = by_stage.get(event.stage)
                if provider is not None:
                    field_ = "throttled" if reason == "throttled" else "errors"
                    setattr(providers[provider], field_, getattr(providers[provider], field_) + 1)
    for stage, reasons in stats.tales.failures.items():
        provider = by_stage.get(stage)
        if provider is not None:
            providers[provider].errors += sum(
                n for r, n in reasons.items() if r not in ("dead-lettered", "stuck")
            )
    for name, values in sorted(durations.items()):
        stats.stages[name] = StageFigures(
            BY_NAME[name].stage,
            len(values),
            round(percentile(values, 0.5), 1),
            round(percentile(values, 0.95), 1),
            round(max(values), 1),
        )
    stats.retries = {stage: dict(c) for stage, c in sorted(retries.items())}
    stats.providers = dict(sorted(providers.items()))
    _credits(stats, ledger, {t.owner for t in tales}, since, until)
    return stats


def _credits(stats: Stats, ledger: Ledger, owners: set[str], since: float, until: float) -> None:
    for owner in sorted(owners):
        try:
            entries = ledger.entries(owner)
        except LookupError:
            continue
        reserved: dict[str | None, int] = {}  # a tale's reservation and what edits added
        for entry in entries:
            if entry.kind in ("reserve", "reserve_more"):
                reserved[entry.tale_id] = reserved.get(entry.tale_id, 0) - entry.amount
        for entry in entries:
            if not _within(entry.at, since, until):
                continue
            if entry.kind in ("reserve", "reserve_more"):
                stats.credits_reserved += -entry.amount
            elif entry.kind == "refund":
                stats.credits_refunded += entry.amount
            elif entry.kind == "settle":  # what a settlement returns was reserved, not spent
                stats.credits_spent += reserved.get(entry.tale_id, 0) - entry.amount
