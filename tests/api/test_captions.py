"""GET /v1/tales/{id}/captions.srt and .vtt through functions-framework's real app."""

from __future__ import annotations

from typing import Any

import pytest

from shared import bootstrap
from shared.media.narration import SLACK_S
from shared.runtime.local import LocalRuntime
from tests.api.test_api import STORY, Tokens, post, problem


def test_the_owner_gets_the_captions_once_the_tale_is_finished(client: Any, token: Tokens) -> None:
    me = token()
    tale_id = post(client, "/v1/tales", me, STORY).json["id"]
    problem(client.get(f"/v1/tales/{tale_id}/captions.vtt", headers=me), 409)  # not yet
    with LocalRuntime(bootstrap.container()) as runtime:
        runtime.run(timeout=120)
    assert client.get(f"/v1/tales/{tale_id}", headers=me).json["status"] == "completed"
    srt = client.get(f"/v1/tales/{tale_id}/captions.srt", headers=me)
    assert srt.status_code == 200 and srt.mimetype == "application/x-subrip"
    assert srt.headers["Content-Type"] == "application/x-subrip; charset=utf-8"
    assert f'filename="{tale_id}.srt"' in srt.headers["Content-Disposition"]
    vtt = client.get(f"/v1/tales/{tale_id}/captions.vtt", headers=me)
    assert vtt.status_code == 200 and vtt.mimetype == "text/vtt"
    text = vtt.data.decode("utf-8")
    assert text.startswith("WEBVTT\n\n")
    # Two shots, one short sentence each: a cue each, inside its 4 seconds.
    assert srt.data.decode("utf-8").count(" --> ") == text.count(" --> ") == 2
    # each voice starts on the first AAC frame at or after 150 ms into its shot (spliced as
    # narrate_shot prepared it: shared.media.narration), its cue with it
    starts = [float(line[6:12]) for line in text.splitlines() if " --> " in line]
    assert [round(start - shot, 3) for start, shot in zip(starts, (0, 4), strict=True)] == [
        pytest.approx(0.15, abs=SLACK_S + 0.001)
    ] * 2
    other = token()
    problem(client.get(f"/v1/tales/{tale_id}/captions.srt", headers=other), 404)
    problem(client.get(f"/v1/tales/{tale_id}/captions.vtt"), 401)
    problem(client.get(f"/v1/tales/{tale_id}/captionsXvtt", headers=me), 404)


def test_the_openapi_document_describes_the_caption_files(client: Any) -> None:
    paths = client.get("/v1/openapi.json").get_json()["paths"]
    for suffix, media_type in (("srt", "application/x-subrip"), ("vtt", "text/vtt")):
        answer = paths[f"/v1/tales/{{tale_id}}/captions.{suffix}"]["get"]["responses"]["200"]
        assert answer["content"] == {media_type: {"schema": {"type": "string"}}}
