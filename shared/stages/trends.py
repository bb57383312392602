"""Stages of the trend scout (control topics: they receive the raw envelope, no tale id).

``collect_trends`` (trigger ``trends.collect``, Cloud Scheduler every 4 hours with ``{}``, or
``{"region": "KR"}``): collects every configured region (or the one named) within the
YouTube quota and announces each collection on ``trends.collected``. Idempotent per region
and 15-minute slot. A missing API key is a configuration error (``PermanentError``: logged
and acknowledged); an exhausted quota is not an error — the summary says until when.

``analyze_trends`` (trigger ``trends.collected``): scores, groups, explains and stores the
collection's trends and sends the digests. Idempotent per analysis window (the collection):
the analysis is stored before any write-up is asked for and each write-up as it is produced,
so a redelivery asks only for the missing ones; each follower gets at most one digest per
period. A transient model error is raised for redelivery.

A payload that is not a valid message is a ``MalformedEvent`` (retried, then dead-lettered).
"""

from __future__ import annotations

import json
import logging
import time
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from schemas.trends import CollectTrends, TrendsCollected
from shared.config import Settings
from shared.domain.errors import MalformedEvent
from shared.ports.bus import EventBus
from shared.ports.claims import Claims
from shared.ports.notifier import Notifier
from shared.ports.trends import TrendStore
from shared.pubsub_message import Envelope
from shared.trends.explain import TrendExplainer
from shared.trends.pipeline import analyze_and_notify, collect_region, collector_for
from shared.trends.youtube import YouTubeClient

log = logging.getLogger("tale.stages")
M = TypeVar("M", bound=BaseModel)


def now() -> float:
    """The collection clock (a seam for tests)."""
    return time.time()


def read(envelope: Envelope, model: type[M]) -> M:
    try:
        return model.model_validate(json.loads(envelope.data.decode("utf-8") or "{}"))
    except (UnicodeDecodeError, json.JSONDecodeError, ValidationError) as exc:
        raise MalformedEvent(f"invalid {envelope.topic} message: {exc}") from exc


def collect_trends(
    envelope: Envelope,
    trends: TrendStore,
    youtube: YouTubeClient,
    claims: Claims,
    bus: EventBus,
    settings: Settings,
) -> None:
    request = read(envelope, CollectTrends)
    regions = [request.region] if request.region else list(settings.trends_regions)
    collector = collector_for(youtube, trends, settings)
    at = now()
    for region in regions:
        summary = collect_region(collector, claims, region, at, envelope.message_id, bus=bus)
        log.info("collect_trends %s: %s", envelope.message_id, summary.line())


def analyze_trends(
    envelope: Envelope,
    trends: TrendStore,
    explainer: TrendExplainer,
    notifier: Notifier,
    claims: Claims,
    settings: Settings,
) -> None:
    message = read(envelope, TrendsCollected)
    found, sent = analyze_and_notify(
        message,
        trends=trends,
        explainer=explainer,
        notifier=notifier,
        claims=claims,
        settings=settings,
        claimant=envelope.message_id,
    )
    log.info(
        "analyze_trends %s: %d trends, %d digests sent",
        message.collection_id,
        len(found),
        len(sent),
    )
