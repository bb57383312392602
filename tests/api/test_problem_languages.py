"""Problem documents in the reader's language, through functions-framework's real app: title
and detail follow ``Accept-Language`` (ko, en, ja, zh), the ``type`` URI and the members a
program reads never change, and English is the default."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from shared.i18n import LANGUAGES, message

Tokens = Callable[..., dict[str, str]]

TITLES = {
    "not-found": {"en": "Not found", "ko": "찾을 수 없음", "ja": "見つかりません", "zh": "未找到"},
    "invalid-request": {
        "en": "Invalid request",
        "ko": "유효하지 않은 요청",
        "ja": "無効なリクエスト",
        "zh": "无效的请求",
    },
    "unauthorized": {
        "en": "Not authenticated",
        "ko": "인증되지 않음",
        "ja": "認証されていません",
        "zh": "未认证",
    },
}


def doc(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert "Accept-Language" in response.headers.get("Vary", "")
    body: dict[str, Any] = response.get_json()
    assert body["type"].startswith("https://tale.dev/problems/") and body["status"] == status
    return body


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_missing_tale_in_each_language(client: Any, token: Tokens, language: str) -> None:
    headers = {**token(), "Accept-Language": f"{language}-XX, en;q=0.5"}
    body = doc(client.get("/v1/tales/tale-0123456789", headers=headers), 404)
    assert body["type"] == "https://tale.dev/problems/not-found"
    assert body["title"] == TITLES["not-found"][language]
    assert body["detail"] == message(
        language, "problem.detail.does-not-exist-tale", tale_id="tale-0123456789"
    )
    assert client.get("/v1/tales/x", headers=headers).headers["Content-Language"] == language


@pytest.mark.parametrize("language", LANGUAGES)
def test_field_errors_in_each_language(client: Any, token: Tokens, language: str) -> None:
    headers = {**token(), "Accept-Language": language, "Content-Type": "application/json"}
    response = client.post("/v1/tales", headers=headers, json={"text": "x", "shot_count": 99})
    body = doc(response, 422)
    assert body["type"] == "https://tale.dev/problems/invalid-request"
    assert body["title"] == TITLES["invalid-request"][language]
    said = message(language, "validation.less_than_equal", le=16)
    assert body["errors"] == [{"field": "shot_count", "message": said}]
    assert said in body["detail"] and "shot_count" in body["detail"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_unknown_endpoint_and_no_token(client: Any, language: str) -> None:
    headers = {"Accept-Language": language}
    body = doc(client.get("/v1/nowhere", headers=headers), 404)
    assert body["detail"] == message(language, "problem.detail.no-endpoint", path="/v1/nowhere")
    unauthorized = doc(client.get("/v1/tales", headers=headers), 401)
    assert unauthorized["title"] == TITLES["unauthorized"][language]
    assert unauthorized["type"] == "https://tale.dev/problems/unauthorized"


def test_english_without_accept_language_and_for_languages_tale_does_not_speak(
    client: Any, token: Tokens
) -> None:
    for extra in ({}, {"Accept-Language": "fr-FR, de;q=0.8"}):
        body = doc(client.get("/v1/tales/tale-0123456789", headers={**token(), **extra}), 404)
        assert body["title"] == "Not found"
        assert body["detail"] == "tale tale-0123456789 does not exist"


def test_the_users_own_language_without_accept_language(client: Any) -> None:
    """The profile's language (the token's ``user_metadata.language``, set by the web app)
    answers when the request asks for none; ``Accept-Language`` still wins."""
    from shared import bootstrap

    signer = bootstrap.container().signer
    assert signer is not None
    minted = signer.mint(
        "6f1c1c4e-0000-4000-8000-0000000000aa",
        "hana@example.com",
        extra_claims={"user_metadata": {"language": "ja-JP"}},
    )
    headers = {"Authorization": f"Bearer {minted}"}
    body = doc(client.get("/v1/tales/tale-0123456789", headers=headers), 404)
    assert body["title"] == "見つかりません"
    asked = {**headers, "Accept-Language": "ko"}
    assert doc(client.get("/v1/tales/tale-0123456789", headers=asked), 404)["title"] == (
        "찾을 수 없음"
    )


def test_the_best_language_by_quality(client: Any, token: Tokens) -> None:
    headers = {**token(), "Accept-Language": "en;q=0.3, zh-Hans;q=0.9, ja;q=0.8"}
    body = doc(client.get("/v1/tales/tale-0123456789", headers=headers), 404)
    assert body["title"] == "未找到"
