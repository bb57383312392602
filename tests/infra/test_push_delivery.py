"""The push-subscription design, end to end through functions-framework.

terraform/pubsub.tf pushes each message, in Pub/Sub's wrapped push format, to
``<function uri>/projects/<project>/topics/<topic>``. functions-framework turns such a raw
push into the ``messagePublished`` CloudEvent Eventarc would have sent, taking the topic from
that path — so ``shared.pubsub_message.decode`` (and every entry point) sees the same event either
way. Without the topic in the path the event would have no topic, which is why the endpoint
carries it.
"""

from __future__ import annotations

import base64
import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from cloudevents.http import CloudEvent
from functions_framework import create_app

from shared import pubsub_message
from shared.domain.errors import MalformedEvent
from shared.registry import FUNCTIONS
from tests.infra import hcl

PROBE = """
    import json

    import functions_framework


    @functions_framework.cloud_event
    def probe(cloud_event):
        seen = {{"attributes": dict(cloud_event.get_attributes()), "data": cloud_event.data}}
        with open({out!r}, "a", encoding="utf-8") as f:
            f.write(json.dumps(seen) + "\\n")
"""


class Probe:
    """A cloud_event function served by functions-framework that records what it receives."""

    def __init__(self, tmp_path: Path) -> None:
        self.out = tmp_path / "events.jsonl"
        source = tmp_path / "probe_main.py"
        source.write_text(textwrap.dedent(PROBE.format(out=str(self.out))), encoding="utf-8")
        app = create_app("probe", str(source), "cloudevent")  # type: ignore[no-untyped-call]
        self.client = app.test_client()

    def events(self) -> list[CloudEvent]:
        if not self.out.exists():
            return []
        lines = self.out.read_text(encoding="utf-8").splitlines()
        return [CloudEvent(e["attributes"], e["data"]) for e in map(json.loads, lines)]


@pytest.fixture
def probe(tmp_path: Path) -> Probe:
    return Probe(tmp_path)


def push_body(topic_data: dict[str, Any], attributes: dict[str, str], sub: str) -> dict[str, Any]:
    """What a push subscription POSTs (the default, wrapped format)."""
    return {
        "message": {
            "data": base64.b64encode(json.dumps(topic_data).encode()).decode(),
            "attributes": attributes,
            "messageId": "1234567890",
            "message_id": "1234567890",
            "publishTime": "2026-01-02T03:04:05.678Z",
            "publish_time": "2026-01-02T03:04:05.678Z",
        },
        "subscription": f"projects/tale-test/subscriptions/{sub}",
        "deliveryAttempt": 2,
    }


def endpoint_path(project: str, topic: str) -> str:
    """The path part of push_endpoint in terraform/pubsub.tf, for one topic."""
    push = hcl.load().resource("google_pubsub_subscription.push").block("push_config")
    template = str(push["push_endpoint"])
    _, _, path = template.partition("service_config[0].uri}")
    return path.replace("${var.project_id}", project).replace("${each.value.trigger}", topic)


@pytest.mark.parametrize("spec", [f for f in FUNCTIONS if not f.is_http], ids=lambda f: f.name)
def test_a_push_becomes_the_eventarc_cloudevent(spec: Any, probe: Probe) -> None:
    path = endpoint_path("tale-test", spec.trigger)
    assert path == f"/projects/tale-test/topics/{spec.trigger}"
    data = {"version": 1, "tale_id": "tale-000001"}
    attributes = {"tale_id": "tale-000001", "type": spec.trigger}
    response = probe.client.post(path, json=push_body(data, attributes, spec.name))
    assert response.status_code == 200, response.get_data(as_text=True)

    (event,) = probe.events()
    assert event["type"] == pubsub_message.PUBSUB_EVENT_TYPE
    decoded = pubsub_message.decode(event)
    assert decoded.topic == spec.trigger
    assert decoded.message_id == "1234567890"
    assert decoded.attributes == attributes
    assert json.loads(decoded.data) == data
    assert decoded.tale_id == "tale-000001"


def test_without_the_topic_in_the_path_the_event_has_no_topic(probe: Probe) -> None:
    body = push_body({"tale_id": "tale-000001"}, {"tale_id": "tale-000001"}, "plan_story")
    assert probe.client.post("/", json=body).status_code == 200
    (event,) = probe.events()
    with pytest.raises(MalformedEvent):
        pubsub_message.decode(event)
