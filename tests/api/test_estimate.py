"""``GET /v1/estimate``: what a tale would cost before it is submitted, through the ``api``
function's real app — the credits admission would reserve, the caller's balance and the
generation estimate the spending cap counts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from shared import bootstrap
from shared.config import Settings
from shared.costs import budget
from shared.domain.credits import tale_cost


def test_the_estimate_before_submitting(client: Any, token: Callable[..., dict[str, str]]) -> None:
    headers = token()
    answer = client.get("/v1/estimate?shot_count=2&shot_seconds=4", headers=headers)
    assert answer.status_code == 200, answer.json
    quote = answer.json
    assert quote["credits"] == tale_cost(2, 4) == 1
    assert quote["balance"] == 16  # a new account's free grant, opened by the request
    settings = bootstrap.container().settings
    expected = budget.estimate(settings, 2, 4, budget.DEFAULT_CHARACTERS)
    assert quote["estimate"]["usd"] == pytest.approx(expected.usd, abs=1e-6)
    assert quote["estimate"]["price_table"] == expected.price_table
    default = client.get("/v1/estimate", headers=headers).json
    assert (default["shot_count"], default["shot_seconds"], default["credits"]) == (8, 8, 8)
    assert default["estimate"]["usd"] > quote["estimate"]["usd"]


def test_what_the_estimate_shows_is_what_submission_reserves(
    client: Any, token: Callable[..., dict[str, str]]
) -> None:
    headers = token()
    quote = client.get("/v1/estimate?shot_count=3&shot_seconds=6", headers=headers).json
    created = client.post(
        "/v1/tales",
        json={"text": "A fox ran home.", "shot_count": 3, "shot_seconds": 6},
        headers=headers,
    )
    assert created.status_code == 201, created.json
    me = client.get("/v1/me", headers=headers).json
    assert me["balance"] == quote["balance"] - quote["credits"]


@pytest.mark.parametrize(
    "query",
    [
        "shot_count=0",
        "shot_count=17",
        "shot_count=two",
        "shot_seconds=5",
        "shot_seconds=-4",
        "language=fr",
        "voice=a%20b",
        "voice=" + "v" * 65,
    ],
)
def test_a_bad_query_is_a_422_in_words(
    client: Any, token: Callable[..., dict[str, str]], query: str
) -> None:
    answer = client.get(f"/v1/estimate?{query}", headers=token())
    assert answer.status_code == 422
    assert answer.json["detail"].startswith(query.split("=")[0] + ":")


def test_the_estimate_needs_a_token(client: Any) -> None:
    assert client.get("/v1/estimate").status_code == 401


def test_the_quote_follows_the_voice_no_narration_costs_less_by_its_stage(
    client: Any, token: Callable[..., dict[str, str]], api_settings: Settings
) -> None:
    bootstrap.configure(api_settings.model_copy(update={"scenario": "A"}))  # narration priced
    headers = token()
    ask = "/v1/estimate?shot_count=2&shot_seconds=4"
    default = client.get(ask, headers=headers).json
    named = client.get(f"{ask}&language=ko&voice=Kore", headers=headers).json
    silent = client.get(f"{ask}&voice=none", headers=headers).json
    assert (default["voice"], named["voice"], silent["voice"]) == ("", "Kore", "none")
    narration = default["estimate"]["by_stage"]["narration"]
    assert narration > 0
    assert named["estimate"] == default["estimate"]
    assert silent["estimate"]["by_stage"] == {**default["estimate"]["by_stage"], "narration": 0}
    assert silent["estimate"]["usd"] == pytest.approx(
        default["estimate"]["usd"] - narration, abs=2e-6
    )
    assert silent["credits"] == default["credits"]  # credits count seconds, not the voice
    # What submission with that voice commits is what the quote said.
    settings = bootstrap.container().settings
    expected = budget.estimate(settings, 2, 4, budget.DEFAULT_CHARACTERS, voice="none")
    assert silent["estimate"]["usd"] == pytest.approx(expected.usd, abs=1e-6)


@pytest.mark.parametrize(
    ("query", "voices"),
    [
        ("language=en&voice=Kore", ["en-us", "en-gb"]),  # Korean's voice, asked for English
        ("voice=Nobody", ["en-us", "en-gb", "ko", "ja", "cmn", "yue"]),  # no language: all
    ],
)
def test_an_unknown_voice_is_the_submissions_422(
    client: Any, token: Callable[..., dict[str, str]], query: str, voices: list[str]
) -> None:
    headers = token()
    answer = client.get(f"/v1/estimate?{query}", headers=headers)
    assert answer.status_code == 422
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.json["type"].endswith("/unknown-voice")
    assert sorted(answer.json["voices"]) == sorted(voices)
    voice = query.rpartition("voice=")[2]
    submitted = client.post(
        "/v1/tales",
        json={"text": "A fox ran home.", "shot_count": 2, "options": {"voice": voice}},
        headers=headers,
    )
    assert submitted.status_code == 422
    assert submitted.json["type"] == answer.json["type"]


def test_a_voice_of_another_language_passes_until_the_language_is_named(
    client: Any, token: Callable[..., dict[str, str]]
) -> None:
    headers = token()
    assert client.get("/v1/estimate?voice=ko", headers=headers).status_code == 200
    assert client.get("/v1/estimate?voice=ko&language=ko", headers=headers).status_code == 200
    refused = client.get("/v1/estimate?voice=ko&language=ja", headers=headers)
    assert refused.status_code == 422 and refused.json["voices"] == ["ja"]
