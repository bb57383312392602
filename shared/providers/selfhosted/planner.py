"""An open model as Tale's planner, behind an OpenAI-compatible server (vLLM) in our project.

The question is scenario A's (``shared.providers.plan_drafts``): the planning rules go in the
system message and the story, between markers, in the user message — together exactly the
Gemini planner's prompt. The answer is constrained to the ``PlanDraft`` JSON schema with the
OpenAI ``response_format`` of type ``json_schema``, which vLLM serves as structured output
(the older ``guided_json`` extra parameter is gone since vLLM 0.12). The constraint is not
trusted: the text is validated against the draft and the plan, plus the rules a schema cannot
state, and an invalid answer is asked again with the reason appended to the user message, at
most ``max_attempts`` times; then the planner gives up with ``PermanentError``.

Each request is one inference: before it is sent, the ``AuditLog`` gets a record with the
SHA-256 of the prompt (the system message followed by the user message; for a first attempt
that is ``prompt_hash(build_prompt(submission))``), never the prompt. If the record cannot
be written, nothing is sent. Token counts go to the ``UsageRecorder`` as ``plan:<attempt>``.

Errors: throttling (429), server errors (5xx), 408, timeouts and unreachable servers are
``TransientError`` (the event is redelivered); any other 4xx is ``PermanentError`` with the
server's message; a refusal by the egress guard is ``PermanentError`` (a configuration error:
the planner's host is not on the allow-list).
"""

from __future__ import annotations

import time
from typing import Any

import httpx
from pydantic import ValidationError

from schemas.plan import StoryPlan
from schemas.story import StorySubmission
from shared.domain.errors import PermanentError, TransientError
from shared.ports.audit import AuditLog, prompt_hash
from shared.ports.generators import Planner
from shared.ports.usage import Usage, UsageRecorder
from shared.providers.egress import EgressRefused
from shared.providers.plan_drafts import (
    RETRY_PROMPT,
    TEMPERATURE,
    InvalidPlan,
    PlanDraft,
    build_instructions,
    build_story_block,
    parse_plan,
    rejection,
)

__all__ = ["ACTOR", "PROVIDER", "OpenAICompatiblePlanner"]

PROVIDER = "self-hosted"
#: The actor named in audit records.
ACTOR = "planner"
#: The name of the response schema in ``response_format``.
SCHEMA_NAME = "story_plan"
#: A server's error message is cut to this many characters.
MAX_SERVER_MESSAGE = 500

_TRANSIENT_STATUS = frozenset({408, 425, 429})


def completions_url(base_url: str) -> str:
    """``{base_url}/v1/chat/completions`` (a base URL that already ends in ``/v1`` is not
    given a second one)."""
    base = base_url.rstrip("/")
    if base.endswith("/v1"):
        return f"{base}/chat/completions"
    return f"{base}/v1/chat/completions"


def chat_completion(
    http: httpx.Client, url: str, headers: dict[str, str], body: dict[str, Any], *, server: str
) -> dict[str, Any]:
    """POST a chat completion request to the OpenAI-compatible server; its answer. A refused
    egress, 4xx answers and a non-completion body are permanent; time-outs, unreachable
    servers, 408/425/429 and 5xx are transient (the message is redelivered)."""
    try:
        response = http.post(url, json=body, headers=headers)
    except EgressRefused as exc:
        raise PermanentError(str(exc)) from exc
    except httpx.TimeoutException as exc:
        raise TransientError(f"{server} timed out ({type(exc).__name__})") from exc
    except httpx.TransportError as exc:
        raise TransientError(f"{server} is unreachable: {exc}") from exc
    status = response.status_code
    if status in _TRANSIENT_STATUS or status >= 500:
        raise TransientError(f"{server} answered {status}: {_server_message(response)}")
    if not response.is_success:
        raise PermanentError(
            f"{server} refused the request ({status}): {_server_message(response)}"
        )
    try:
        completion = response.json()
    except ValueError:
        completion = None
    if not isinstance(completion, dict):
        raise PermanentError(f"{server}'s answer is not a chat completion: {response.text[:200]!r}")
    return completion


def token_units(completion: dict[str, Any]) -> dict[str, float]:
    """The completion's token counts as usage units."""
    counts = completion.get("usage")
    counts = counts if isinstance(counts, dict) else {}
    return {
        "input_tokens": int(counts.get("prompt_tokens") or 0),
        "output_tokens": int(counts.get("completion_tokens") or 0),
    }


def _server_message(response: httpx.Response) -> str:
    """The error message of an OpenAI-shaped (``{"error": {"message"}}``) or vLLM-shaped
    (``{"object": "error", "message"}``) error body, else the body's text."""
    message: Any = None
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            message = error.get("message")
        elif isinstance(error, str):
            message = error
        if not message:
            message = body.get("message") or body.get("detail")
    text = str(message) if message else response.text
    return " ".join(text.split())[:MAX_SERVER_MESSAGE] or response.reason_phrase


def _answer_text(completion: dict[str, Any]) -> str:
    """The first choice's message content; ``InvalidPlan`` when there is none (asked again),
    ``PermanentError`` when the model refused."""
    choices = completion.get("choices")
    choice = choices[0] if isinstance(choices, list) and choices else {}
    choice = choice if isinstance(choice, dict) else {}
    message = choice.get("message")
    message = message if isinstance(message, dict) else {}
    refusal = message.get("refusal")
    if refusal:
        raise PermanentError(f"the planner refused the story ({refusal})")
    finish = choice.get("finish_reason")
    if finish == "length":
        raise InvalidPlan("the answer was cut off at the output token limit; write shorter prompts")
    content = message.get("content")
    if not isinstance(content, str) or not content.strip():
        raise InvalidPlan(f"the answer had no text (finish reason: {finish or 'none'})")
    return content


class OpenAICompatiblePlanner(Planner):
    """Plans a story with a model behind an OpenAI-compatible chat completions endpoint."""

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
        self._response_format = {
            "type": "json_schema",
            "json_schema": {
                "name": SCHEMA_NAME,
                "schema": PlanDraft.model_json_schema(),
                "strict": True,
            },
        }

    def plan(self, submission: StorySubmission, *, tale_id: str = "") -> StoryPlan:
        system = build_instructions(submission)
        story = build_story_block(submission)
        error = ""
        for attempt in range(1, self.max_attempts + 1):
            user = story + RETRY_PROMPT.format(error=error) if error else story
            completion = self._complete(tale_id, system, user)
            self._record(tale_id, attempt, completion)
            try:
                return parse_plan(_answer_text(completion), submission)
            except (ValidationError, InvalidPlan) as exc:
                error = rejection(exc)
        raise PermanentError(
            f"the planner returned an invalid plan {self.max_attempts} times: {error}"
        )

    def _complete(self, tale_id: str, system: str, user: str) -> dict[str, Any]:
        """One inference: audited, sent, and its answer as a chat completion object."""
        self.audit.record(
            actor=ACTOR,
            tale_id=tale_id,
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
                "response_format": self._response_format,
            },
            server="the planner server",
        )

    def _record(self, tale_id: str, attempt: int, completion: dict[str, Any]) -> None:
        units = token_units(completion)
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
