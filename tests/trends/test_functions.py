"""The scheduled trend functions through functions-framework's real app: Cloud Scheduler's
``{}`` on ``trends.collect`` → ``collect_trends`` (YouTube intercepted at the HTTP layer) →
``trends.collected`` → ``analyze_trends`` → one digest, whatever is redelivered."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from functions_framework import create_app

from shared import bootstrap, pubsub_message
from shared.adapters.local.bus import SqliteEventBus
from shared.config import Settings
from shared.registry import FUNCTIONS
from shared.stages import trends as trend_stage
from shared.trends.models import Follower
from tests.trends.fake_youtube import FakeYouTube, channel, video

ROOT = Path(__file__).resolve().parents[2]
NOW = 1_751_371_200.0  # 2025-07-01 12:00 UTC


def function(name: str) -> Any:
    return create_app(name, str(ROOT / "functions" / f"{name}.py"), "cloudevent").test_client()


def deliver(client: Any, topic: str, data: bytes, message_id: str, subscription: str) -> int:
    attrs, body = pubsub_message.build(
        project="tale-test",
        topic=topic,
        subscription=subscription,
        message_id=message_id,
        data=data,
        attributes={},
    )
    response = client.post(
        "/",
        headers={"Content-Type": "application/cloudevents+json"},
        data=json.dumps({**attrs, "data": body}),
    )
    return int(response.status_code)


def youtube() -> FakeYouTube:
    fake = FakeYouTube()
    ids = [f"vid{n:08d}" for n in range(6)]
    fake.index["#shorts"] = ids
    for n, video_id in enumerate(ids):
        fake.videos[video_id] = video(
            video_id, f"탕후루 {n} #탕후루", f"UCchan{n:04d}", NOW - 7200, 10_000 * (n + 1)
        )
        fake.sizes[video_id] = (1080, 1920)
        fake.channels[f"UCchan{n:04d}"] = channel(f"UCchan{n:04d}", 9000, 1_000_000, 100)
    fake.charts[("KR", "")] = []  # nothing popular in KR yet
    return fake


def accelerate(fake: FakeYouTube, hours: float) -> None:
    """Each video gains three times as many views an hour as it did since its upload."""
    for n, resource in enumerate(fake.videos.values()):
        views = int(resource["statistics"]["viewCount"])
        resource["statistics"]["viewCount"] = str(views + round(hours * 15_000 * (n + 1)))


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setattr(trend_stage, "now", lambda: NOW)
    yield tmp_path / "home"
    bootstrap.configure(Settings(home=tmp_path / "unused"))


def test_the_trend_functions_are_registered_as_the_deployment_expects() -> None:
    specs = {s.name: s for s in FUNCTIONS}
    collect, analyze = specs["collect_trends"], specs["analyze_trends"]
    assert (collect.trigger, collect.schedule) == ("trends.collect", "0 */4 * * *")
    assert analyze.trigger == "trends.collected"
    # The trend store is in Firestore: whoever needs it needs the store grant too.
    for spec in FUNCTIONS:
        assert "trends" not in spec.needs or "store" in spec.needs, spec.name
    assert "youtube" in collect.needs and "explainer" in analyze.needs


def test_scheduled_collection_then_analysis_mails_one_digest(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = youtube()
    settings = Settings(
        home=home,
        trends_regions=["KR"],
        trends_niches={"all": ["#shorts"]},
        trends_chart_categories=[""],
        trends_baseline_channels=0,
    )
    container = bootstrap.configure(settings, youtube=fake.client())
    container.trends.follow(Follower("minji@example.com", "region", "KR", "ko"))
    collect = function("collect_trends")

    assert deliver(collect, "trends.collect", b"{}", "tick-1", "collect_trends") == 200
    calls = {"videos": 2, "search": 1, "channels": 1}  # the chart, then the search's finds
    assert fake.counts == calls
    bus = container.bus
    assert isinstance(bus, SqliteEventBus)
    (published,) = bus.published("trends.collected")
    _, attributes, data = published
    message = json.loads(data)
    assert message["region"] == "KR" and message["collection_id"] == "KR-20250701T1200Z"
    assert attributes["type"] == "trends.collected" and "tale_id" not in attributes

    # A redelivery, and a second tick in the same slot: nothing is sent to YouTube again.
    assert deliver(collect, "trends.collect", b"{}", "tick-1", "collect_trends") == 200
    assert (
        deliver(collect, "trends.collect", b'{"region": "KR"}', "tick-2", "collect_trends") == 200
    )
    assert fake.counts == calls
    assert len(bus.published("trends.collected")) == 1

    analyze = function("analyze_trends")
    assert deliver(analyze, "trends.collected", data, "m-0", "analyze_trends") == 200
    (new,) = container.trends.latest("KR")
    assert new.status == "new" and not list((home / "outbox").glob("*.eml"))  # seen once

    # Four hours later the videos gain faster: the next analysis finds the trend rising.
    later = NOW + 4 * 3600
    monkeypatch.setattr(trend_stage, "now", lambda: later)
    accelerate(fake, 4)
    assert deliver(collect, "trends.collect", b"{}", "tick-3", "collect_trends") == 200
    data = bus.published("trends.collected")[-1][2]
    for message_id in ("m-1", "m-1", "m-2"):  # delivered, redelivered, re-published
        assert deliver(analyze, "trends.collected", data, message_id, "analyze_trends") == 200
    mails = list((home / "outbox").glob("trends-2025-07-01-*.eml"))
    assert len(mails) == 1
    (trend,) = container.trends.latest("KR")
    assert trend.label == "#탕후루" and trend.status == "rising" and len(trend.videos) == 6
    assert not trend.sample and trend.channels == 6
    assert {e.language for e in trend.explanations} == {"ko", "en"}


def test_without_an_api_key_the_collection_is_acknowledged_and_does_nothing(home: Path) -> None:
    container = bootstrap.configure(Settings(home=home, youtube_api_key=None))
    assert (
        deliver(function("collect_trends"), "trends.collect", b"{}", "t", "collect_trends") == 200
    )
    bus = container.bus
    assert isinstance(bus, SqliteEventBus)
    assert bus.published("trends.collected") == []


@pytest.mark.parametrize(
    ("name", "topic", "data"),
    [
        ("collect_trends", "trends.collect", b'{"region": "Korea"}'),
        ("collect_trends", "trends.collect", b"not json"),
        ("analyze_trends", "trends.collected", b'{"region": "KR"}'),
    ],
)
def test_a_malformed_message_is_refused_for_redelivery(
    home: Path, name: str, topic: str, data: bytes
) -> None:
    bootstrap.configure(Settings(home=home), youtube=youtube().client())
    assert deliver(function(name), topic, data, "bad", name) == 500
