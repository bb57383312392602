"""Revisions of a finished tale through the API: only the chosen shots render again, the tale
is re-stitched, every earlier cut stays, and only the re-rendered seconds are paid for."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import av

from shared import bootstrap
from shared.domain.tale import TaleState
from shared.runtime.local import LocalRuntime
from tests.api.test_api import post, problem

Tokens = Callable[..., dict[str, str]]
STORY = {
    "text": "Mina walked to the sea at dawn. Mina found a fox asleep in the dunes. "
    "The fox woke and followed Mina home. Mina and the fox shared bread by the fire.",
    "shot_count": 4,
    "shot_seconds": 4,
}


def _finished(client: Any, me: dict[str, str]) -> str:
    tale_id = str(post(client, "/v1/tales", me, STORY).json["id"])
    with LocalRuntime(bootstrap.container()) as runtime:
        runtime.run(timeout=120)
    assert client.get(f"/v1/tales/{tale_id}", headers=me).json["status"] == "completed"
    return tale_id


def _run() -> None:
    with LocalRuntime(bootstrap.container()) as runtime:
        runtime.run(timeout=120)


def _frames(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def test_a_revision_renders_one_shot_and_keeps_the_first_cut(client: Any, token: Tokens) -> None:
    me = token()
    tale_id = _finished(client, me)
    c = bootstrap.container()
    first = {s.index: s.clip_path for s in c.store.shots(tale_id)}
    first_video = c.store.find(tale_id).outputs["video"]  # type: ignore[union-attr]
    balance = client.get("/v1/me", headers=me).json["balance"]
    body = {"shots": [{"shot": 3, "prompt": "the fox sleeps under a red lantern"}]}
    started = post(client, f"/v1/tales/{tale_id}/revisions", me, body)
    assert started.status_code == 202, started.json
    assert (started.json["revision"], started.json["credits"]) == (1, 1)
    problem(post(client, f"/v1/tales/{tale_id}/revisions", me, body), 409)  # it is rendering
    _run()
    tale = c.store.find(tale_id)
    assert tale is not None and tale.state is TaleState.COMPLETED and tale.revision == 1
    after = {s.index: s.clip_path for s in c.store.shots(tale_id)}
    assert [i for i in after if after[i] != first[i]] == [2]  # exactly one new clip
    assert c.store.plan(tale_id).shots[2].prompt == body["shots"][0]["prompt"]  # type: ignore[union-attr]
    home = c.home / "blobs"
    assert tale.outputs["video"] != first_video and (home / first_video).exists()
    assert _frames(home / tale.outputs["video"]) == _frames(home / first_video)
    assert client.get("/v1/me", headers=me).json["balance"] == balance - 1
    cuts = client.get(f"/v1/tales/{tale_id}/revisions", headers=me).json
    assert [(k["revision"], k["current"]) for k in cuts["cuts"]] == [(0, False), (1, True)]
    emails = sorted(p.name for p in (c.home / "outbox").glob(f"{tale_id}*.eml"))
    assert len(emails) == 2  # the owner is told once per cut


def test_a_failed_revision_is_refunded(client: Any, token: Tokens) -> None:
    me = token()
    tale_id = _finished(client, me)
    c = bootstrap.container()
    balance = client.get("/v1/me", headers=me).json["balance"]
    started = post(client, f"/v1/tales/{tale_id}/revisions", me, {"shots": [{"shot": 1}]})
    assert started.status_code == 202
    c.store.transition(
        tale_id, [TaleState.RENDERING], TaleState.FAILED, stage="shots", error_reason="x"
    )
    from shared.stages.failure import reannounce_failure

    reannounce_failure(c.store, c.bus, tale_id)
    _run()
    assert client.get("/v1/me", headers=me).json["balance"] == balance
    kinds = [e.kind for e in c.ledger.entries(c.store.find(tale_id).owner)]  # type: ignore[union-attr]
    assert kinds.count("refund") == 1
    # the first cut is still there, and the failed tale may be revised again
    cuts = client.get(f"/v1/tales/{tale_id}/revisions", headers=me).json
    assert [k["revision"] for k in cuts["cuts"]] == [0]
    assert (
        post(client, f"/v1/tales/{tale_id}/revisions", me, {"shots": [{"shot": 2}]}).json[
            "revision"
        ]
        == 2
    )


def test_bad_revisions_and_strangers(client: Any, token: Tokens) -> None:
    me = token()
    tale_id = str(post(client, "/v1/tales", me, STORY).json["id"])
    problem(post(client, f"/v1/tales/{tale_id}/revisions", me, {"shots": [{"shot": 1}]}), 409)
    _run()
    problem(post(client, f"/v1/tales/{tale_id}/revisions", me, {"shots": [{"shot": 9}]}), 422)
    problem(post(client, f"/v1/tales/{tale_id}/revisions", me, {"shots": []}), 422)
    twice = {"shots": [{"shot": 1}, {"shot": 1}]}
    problem(post(client, f"/v1/tales/{tale_id}/revisions", me, twice), 422)
    too_long = {"shots": [{"shot": 1, "narration": "And then the fox ran on " * 8}]}
    refused = post(client, f"/v1/tales/{tale_id}/revisions", me, too_long)
    problem(refused, 422)
    assert "longer than the shot's" in refused.json["detail"]
    stranger = token()
    problem(post(client, f"/v1/tales/{tale_id}/revisions", stranger, {"shots": [{"shot": 1}]}), 404)
    problem(client.get(f"/v1/tales/{tale_id}/revisions", headers=stranger), 404)
