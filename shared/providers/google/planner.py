"""Gemini as Tale's planner: the story in, a validated ``StoryPlan`` out.

Gemini fills a *draft* — title, characters, scenes and shots — through a response schema
(JSON mode). What Tale decides itself (shot indexes, durations, language, style, aspect ratio,
the schema version) is never asked of the model: the plan is built from the draft and the
submission. The SDK leaves ``response.parsed`` empty when the JSON does not validate, so the
text is always validated here, against the draft and then the plan, plus the rules a schema
cannot state (the shot count, known characters, English prompts, narration in the story's
language). An invalid answer is asked again with the error appended to the prompt, at most
``max_attempts`` times; then the planner gives up with ``PermanentError``.

The draft model, the prompt and the draft-to-plan conversion live in
``shared.providers.plan_drafts``, shared with scenario B's self-hosted planner.
"""

from __future__ import annotations

import time

from google import genai
from google.genai import types
from pydantic import ValidationError

from schemas.plan import StoryPlan
from schemas.story import StorySubmission
from shared.domain.errors import PermanentError
from shared.ports.generators import Planner
from shared.ports.usage import Usage, UsageRecorder
from shared.providers.google.client import SDK_ERRORS, classify
from shared.providers.plan_drafts import (
    MAX_ERROR_CHARS,
    PLAN_PROMPT,
    RETRY_PROMPT,
    TEMPERATURE,
    InvalidPlan,
    PlanDraft,
    build_prompt,
    describe_validation,
    plan_from_draft,
)

__all__ = ["PLAN_PROMPT", "RETRY_PROMPT", "GeminiPlanner", "PlanDraft", "build_prompt"]

PROVIDER = "gemini"


def _no_text_reason(response: types.GenerateContentResponse) -> str:
    candidates = response.candidates or []
    finish = candidates[0].finish_reason if candidates else None
    if finish == types.FinishReason.MAX_TOKENS:
        return "the answer was cut off at the output token limit; write shorter prompts"
    return f"the answer had no text (finish reason: {finish.value if finish else 'none'})"


# --------------------------------------------------------------------------------------
# The planner
# --------------------------------------------------------------------------------------


class GeminiPlanner(Planner):
    """Plans a story with a Gemini model on Vertex AI (JSON mode with a response schema)."""

    def __init__(
        self,
        client: genai.Client,
        model: str,
        usage: UsageRecorder,
        *,
        max_attempts: int = 3,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.client = client
        self.model = model
        self.usage = usage
        self.max_attempts = max_attempts
        self._config = types.GenerateContentConfig(
            response_mime_type="application/json",
            response_schema=PlanDraft,
            temperature=TEMPERATURE,
        )

    def plan(self, submission: StorySubmission, *, tale_id: str = "") -> StoryPlan:
        prompt = build_prompt(submission)
        error = ""
        for attempt in range(1, self.max_attempts + 1):
            contents = prompt + RETRY_PROMPT.format(error=error) if error else prompt
            try:
                response = self.client.models.generate_content(
                    model=self.model, contents=contents, config=self._config
                )
            except SDK_ERRORS as exc:
                raise classify(
                    exc, model=self.model, provider="gemini", setting="TALE_GEMINI_MODEL"
                ) from exc
            self._record(tale_id, attempt, response)
            self._refuse_if_blocked(response)
            try:
                return self._parse(response, submission)
            except ValidationError as exc:
                error = describe_validation(exc)
            except InvalidPlan as exc:
                error = str(exc)
            error = error[:MAX_ERROR_CHARS]
        raise PermanentError(
            f"the planner returned an invalid plan {self.max_attempts} times: {error}"
        )

    def _parse(
        self, response: types.GenerateContentResponse, submission: StorySubmission
    ) -> StoryPlan:
        candidates = response.candidates or []
        if candidates and candidates[0].finish_reason == types.FinishReason.MAX_TOKENS:
            raise InvalidPlan(_no_text_reason(response))
        text = response.text
        if not text or not text.strip():
            raise InvalidPlan(_no_text_reason(response))
        draft = PlanDraft.model_validate_json(text)
        return plan_from_draft(draft, submission)

    @staticmethod
    def _refuse_if_blocked(response: types.GenerateContentResponse) -> None:
        """A story the model refuses outright: asking again cannot help."""
        feedback = response.prompt_feedback
        if feedback is not None and feedback.block_reason is not None:
            detail = feedback.block_reason_message or feedback.block_reason.value
            raise PermanentError(f"the planner refused the story ({detail})")

    def _record(self, tale_id: str, attempt: int, response: types.GenerateContentResponse) -> None:
        metadata = response.usage_metadata
        units: dict[str, float] = {"input_tokens": 0, "output_tokens": 0}
        if metadata is not None:
            units["input_tokens"] = metadata.prompt_token_count or 0
            # Thinking tokens are billed as output tokens.
            units["output_tokens"] = (metadata.candidates_token_count or 0) + (
                metadata.thoughts_token_count or 0
            )
        self.usage.record(
            Usage(
                tale_id=tale_id,
                key=f"plan:{attempt}",
                provider=PROVIDER,
                model=self.model,
                units=units,
                at=time.time(),
            )
        )
