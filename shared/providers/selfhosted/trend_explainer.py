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
from shared.domain.errors import PermanentError
from shared.ports.audit import AuditLog, prompt_hash
from shared.ports.usage import Usage, UsageRecorder
from shared.providers.selfhosted.planner import chat_completion, completions_url, token_units
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
                writeup = parse_writeup(_answer(completion), language, trend)
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
        return chat_completion(
            self.http,
            self.url,
            self._headers,
            {
                "model": self.model,
                "messages": [
                    {"role": "system", "content": system},
                    {"role": "user", "content": user},
                ],
                "temperature": TEMPERATURE,
                "response_format": self._format,
            },
            server="the model server",
        )

    def _record(
        self, trend_id: str, language: str, attempt: int, completion: dict[str, Any]
    ) -> None:
        self.usage.record(
            Usage(
                tale_id=trend_id,
                key=f"explain:{language}:{attempt}",
                provider=PROVIDER,
                model=self.model,
                units=token_units(completion),
                at=time.time(),
            )
        )
