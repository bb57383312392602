"""Hostile input at every event entry: whatever arrives, a function answers 200 (acked: a
permanent condition) or 500 (redelivered, then dead-lettered) — never anything else, and
never a crash of the process."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.story import StorySubmission
from shared.providers.offline.planner import OfflinePlanner
from shared.registry import FUNCTIONS
from tests.functions.test_entrypoints import client, post_structured, pubsub_event

PUBSUB = [s for s in FUNCTIONS if not s.is_http]
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)
PAYLOADS = st.one_of(
    st.binary(max_size=200),  # not JSON at all
    JSONISH.map(lambda v: json.dumps(v).encode()),  # JSON of the wrong shape
    st.fixed_dictionaries(
        {
            "tale_id": st.text(max_size=70),
            "version": st.integers(-1, 5),
            "shot_index": st.integers(-5, 100),
        }
    ).map(lambda v: json.dumps(v).encode()),
    st.just(json.dumps({"tale_id": "tale-unknown01", "version": 2}).encode()),
    st.just(b'{"tale_id": "tale-unknown01", "pad": "' + b"x" * 1_000_000 + b'"}'),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    spec=st.sampled_from(PUBSUB),
    data=PAYLOADS,
    raw_base64=st.booleans(),
    tale_id=st.sampled_from(["tale-unknown01", "", "../../etc"]),
)
def test_no_event_crashes_a_function(
    tale_home: Path, spec: Any, data: bytes, raw_base64: bool, tale_id: str
) -> None:
    attrs, body = pubsub_event(
        data, {"tale_id": tale_id} if tale_id else {}, topic=spec.trigger, subscription=spec.name
    )
    if raw_base64:
        body["message"]["data"] = "%%% not base64 %%%"
    response = post_structured(client(spec.name), attrs, body)
    assert response.status_code in (200, 500), response.data


STORIES = [
    "A fox\x07 ran\x1b[31m home.",  # stray control characters (a few are tolerated)
    "서연 met a fox. 狐狸 smiled. Лиса ушла. 🦊🌕 The end!",  # mixed scripts and emoji
    "שלום עולם. الثعلب يركض إلى البيت. A fox ran home.",  # right-to-left text
    "word " * 19_990,  # right at the limit
]


@pytest.mark.parametrize("text", STORIES, ids=["control", "mixed", "rtl", "long"])
def test_unusual_stories_plan_or_fail_cleanly(text: str) -> None:
    try:
        submission = StorySubmission(text=text, shot_count=3, shot_seconds=4)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        assert "story" in str(exc) or "text" in str(exc)
        return
    plan = OfflinePlanner().plan(submission)
    assert len(plan.shots) == 3


def test_a_story_of_100k_characters_is_refused_with_a_reason() -> None:
    with pytest.raises(ValueError, match="at most 100000"):
        StorySubmission(text="가" * 100_001)
