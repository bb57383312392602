"""The self-hosted model writes up a trend (scenario B), behind the same OpenAI-compatible
server (vLLM) as the planner.

The instructions go in the system message and the trend's facts in the user message; the
answer is constrained with ``response_format`` of type ``json_schema`` (``TrendWriteup``) and
validated anyway, then asked again with the reason, at most ``max_attempts`` times. Each
request is audited first (SHA-256 of the prompt, never the prompt; if the record cannot be
written nothing is sent) and its tokens recorded as usage under the trend id. Errors are
classified like the planner's: 408/425/429/5xx, timeouts and unreachable servers are
transient; other 4xx, a refusal and an egress refusal are permanent.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
from pydantic import ValidationError

from schemas.story import Language
from shared.domain.errors import PermanentError, TransientError
from shared.ports.audit import AuditLog, prompt_hash
from shared.ports.usage import Usage, UsageRecorder
from shared.providers.egress import EgressRefused
from shared.providers.selfhosted.planner import completions_url
from shared.trends.explain import (
    RETRY,
    TEMPERATURE,
    InvalidWriteup,
    TrendExplainer,
    build_facts,
    build_instructions,
    parse_writeup,
    rejection,
)
from shared.trends.models import Explanation, Trend, TrendWriteup

PROVIDER = "self-hosted"
ACTOR = "trend-explainer"
SCHEMA_NAME = "trend_writeup"
_TRANSIENT_STATUS = frozenset({408, 425, 429})


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        error = body.get("error")
        text = error.get("message") if isinstance(error, dict) else error or body.get("message")
        if text:
            return " ".join(str(text).split())[:300]
    return response.text[:300] or response.reason_phrase


def _answer(completion: dict[str, Any]) -> str:
    choices = completion.get("choices")
    choice = choices[0] if isinstance(choices, list) and choices else {}
    message = choice.get("message") if isinstance(choice, dict) else None
    message = message if isinstance(message, dict) else {}
    if message.get("refusal"):
        raise PermanentError(f"the model refused the trend ({message['refusal']})")
    content = message.get("content")
    if not isinstance(content, str) or not content.strip():
        raise InvalidWriteup("the answer had no text")
    return content


class OpenAICompatibleTrendExplainer(TrendExplainer):
    def __init__(
        self,
        http: httpx.Client,
        base_url: str,
        model: str,
        usage: UsageRecorder,
        audit: AuditLog,
        *,
        max_attempts: int = 3,
        api_key: str | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.http = http
        self.url = completions_url(base_url)
        self.model = model
        self.usage = usage
        self.audit = audit
        self.max_attempts = max_attempts
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._format = {
            "type": "json_schema",
            "json_schema": {
                "name": SCHEMA_NAME,
                "schema": TrendWriteup.model_json_schema(),
                "strict": True,
            },
        }

    def explain(self, trend: Trend, language: Language) -> Explanation:
        system, facts = build_instructions(trend, language), build_facts(trend)
        error = ""
        for attempt in range(1, self.max_attempts + 1):
            user = facts + RETRY.format(error=error) if error else facts
            completion = self._complete(trend.trend_id, system, user)
            self._record(trend.trend_id, language, attempt, completion)
            try:
                writeup = parse_writeup(_answer(completion), language)
            except (ValidationError, InvalidWriteup) as exc:
                error = rejection(exc)
                continue
            return Explanation(language=language, writeup=writeup, written_by=self.model)
        raise PermanentError(f"no valid trend write-up after {self.max_attempts} tries: {error}")

    def _complete(self, trend_id: str, system: str, user: str) -> dict[str, Any]:
        self.audit.record(
            actor=ACTOR,
            tale_id=trend_id,
            model=self.model,
            prompt_sha256=prompt_hash(system + user),
        )
        body = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": user},
            ],
            "temperature": TEMPERATURE,
            "response_format": self._format,
        }
        try:
            response = self.http.post(self.url, json=body, headers=self._headers)
        except EgressRefused as exc:
            raise PermanentError(str(exc)) from exc
        except httpx.TimeoutException as exc:
            raise TransientError(f"the model server timed out ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise TransientError(f"the model server is unreachable: {exc}") from exc
        status = response.status_code
        if status in _TRANSIENT_STATUS or status >= 500:
            raise TransientError(f"the model server answered {status}: {_message(response)}")
        if not response.is_success:
            raise PermanentError(f"the model server refused ({status}): {_message(response)}")
        try:
            completion = response.json()
        except ValueError:
            completion = None
        if not isinstance(completion, dict):
            raise PermanentError("the model server's answer is not a chat completion")
        return completion

    def _record(
        self, trend_id: str, language: str, attempt: int, completion: dict[str, Any]
    ) -> None:
        counts = completion.get("usage")
        counts = counts if isinstance(counts, dict) else {}
        self.usage.record(
            Usage(
                tale_id=trend_id,
                key=f"explain:{language}:{attempt}",
                provider=PROVIDER,
                model=self.model,
                units={
                    "input_tokens": int(counts.get("prompt_tokens") or 0),
                    "output_tokens": int(counts.get("completion_tokens") or 0),
                },
                at=time.time(),
            )
        )
