"""The HTTP API through functions-framework's real app, with locally minted Supabase-shaped
tokens (verified by the production code path)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from shared import bootstrap
from shared.domain.tale import TaleState
from shared.runtime.local import LocalRuntime

STORY = {
    "text": "Mina walked to the sea. Mina met a fox. They became friends.",
    "shot_count": 2,
    "shot_seconds": 4,
}
Tokens = Callable[..., dict[str, str]]


def post(client: Any, path: str, headers: dict[str, str], body: Any = None, **kw: Any) -> Any:
    return client.post(path, headers=headers, json=body, **kw)


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.data
    assert response.mimetype == "application/problem+json"
    doc = json.loads(response.data)
    assert doc["status"] == status and doc["detail"] and doc["type"].startswith("https://")
    return doc


def test_create_list_get_and_idempotency(client: Any, token: Tokens) -> None:
    me = token()
    headers = {**me, "Idempotency-Key": "k-1"}
    first = post(client, "/v1/tales", headers, STORY)
    assert first.status_code == 201 and first.headers["Location"].startswith("/v1/tales/tale-")
    again = post(client, "/v1/tales", headers, STORY)
    assert again.status_code == 200 and again.json["id"] == first.json["id"]
    reuse = post(client, "/v1/tales", headers, {**STORY, "shot_count": 3})
    assert problem(reuse, 422)["type"].endswith("idempotency-key-reused")
    listed = client.get("/v1/tales", headers=me)
    assert [t["id"] for t in listed.json["tales"]] == [first.json["id"]]
    one = client.get(f"/v1/tales/{first.json['id']}", headers=me)
    assert one.status_code == 200 and one.json["status"] == "submitted"
    ledger = bootstrap.container().ledger
    user = bootstrap.container().store.find(first.json["id"]).owner  # type: ignore[union-attr]
    reserves = [e for e in ledger.entries(user) if e.kind == "reserve"]
    assert [e.amount for e in reserves] == [-1]  # 2 shots × 4 s = 8 s = 1 credit, once


def test_another_users_tale_is_invisible(client: Any, token: Tokens) -> None:
    tale_id = post(client, "/v1/tales", token(), STORY).json["id"]
    other = token()
    problem(client.get(f"/v1/tales/{tale_id}", headers=other), 404)
    problem(post(client, f"/v1/tales/{tale_id}/cancel", other), 404)
    problem(client.get(f"/v1/tales/{tale_id}/video", headers=other), 404)
    assert client.get("/v1/tales", headers=other).json["tales"] == []


def test_authentication_is_required_and_checked(client: Any, token: Tokens) -> None:
    problem(client.get("/v1/me"), 401)
    problem(client.get("/v1/me", headers={"Authorization": "Bearer junk"}), 401)
    forged = token()["Authorization"][:-4] + "AAAA"
    response = client.get("/v1/me", headers={"Authorization": forged})
    assert problem(response, 401) and "WWW-Authenticate" in response.headers


def test_bad_requests_are_clear_4xx(client: Any, token: Tokens, api_settings: Any) -> None:
    me = token()
    problem(
        client.post("/v1/tales", headers=me, data="{not json", content_type="application/json"), 400
    )
    problem(
        client.post(
            "/v1/tales",
            headers=me,
            data="text=hi",
            content_type="application/x-www-form-urlencoded",
        ),
        415,
    )
    big = "x" * (api_settings.api_max_body_bytes + 10)
    problem(
        client.post(
            "/v1/tales", headers=me, data=json.dumps({"text": big}), content_type="application/json"
        ),
        413,
    )
    unknown = problem(post(client, "/v1/tales", me, {**STORY, "colour": "red"}), 422)
    assert unknown["errors"][0]["field"] == "colour"
    problem(post(client, "/v1/tales", me, {k: v for k, v in STORY.items() if k != "text"}), 422)
    long = problem(post(client, "/v1/tales", me, {**STORY, "text": "word " * 5000}), 422)
    assert "limit" in long["detail"]
    problem(post(client, "/v1/tales", me, {**STORY, "shot_seconds": 5}), 422)
    problem(client.delete("/v1/tales", headers=me), 405)
    problem(client.get("/v1/nothing", headers=me), 404)
    user = bootstrap.container().verifier.verify(me["Authorization"]).user_id
    assert [e for e in bootstrap.container().ledger.entries(user) if e.kind == "reserve"] == []


def test_credits_run_out_with_402_and_nothing_is_charged(client: Any, token: Tokens) -> None:
    me = token()
    default = {"text": STORY["text"]}  # 8 × 8 s = 8 credits; the free plan grants 16
    assert post(client, "/v1/tales", me, default).status_code == 201
    assert post(client, "/v1/tales", me, default).status_code == 201
    short = problem(post(client, "/v1/tales", me, default), 402)
    assert (short["needed"], short["balance"]) == (8, 0)
    account = client.get("/v1/me", headers=me).json
    assert account["balance"] == 0 and account["usage"]["tales_started"] == 2
    assert account["plan"] == "free" and account["monthly_credits"] == 16


def test_rate_limit_and_running_cap(client: Any, token: Tokens, api_settings: Any) -> None:
    container = bootstrap.configure(
        api_settings.model_copy(update={"api_rate_per_minute": 3, "api_max_running_tales": 1})
    )
    assert container.settings.api_rate_per_minute == 3
    me = token()
    assert post(client, "/v1/tales", me, STORY).status_code == 201
    capped = post(client, "/v1/tales", me, STORY)
    assert problem(capped, 429)["type"].endswith("too-many-running-tales")
    assert capped.headers["Retry-After"] == "30"
    client.get("/v1/me", headers=me)
    limited = client.get("/v1/me", headers=me)
    assert problem(limited, 429)["type"].endswith("rate-limited")
    assert 1 <= int(limited.headers["Retry-After"]) <= 60


def test_cors_preflight_and_openapi(client: Any, api_settings: Any) -> None:
    pre = client.options("/v1/tales")
    assert pre.status_code == 204
    assert pre.headers["Access-Control-Allow-Origin"] == api_settings.cors_origin
    assert "Idempotency-Key" in pre.headers["Access-Control-Allow-Headers"]
    doc = client.get("/v1/openapi.json").json
    assert doc["openapi"] == "3.1.0" and "/v1/tales/{tale_id}/video" in doc["paths"]


def test_checked_in_openapi_is_current() -> None:
    from shared.api.openapi import main

    assert main(["--check"]) == 0


def test_the_whole_journey(client: Any, token: Tokens) -> None:
    me = token()
    gated = post(client, "/v1/tales", me, {**STORY, "options": {"approval_required": True}})
    plain = post(client, "/v1/tales", me, STORY)
    container = bootstrap.container()
    with LocalRuntime(container) as runtime:
        runtime.run(timeout=120)
        gated_id, plain_id = gated.json["id"], plain.json["id"]
        assert (
            client.get(f"/v1/tales/{gated_id}", headers=me).json["status"]
            == TaleState.AWAITING_APPROVAL
        )
        problem(client.get(f"/v1/tales/{gated_id}/video", headers=me), 409)
        assert post(client, f"/v1/tales/{gated_id}/cancel", me).status_code == 200
        problem(post(client, f"/v1/tales/{gated_id}/approve", me), 409)
        runtime.run(timeout=120)
    done = client.get(f"/v1/tales/{plain_id}", headers=me).json
    assert done["status"] == "completed" and done["progress"] == 100 and done["has_video"]
    assert [s["status"] for s in done["shots"]] == ["rendered", "rendered"]
    link = client.get(f"/v1/tales/{plain_id}/video", headers=me).json
    assert "signature=" in link["url"] and link["expires_in"] > 0
    kinds = sorted(e.kind for e in container.ledger.entries(container.store.find(plain_id).owner))  # type: ignore[union-attr]
    assert kinds == ["grant", "refund", "reserve", "reserve", "settle"]
    assert client.get("/v1/me", headers=me).json["balance"] == 16 - 1
    public = container.records.get(plain_id)  # the copy the frontend watches
    assert public is not None and public.status == "completed" and public.progress == 100
    assert public.video_path == done_paths(container, plain_id)
    cancelled = container.records.get(gated_id)
    assert cancelled is not None and cancelled.status == "cancelled"


def done_paths(container: Any, tale_id: str) -> str:
    tale = container.store.find(tale_id)
    return str(tale.outputs["video"])


def test_regenerate_a_shot_while_rendering(client: Any, token: Tokens) -> None:
    me = token()
    tale_id = post(client, "/v1/tales", me, STORY).json["id"]
    problem(post(client, f"/v1/tales/{tale_id}/shots/1/regenerate", me), 409)  # not rendering
    container = bootstrap.container()
    store = container.store
    store.transition(tale_id, [TaleState.SUBMITTED], TaleState.PLANNING, stage="planning")
    from tests.conftest import make_plan

    store.save_plan(tale_id, make_plan(2))
    store.transition(tale_id, [TaleState.PLANNING], TaleState.RENDERING, stage="shots")
    store.init_shots(tale_id, 2)
    ok = post(client, f"/v1/tales/{tale_id}/shots/2/regenerate", me)
    assert ok.status_code == 200 and "attempt 2" in ok.json["status"]
    assert store.shots(tale_id)[1].attempt == 2
    post(client, f"/v1/tales/{tale_id}/shots/2/regenerate", me)
    problem(post(client, f"/v1/tales/{tale_id}/shots/2/regenerate", me), 409)  # 3 attempts
    problem(post(client, f"/v1/tales/{tale_id}/shots/9/regenerate", me), 404)
    problem(post(client, f"/v1/tales/{tale_id}/shots/abc/regenerate", me), 404)
    problem(post(client, f"/v1/tales/{tale_id}/shots/2/regenerate", token()), 404)
