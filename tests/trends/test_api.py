"""``/v1/trends`` through the API function (functions-framework): user tokens and business
API keys, and ``POST /v1/trends/{id}/tales`` end to end on the embedded default — the tale is
planned and stops at its storyboard."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from shared import bootstrap
from shared.domain.tale import TaleState
from shared.runtime.local import LocalRuntime
from shared.trends import sample
from shared.trends.apikeys import issue
from shared.trends.models import Trend
from shared.trends.replay import replay
from tests.api.test_api import Tokens


def seed() -> dict[str, list[Trend]]:
    c = bootstrap.container()
    result = replay(
        sample.load(),
        trends=c.trends,
        claims=c.claims,
        explainer=c.explainer,
        notifier=c.notifier,
        settings=c.settings,
    )
    return result.trends


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.data
    assert response.mimetype == "application/problem+json"
    body: dict[str, Any] = json.loads(response.data)
    assert body["status"] == status
    return body


def test_trends_are_read_with_a_user_token(client: Any, token: Tokens) -> None:
    found = seed()
    response = client.get("/v1/trends?region=kr&limit=2&language=ko", headers=token())
    assert response.status_code == 200, response.data
    trends = response.get_json()["trends"]
    assert [t["id"] for t in trends] == [t.trend_id for t in found["KR"][:2]]
    first = trends[0]
    assert first["label"] == "#탕후루" and first["rank"] == 1 and first["sample"] is True
    assert first["language"] == "ko" and "탕후루" in first["summary"]
    assert [i["index"] for i in first["ideas"]] == [0, 1, 2]
    assert first["videos"][0]["url"].startswith("https://www.youtube.com/shorts/smpKR")
    assert len(first["series"]) >= 3
    one = client.get(f"/v1/trends/{first['id']}?language=en", headers=token())
    assert one.status_code == 200 and one.get_json()["language"] == "en"
    problem(client.get("/v1/trends?region=Korea", headers=token()), 422)
    problem(client.get("/v1/trends?limit=0", headers=token()), 422)
    problem(client.get("/v1/trends"), 401)


def test_business_api_keys_read_trends_until_revoked(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed()
    c = bootstrap.container()
    key, record = issue(c.trends, "Acme Analytics", rate_per_minute=2)
    assert key.startswith("tsk_") and key not in json.dumps([vars(k) for k in c.trends.api_keys()])
    start = (time.time() // 60) * 60 + 1  # one minute for the rate limit, whatever the clock
    monkeypatch.setattr("shared.api.app.time.time", lambda: start)

    response = client.get("/v1/trends", headers={"X-API-Key": key})
    assert response.status_code == 200, response.data
    assert {t["region"] for t in response.get_json()["trends"]} == {"KR", "US"}
    assert client.get("/v1/trends/unknown-id", headers={"X-API-Key": key}).status_code == 404
    limited = problem(client.get("/v1/trends", headers={"X-API-Key": key}), 429)
    assert "2 requests a minute" in limited["detail"]

    # A key is for reading trends: it cannot start tales (that needs a user).
    problem(client.post("/v1/trends/x/tales", json={"idea": 0}, headers={"X-API-Key": key}), 401)
    for bad in ("tsk_" + "A" * 43, "not-a-key", ""):
        body = problem(client.get("/v1/trends", headers={"X-API-Key": bad}), 401)
        assert "not valid" in body["detail"]
    assert c.trends.revoke_key(record.key_id, time.time())
    monkeypatch.setattr("shared.api.app.time.time", lambda: start + 60)
    body = problem(client.get("/v1/trends", headers={"X-API-Key": key}), 401)
    assert body["type"].endswith("/unauthorized")


def test_a_story_idea_becomes_a_tale_waiting_at_its_storyboard(client: Any, token: Tokens) -> None:
    trend = seed()["KR"][0]
    user = str(uuid.uuid4())
    headers = {**token(user), "Idempotency-Key": "from-trend-1"}
    body = {"idea": 1, "shot_count": 2, "shot_seconds": 4}

    created = client.post(f"/v1/trends/{trend.trend_id}/tales", json=body, headers=headers)
    assert created.status_code == 201, created.data
    tale = created.get_json()
    assert tale["status"] == "submitted" and tale["language"] == "ko"
    assert created.headers["Location"] == f"/v1/tales/{tale['id']}"
    again = client.post(f"/v1/trends/{trend.trend_id}/tales", json=body, headers=headers)
    assert again.status_code == 200 and again.get_json()["id"] == tale["id"]

    c = bootstrap.container()
    reserves = [e for e in c.ledger.entries(user) if e.kind == "reserve"]
    assert len(reserves) == 1 and reserves[0].amount == -1  # 2 shots × 4 s: one credit
    with LocalRuntime(c) as runtime:
        runtime.run(timeout=60)
    record = c.store.find(tale["id"])
    assert record is not None and record.state is TaleState.AWAITING_APPROVAL
    plan = c.store.plan(tale["id"])
    explanation = trend.explanation("ko")
    assert plan is not None and explanation is not None
    idea = explanation.writeup.ideas[1]
    assert plan.title == idea.title and len(plan.shots) == 2
    submission = c.store.submission(tale["id"])
    assert submission.options.approval_required and idea.story in submission.text

    problem(client.post("/v1/trends/trd-unknown/tales", json={"idea": 0}, headers=token()), 404)
    too_far = problem(
        client.post(f"/v1/trends/{trend.trend_id}/tales", json={"idea": 3}, headers=token()),
        422,
    )
    assert too_far["errors"][0]["field"] == "idea"
    problem(
        client.post(
            f"/v1/trends/{trend.trend_id}/tales", json={"idea": 0, "extra": 1}, headers=token()
        ),
        422,
    )


def test_the_openapi_document_describes_the_trend_routes(client: Any) -> None:
    document = client.get("/v1/openapi.json").get_json()
    assert document["components"]["securitySchemes"]["apiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
    }
    listing = document["paths"]["/v1/trends"]["get"]
    assert {"bearer": []} in listing["security"] and {"apiKey": []} in listing["security"]
    start = document["paths"]["/v1/trends/{trend_id}/tales"]["post"]
    assert start["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/TrendTaleRequest"
    }
    assert "201" in start["responses"] and "security" not in start
