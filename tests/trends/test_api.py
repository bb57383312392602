"""``/v1/trends`` through the API function (functions-framework): access by plan, business API
keys as a product (a customer's, metered, expiring, rotating; ``/v1/trends/usage``), the
digest's one-click unsubscribe, and ``POST /v1/trends/{id}/tales`` end to end on the
embedded default — the tale records its trend and stops at its storyboard."""

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
from shared.trends.apikeys import issue, rotate
from shared.trends.models import Follower, Trend
from shared.trends.replay import replay
from shared.trends.unsubscribe import secret, token
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


def account(plan: str) -> str:
    user = str(uuid.uuid4())
    ledger = bootstrap.container().ledger
    ledger.ensure_profile(user, f"{user[:8]}@example.com")
    ledger.set_plan(user, plan)  # type: ignore[arg-type]
    return user


def test_a_pro_plan_reads_every_trend_with_its_figures(client: Any, token: Tokens) -> None:
    found = seed()
    pro = token(account("pro"))
    response = client.get("/v1/trends?region=kr&language=ko", headers=pro)
    assert response.status_code == 200, response.data
    body = response.get_json()
    assert body["tier"] == "pro"
    trends = body["trends"]
    assert [t["id"] for t in trends] == [t.trend_id for t in found["KR"]]
    first = trends[0]
    assert first["label"] == "#탕후루" and first["status"] == "rising" and first["sample"] is True
    assert first["growth_pct"] > 0 and first["vs_expected"] >= 1.5 and first["channels"] == 4
    start, end = first["window"]
    assert end - start == 12 * 3600 and first["age_h"] > 0
    assert first["views_per_hour"] == pytest.approx(first["series"][-1][1], abs=0.01)
    assert first["videos"][0]["url"].startswith("https://www.youtube.com/shorts/smpKR")
    assert first["language"] == "ko" and "탕후루" in first["summary"]
    assert {t["status"] for t in trends} >= {"rising", "steady", "fading"}
    fading = client.get("/v1/trends?region=KR&status=fading", headers=pro).get_json()["trends"]
    assert [t["label"] for t in fading] == ["#댄스챌린지"]
    one = client.get(f"/v1/trends/{trends[-1]['id']}?language=en", headers=pro)
    assert one.status_code == 200 and one.get_json()["language"] == "en"
    problem(client.get("/v1/trends?region=Korea", headers=pro), 422)
    problem(client.get("/v1/trends?limit=0", headers=pro), 422)
    problem(client.get("/v1/trends"), 401)


def test_a_reader_of_japanese_or_chinese_gets_the_write_up_in_it_else_the_english_one(
    client: Any, token: Tokens
) -> None:
    bootstrap.container().trends.follow(Follower("hana@example.com", "region", "KR", "ja"))
    found = seed()
    pro = token(account("pro"))
    tanghulu = found["KR"][0]  # rising, followed in Japanese: written in it
    ja = client.get(f"/v1/trends/{tanghulu.trend_id}?language=ja", headers=pro).get_json()
    assert ja["language"] == "ja" and ja["summary"].startswith("韓国のYouTubeショートで")
    listed = client.get("/v1/trends?region=KR&language=ja", headers=pro).get_json()["trends"]
    languages = {t["label"]: t["language"] for t in listed}
    assert languages["#탕후루"] == "ja"
    assert "en" in languages.values()  # the others have no Japanese: the English one, marked
    zh = client.get(f"/v1/trends/{tanghulu.trend_id}?language=zh", headers=pro).get_json()
    english = tanghulu.explanation("en")
    assert english is not None and english.language == "en"
    assert zh["language"] == "en" and zh["summary"] == english.writeup.summary
    assert client.get(f"/v1/trends/{tanghulu.trend_id}", headers=pro).get_json()["language"] == "ko"
    refused = problem(client.get("/v1/trends?language=fr", headers=pro), 422)
    assert "ko, en, ja or zh" in refused["detail"]


def test_a_free_plan_reads_the_days_top_few(client: Any, token: Tokens) -> None:
    found = seed()
    free = token()  # a new user: the free plan
    body = client.get("/v1/trends", headers=free).get_json()
    assert body["tier"] == "free"
    assert {(t["region"], t["label"]) for t in body["trends"]} == {
        ("KR", "#탕후루"),
        ("US", "#cloudbread"),
    }  # the rising ones only, at most TALE_TRENDS_FREE_TOP a region
    other = found["KR"][1]
    refused = problem(client.get(f"/v1/trends/{other.trend_id}", headers=free), 403)
    assert refused["type"].endswith("/plan-required")
    assert client.get(f"/v1/trends/{found['KR'][0].trend_id}", headers=free).status_code == 200


def test_business_keys_belong_to_a_customer_are_metered_expire_and_rotate(
    client: Any, token: Tokens, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed()
    c = bootstrap.container()
    customer = account("business")
    start = (time.time() // 60) * 60 + 1  # one minute for the rate limit, whatever the clock
    key, record = issue(
        c.trends,
        customer=customer,
        name="Acme Analytics",
        rate_per_minute=50,
        monthly_calls=3,
        days=30,
        at=start - 60,
    )
    assert key.startswith("tsk_") and key not in json.dumps([vars(k) for k in c.trends.api_keys()])
    monkeypatch.setattr("shared.api.app.time.time", lambda: start)
    monkeypatch.setattr("shared.api.trends.time.time", lambda: start)
    headers = {"X-API-Key": key}

    response = client.get("/v1/trends", headers=headers)
    assert response.status_code == 200, response.data
    assert response.get_json()["tier"] == "api-key"
    assert {t["region"] for t in response.get_json()["trends"]} == {"KR", "US"}
    assert client.get("/v1/trends/unknown-id", headers=headers).status_code == 404
    usage = client.get("/v1/trends/usage", headers=headers).get_json()
    assert usage["customer"] == customer and usage["calls"] == 3  # this one counts too
    assert usage["keys"][0]["monthly_calls"] == 3 and usage["keys"][0]["calls"] == 3
    limited = problem(client.get("/v1/trends", headers=headers), 429)
    assert limited["type"].endswith("/monthly-limit") and "3 calls" in limited["detail"]
    assert int(client.get("/v1/trends", headers=headers).headers["Retry-After"]) > 0
    # The customer sees the same usage with their own token.
    mine = client.get("/v1/trends/usage", headers=token(customer)).get_json()
    assert mine["keys"][0]["id"] == record.key_id and mine["calls"] == 5

    # Rotation: a new key; the old one works until the grace period ends.
    new_key, new, old = rotate(c.trends, record.key_id, grace_days=1, days=30, at=start)
    assert new.customer == customer and old.rotated_to == new.key_id
    c.trends.replace_key(old.__class__(**{**vars(old), "monthly_calls": 100}))
    assert client.get("/v1/trends", headers=headers).status_code == 200
    assert client.get("/v1/trends", headers={"X-API-Key": new_key}).status_code == 200
    monkeypatch.setattr("shared.api.trends.time.time", lambda: start + 86400 + 1)
    expired = problem(client.get("/v1/trends", headers=headers), 401)
    assert "expired" in expired["detail"]
    monkeypatch.setattr("shared.api.app.time.time", lambda: start + 86400 + 1)
    assert client.get("/v1/trends", headers={"X-API-Key": new_key}).status_code == 200

    # A key is for reading trends: it cannot start tales (that needs a user).
    problem(client.post("/v1/trends/x/tales", json={"idea": 0}, headers=headers), 401)
    for bad in ("tsk_" + "A" * 43, "not-a-key", ""):
        body = problem(client.get("/v1/trends", headers={"X-API-Key": bad}), 401)
        assert "not valid" in body["detail"]
    # A customer who leaves the business plan: their keys stop working.
    c.ledger.set_plan(customer, "pro")
    problem(client.get("/v1/trends", headers={"X-API-Key": new_key}), 401)
    c.ledger.set_plan(customer, "business")
    assert c.trends.revoke_key(new.key_id, time.time())
    problem(client.get("/v1/trends", headers={"X-API-Key": new_key}), 401)


def test_a_story_idea_becomes_a_tale_that_records_its_trend_and_waits_at_its_storyboard(
    client: Any, token: Tokens
) -> None:
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
    assert submission.trend_id == trend.trend_id

    problem(client.post("/v1/trends/trd-unknown/tales", json={"idea": 0}, headers=token()), 404)
    too_far = problem(
        client.post(f"/v1/trends/{trend.trend_id}/tales", json={"idea": 3}, headers=token()),
        422,
    )
    assert too_far["errors"][0]["field"] == "idea"


def test_one_click_unsubscribe_needs_a_signed_token_and_no_login(client: Any) -> None:
    c = bootstrap.container()
    follower = Follower("minji@example.com", "region", "KR", "ko")
    c.trends.follow(follower)
    signed = token(follower.follower_id, secret(c.settings, c.home))
    url = f"/v1/trends/unsubscribe?token={signed}"

    preview = client.get(url)  # a mail scanner fetching the link changes nothing
    assert preview.status_code == 200, preview.data
    assert preview.get_json() == {
        "kind": "region",
        "value": "KR",
        "email": "m…@example.com",
        "subscribed": True,
    }
    assert c.trends.follower(follower.follower_id) == follower
    done = client.post(
        url,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert done.status_code == 200 and done.get_json()["subscribed"] is False
    assert c.trends.follower(follower.follower_id) is None
    assert client.post(url).get_json()["subscribed"] is False  # again: still fine
    forged = f"{follower.follower_id}.{'A' * 43}"
    problem(client.post(f"/v1/trends/unsubscribe?token={forged}"), 400)


def test_the_openapi_document_describes_the_trend_routes(client: Any) -> None:
    document = client.get("/v1/openapi.json").get_json()
    assert document["components"]["securitySchemes"]["apiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
    }
    listing = document["paths"]["/v1/trends"]["get"]
    assert {"bearer": []} in listing["security"] and {"apiKey": []} in listing["security"]
    usage = document["paths"]["/v1/trends/usage"]["get"]
    assert usage["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/TrendUsage"
    }
    assert document["paths"]["/v1/trends/unsubscribe"]["post"]["security"] == []
    start = document["paths"]["/v1/trends/{trend_id}/tales"]["post"]
    assert start["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/TrendTaleRequest"
    }
    assert "201" in start["responses"] and "security" not in start
