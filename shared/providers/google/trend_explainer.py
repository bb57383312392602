"""Gemini writes up a trend (scenario A): structured output with ``TrendWriteup`` as the
response schema, through the same google-genai client (Vertex AI) as the planner.

The SDK's own retries handle throttling and server errors; what is left is classified as the
planner does (``classify``: transient → redelivered later, permanent → the analysis uses the
offline summary instead). An answer that does not validate — schema, then language — is asked
again with the reason appended, at most ``max_attempts`` times. Each call's tokens are
recorded as usage under the trend id (``explain:<language>:<attempt>``).
"""

from __future__ import annotations

import time

from google import genai
from google.genai import types
from pydantic import ValidationError

from schemas.story import Language
from shared.domain.errors import PermanentError
from shared.ports.usage import Usage, UsageRecorder
from shared.providers.google.client import SDK_ERRORS, classify
from shared.trends.explain import (
    RETRY,
    TEMPERATURE,
    InvalidWriteup,
    TrendExplainer,
    build_prompt,
    parse_writeup,
    rejection,
)
from shared.trends.models import Explanation, Trend, TrendWriteup

PROVIDER = "gemini"


class GeminiTrendExplainer(TrendExplainer):
    def __init__(
        self, client: genai.Client, model: str, usage: UsageRecorder, *, max_attempts: int = 3
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.client = client
        self.model = model
        self.usage = usage
        self.max_attempts = max_attempts
        self._config = types.GenerateContentConfig(
            response_mime_type="application/json",
            response_schema=TrendWriteup,
            temperature=TEMPERATURE,
        )

    def explain(self, trend: Trend, language: Language) -> Explanation:
        prompt = build_prompt(trend, language)
        error = ""
        for attempt in range(1, self.max_attempts + 1):
            contents = prompt + RETRY.format(error=error) if error else prompt
            try:
                response = self.client.models.generate_content(
                    model=self.model, contents=contents, config=self._config
                )
            except SDK_ERRORS as exc:
                raise classify(
                    exc, model=self.model, provider="gemini", setting="TALE_GEMINI_MODEL"
                ) from exc
            self._record(trend.trend_id, language, attempt, response)
            feedback = response.prompt_feedback
            if feedback is not None and feedback.block_reason is not None:
                raise PermanentError(f"the model refused the trend ({feedback.block_reason.value})")
            try:
                writeup = parse_writeup(response.text or "", language, trend)
            except (ValidationError, InvalidWriteup) as exc:
                error = rejection(exc)
                continue
            return Explanation(language=language, writeup=writeup, written_by=self.model)
        raise PermanentError(f"no valid trend write-up after {self.max_attempts} tries: {error}")

    def _record(
        self, trend_id: str, language: str, attempt: int, response: types.GenerateContentResponse
    ) -> None:
        meta = response.usage_metadata
        units: dict[str, float] = {"input_tokens": 0, "output_tokens": 0}
        if meta is not None:
            units["input_tokens"] = meta.prompt_token_count or 0
            units["output_tokens"] = (meta.candidates_token_count or 0) + (
                meta.thoughts_token_count or 0
            )
        self.usage.record(
            Usage(
                tale_id=trend_id,
                key=f"explain:{language}:{attempt}",
                provider=PROVIDER,
                model=self.model,
                units=units,
                at=time.time(),
            )
        )
