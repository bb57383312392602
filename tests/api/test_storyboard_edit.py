"""``PATCH /v1/tales/{id}/storyboard`` through functions-framework's app, with the local
runtime planning and rendering behind it: conditional edits (``ETag`` / ``If-Match``), the
credits an edit needs, and that approving renders exactly the edited storyboard."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from shared import bootstrap
from shared.config import Settings
from shared.ports.generators import VideoRequest
from shared.providers.offline.videos import OfflineVideoGenerator
from shared.runtime.local import LocalRuntime

STORY = {
    "text": "Mina walked to the sea. Mina met a fox. They became friends.",
    "shot_count": 2,
    "shot_seconds": 4,
    "options": {"approval_required": True},
}
Tokens = Callable[..., dict[str, str]]


class RecordingVideos(OfflineVideoGenerator):
    """The offline renderer, remembering what each shot was asked to render."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.requests: list[VideoRequest] = []

    def start(self, request: VideoRequest) -> str:
        self.requests.append(request)
        return super().start(request)


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.data
    assert response.mimetype == "application/problem+json"
    doc: dict[str, Any] = json.loads(response.data)
    assert doc["status"] == status and doc["detail"]
    return doc


def patch(client: Any, tale_id: str, headers: dict[str, str], *ops: dict[str, Any]) -> Any:
    return client.patch(
        f"/v1/tales/{tale_id}/storyboard", headers=headers, json={"operations": list(ops)}
    )


def planned(client: Any, me: dict[str, str], story: dict[str, Any] = STORY) -> str:
    """A tale of the user ``me``, planned and awaiting approval."""
    created = client.post("/v1/tales", headers=me, json=story)
    assert created.status_code == 201, created.data
    with LocalRuntime(bootstrap.container()) as runtime:
        runtime.run(timeout=120)
    tale_id: str = created.json["id"]
    assert client.get(f"/v1/tales/{tale_id}", headers=me).json["status"] == "awaiting_approval"
    return tale_id


def balance(client: Any, me: dict[str, str]) -> int:
    return int(client.get("/v1/me", headers=me).json["balance"])


def entries(tale_id: str) -> list[tuple[str, int]]:
    container = bootstrap.container()
    tale = container.store.find(tale_id)
    assert tale is not None
    return [(e.kind, e.amount) for e in container.ledger.entries(tale.owner)]


def test_an_edit_needs_the_current_etag(client: Any, token: Tokens) -> None:
    me = token()
    tale_id = planned(client, me)
    read = client.get(f"/v1/tales/{tale_id}/storyboard", headers=me)
    assert read.status_code == 200 and read.headers["ETag"] == '"1"' == f'"{read.json["version"]}"'
    narrate = {"op": "edit_shot", "shot": 1, "narration": "Mina ran to the sea."}

    missing = problem(patch(client, tale_id, me, narrate), 428)
    assert missing["type"].endswith("precondition-required") and missing["version"] == 1
    assert problem(patch(client, tale_id, {**me, "If-Match": "*"}, narrate), 428)

    done = patch(client, tale_id, {**me, "If-Match": read.headers["ETag"]}, narrate)
    assert done.status_code == 200, done.data
    assert done.headers["ETag"] == '"2"' and done.json["version"] == 2
    assert done.json["shots"][0]["narration"] == "Mina ran to the sea."

    # the other tab still holds version 1: refused, and told the current ETag
    stale = patch(client, tale_id, {**me, "If-Match": '"1"'}, narrate)
    assert problem(stale, 412)["version"] == 2 and stale.headers["ETag"] == '"2"'
    assert problem(patch(client, tale_id, {**me, "If-Match": 'W/"2"'}, narrate), 412)
    assert client.get(f"/v1/tales/{tale_id}/storyboard", headers=me).headers["ETag"] == '"2"'
    assert "ETag" in client.options("/v1/tales").headers.get("Access-Control-Expose-Headers", "")


def test_another_user_gets_404_and_bad_edits_422(client: Any, token: Tokens) -> None:
    me = token()
    tale_id = planned(client, me)
    stranger = {**token(), "If-Match": '"1"'}
    narrate = {"op": "edit_shot", "shot": 1, "narration": "x"}
    problem(patch(client, tale_id, stranger, narrate), 404)
    problem(patch(client, "tale-0000000000", {**me, "If-Match": '"1"'}, narrate), 404)
    mine = {**me, "If-Match": '"1"'}
    invalid = problem(
        patch(client, tale_id, mine, {"op": "edit_shot", "shot": 9, "prompt": "x"}), 422
    )
    assert invalid["type"].endswith("invalid-edit") and "no shot 9" in invalid["detail"]
    wire = problem(
        patch(client, tale_id, mine, {"op": "edit_shot", "shot": 1, "duration_s": 5}), 422
    )
    assert wire["errors"][0]["field"].startswith("operations.0")
    korean = {"op": "edit_shot", "shot": 1, "prompt": "바다"}
    assert "Korean" in problem(patch(client, tale_id, mine, korean), 422)["detail"]
    assert client.get(f"/v1/tales/{tale_id}/storyboard", headers=me).json["version"] == 1


def test_an_edit_beyond_the_balance_gets_402_and_changes_nothing(
    client: Any, token: Tokens, api_settings: Settings
) -> None:
    bootstrap.configure(api_settings.model_copy(update={"free_tales_per_month": 1}))  # 8 credits
    me = token()
    tale_id = planned(client, me)  # 2 × 4 s: 1 credit
    before = client.get(f"/v1/tales/{tale_id}/storyboard", headers=me).json
    ledger_before = entries(tale_id)
    assert balance(client, me) == 7
    long_shots = [
        {"op": "add_shot", "at": 3, "prompt": f"the fox runs, take {i}", "duration_s": 8}
        for i in range(8)
    ]  # 8 s + 64 s = 72 s: 9 credits, 8 more than the tale holds
    refused = problem(patch(client, tale_id, {**me, "If-Match": '"1"'}, *long_shots), 402)
    assert refused["type"].endswith("insufficient-credits")
    assert (refused["needed"], refused["balance"]) == (8, 7)
    after = client.get(f"/v1/tales/{tale_id}/storyboard", headers=me).json
    assert after == before and entries(tale_id) == ledger_before and balance(client, me) == 7

    fits = patch(client, tale_id, {**me, "If-Match": '"1"'}, *long_shots[:7])  # 64 s: 8
    assert fits.status_code == 200 and len(fits.json["shots"]) == 9
    assert entries(tale_id)[-1] == ("reserve_more", -7) and balance(client, me) == 0


def test_removing_shots_lowers_the_estimate_and_what_is_charged(client: Any, token: Tokens) -> None:
    me = token()
    story = {**STORY, "shot_count": 4, "shot_seconds": 8}  # 32 s: 4 credits
    tale_id = planned(client, me, story)
    before = client.get(f"/v1/tales/{tale_id}/storyboard", headers=me).json["estimate"]["usd"]
    done = patch(
        client,
        tale_id,
        {**me, "If-Match": '"1"'},
        {"op": "remove_shot", "shot": 4},
        {"op": "remove_shot", "shot": 3},
    )
    assert done.status_code == 200 and len(done.json["shots"]) == 2
    assert done.json["estimate"]["usd"] < before
    tale = client.get(f"/v1/tales/{tale_id}", headers=me).json
    assert tale["shot_count"] == 2 and tale["estimate"]["usd"] == done.json["estimate"]["usd"]
    assert balance(client, me) == 12  # held until the tale is settled
    assert client.post(f"/v1/tales/{tale_id}/approve", headers=me).status_code == 200
    with LocalRuntime(bootstrap.container()) as runtime:
        runtime.run(timeout=180)
    assert client.get(f"/v1/tales/{tale_id}", headers=me).json["status"] == "completed"
    assert entries(tale_id)[-1] == ("settle", 2)  # 16 s cost 2 credits: 2 returned
    assert balance(client, me) == 14


def test_the_approved_tale_renders_the_edited_storyboard(
    client: Any, token: Tokens, api_settings: Settings
) -> None:
    container = bootstrap.container()
    videos = RecordingVideos(
        container.blobs, height=api_settings.offline_height, fps=api_settings.offline_fps
    )
    bootstrap.configure(api_settings, videos=videos)
    me = token()
    tale_id = planned(client, me)
    read = client.get(f"/v1/tales/{tale_id}/storyboard", headers=me).json
    mina = read["characters"][0]
    done = patch(
        client,
        tale_id,
        {**me, "If-Match": '"1"'},
        {
            "op": "edit_shot",
            "shot": 2,
            "narration": "The fox waved its tail.",
            "prompt": "a fox waves its white-tipped tail on a dune",
            "camera": "close-up",
            "duration_s": 6,
        },
        {"op": "add_shot", "at": 1, "prompt": "a quiet sea at dawn", "narration": "Dawn came."},
        {"op": "edit_character", "name": mina["name"], "description": "a tall girl in a green hat"},
    )
    assert done.status_code == 200, done.data
    edited = done.json["shots"]
    approved = client.post(f"/v1/tales/{tale_id}/approve", headers=me)
    assert approved.status_code == 200
    problem(
        patch(client, tale_id, {**me, "If-Match": '"2"'}, {"op": "remove_shot", "shot": 1}), 409
    )
    with LocalRuntime(bootstrap.container()) as runtime:
        runtime.run(timeout=180)
    final = client.get(f"/v1/tales/{tale_id}", headers=me).json
    assert final["status"] == "completed" and final["shot_count"] == 3
    rendered = sorted(videos.requests, key=lambda r: r.shot.index)
    assert [r.shot.index for r in rendered] == [0, 1, 2]
    assert [
        (r.shot.narration, r.shot.prompt, r.shot.camera.value, r.shot.duration_s) for r in rendered
    ] == [(s["narration"], s["prompt"], s["camera"], s["duration_s"]) for s in edited]
    assert rendered[0].shot.narration == "Dawn came."
    assert rendered[2].shot.narration == "The fox waved its tail."
    assert rendered[2].shot.duration_s == 6 and rendered[2].shot.camera.value == "close-up"
    assert rendered[2].plan.character(mina["name"]).description == "a tall girl in a green hat"
    # the reference was drawn from the edited description, after approval
    storyboard = client.get(f"/v1/tales/{tale_id}/storyboard", headers=me).json
    assert storyboard["characters"][0]["description"] == "a tall girl in a green hat"
    assert storyboard["characters"][0]["image_url"]


@pytest.mark.parametrize("status", ["cancelled"])
def test_an_edit_of_a_finished_tale_is_a_conflict(client: Any, token: Tokens, status: str) -> None:
    me = token()
    tale_id = planned(client, me)
    assert client.post(f"/v1/tales/{tale_id}/cancel", headers=me).status_code == 200
    refused = patch(client, tale_id, {**me, "If-Match": '"1"'}, {"op": "remove_shot", "shot": 1})
    assert problem(refused, 409)["type"].endswith("conflict")
