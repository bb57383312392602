"""Pub/Sub messages as Eventarc delivers them: CloudEvents of type ``messagePublished``.

The local runtime builds exactly these CloudEvents, and every entry point decodes them with
``decode`` — so the embedded default and Cloud Functions take the same path.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from pydantic import ValidationError

from schemas.events import Event
from shared.domain.errors import MalformedEvent

PUBSUB_EVENT_TYPE = "google.cloud.pubsub.topic.v1.messagePublished"
_SOURCE_PREFIX = "//pubsub.googleapis.com/"

E = TypeVar("E", bound=Event)


class CloudEventLike(Protocol):
    """What we need of ``cloudevents.http.CloudEvent``."""

    data: Any

    def __getitem__(self, key: str) -> Any: ...

    def get(self, key: str, default: Any = None) -> Any: ...


@dataclass(frozen=True)
class Envelope:
    topic: str
    message_id: str
    data: bytes
    attributes: Mapping[str, str] = field(default_factory=dict)
    subscription: str = ""
    delivery_attempt: int | None = None

    @property
    def tale_id(self) -> str | None:
        return self.attributes.get("tale_id")


def _topic_from_source(source: str) -> str:
    # //pubsub.googleapis.com/projects/P/topics/T
    if not source.startswith(_SOURCE_PREFIX) or "/topics/" not in source:
        raise MalformedEvent(f"not a Pub/Sub source: {source!r}")
    return source.rsplit("/topics/", 1)[1]


def decode(cloud_event: CloudEventLike) -> Envelope:
    """Check the CloudEvent type and unwrap the Pub/Sub message (base64 data, attributes)."""
    if cloud_event["type"] != PUBSUB_EVENT_TYPE:
        raise MalformedEvent(f"unexpected CloudEvent type {cloud_event['type']!r}")
    body = cloud_event.data
    if not isinstance(body, dict) or not isinstance(body.get("message"), dict):
        raise MalformedEvent("CloudEvent data has no Pub/Sub message")
    message = body["message"]
    attributes = message.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise MalformedEvent("message attributes are not a map")
    try:
        data = base64.b64decode(message.get("data") or "", validate=True)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise MalformedEvent(f"message data is not base64: {exc}") from exc
    attempt = body.get("deliveryAttempt")
    return Envelope(
        topic=_topic_from_source(str(cloud_event["source"])),
        message_id=str(message.get("messageId") or message.get("message_id") or cloud_event["id"]),
        data=data,
        attributes={str(k): str(v) for k, v in attributes.items()},
        subscription=str(body.get("subscription") or ""),
        delivery_attempt=int(attempt)
        if isinstance(attempt, int | str) and str(attempt).isdigit()
        else None,
    )


def parse(envelope: Envelope, model: type[E]) -> E:
    """Validate the message data as ``model``; any problem is a ``MalformedEvent``."""
    try:
        payload = json.loads(envelope.data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedEvent(f"message data is not JSON: {exc}") from exc
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "payload"
        raise MalformedEvent(f"invalid {model.TYPE} event: {where}: {first['msg']}") from exc


def build(
    *,
    project: str,
    topic: str,
    subscription: str,
    message_id: str,
    data: bytes,
    attributes: Mapping[str, str],
    publish_time: datetime | None = None,
    delivery_attempt: int | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The (attributes, data) of the CloudEvent Eventarc sends for one Pub/Sub message."""
    when = (publish_time or datetime.now(UTC)).isoformat().replace("+00:00", "Z")
    message = {
        "data": base64.b64encode(data).decode("ascii"),
        "attributes": dict(attributes),
        "messageId": message_id,
        "message_id": message_id,
        "publishTime": when,
        "publish_time": when,
    }
    body: dict[str, Any] = {
        "message": message,
        "subscription": f"projects/{project}/subscriptions/{subscription}",
    }
    if delivery_attempt is not None:
        body["deliveryAttempt"] = delivery_attempt
    ce_attributes = {
        "specversion": "1.0",
        "id": message_id,
        "source": f"{_SOURCE_PREFIX}projects/{project}/topics/{topic}",
        "type": PUBSUB_EVENT_TYPE,
        "datacontenttype": "application/json",
        "time": when,
    }
    return ce_attributes, body
