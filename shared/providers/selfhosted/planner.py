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

Time: a plan is a few thousand output tokens, and one GPU decodes them at a rate the
deployment knows (``tokens_per_s``): the answer is *streamed*, so the read timeout applies to
each chunk (a slow but working server is not cut off), and the whole answer has a deadline
sized from the token budget (``max_tokens``) and that rate — capped below the function's own
timeout, so that a slow answer ends in a ``TransientError`` the delivery survives rather than
in the function being killed and the message redelivered forever. ``answer_deadline_s``
computes it; a server that does not stream (a plain completion body) is read as well.

Errors: throttling (429), server errors (5xx), 408, timeouts and unreachable servers are
``TransientError`` (the event is redelivered); any other 4xx is ``PermanentError`` with the
server's message; a refusal by the egress guard is ``PermanentError`` (a configuration error:
the planner's host is not on the allow-list).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
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
from shared.registry import FUNCTIONS

__all__ = ["ACTOR", "PROVIDER", "OpenAICompatiblePlanner"]

PROVIDER = "self-hosted"
#: The actor named in audit records.
ACTOR = "planner"
#: The name of the response schema in ``response_format``.
SCHEMA_NAME = "story_plan"
#: A server's error message is cut to this many characters.
MAX_SERVER_MESSAGE = 500

_TRANSIENT_STATUS = frozenset({408, 425, 429})

#: The plan's output budget (``max_tokens``): an 8-shot plan in JSON is ~1.5-2.5k tokens;
#: 16 shots with Korean narration approach 4k.
PLAN_OUTPUT_TOKENS = 4096
#: Decode rate of one stream on the deployed server. An L4 reads its 300 GB/s of memory once
#: per token: Qwen2.5-7B-Instruct in bf16 (15.2 GB) tops out near 20 tokens/s; 15 leaves
#: room for structured-output overhead and a second request sharing the GPU.
SERVER_TOKENS_PER_S = 15.0
#: The longest gap between two streamed chunks (prefill of a long story comes first).
CHUNK_TIMEOUT_S = 60.0
#: Time kept free at the end of a delivery (recording usage, publishing, the ack).
FUNCTION_MARGIN_S = 45.0


def function_timeout_s(name: str = "plan_story") -> float:
    return float(next(f.timeout_s for f in FUNCTIONS if f.name == name))


def answer_deadline_s(
    output_tokens: int,
    tokens_per_s: float,
    *,
    function_timeout: float,
    chunk_timeout: float = CHUNK_TIMEOUT_S,
    margin: float = FUNCTION_MARGIN_S,
) -> float:
    """How long one streamed answer may take: its token budget at the server's rate, plus a
    quarter and the first chunk's wait (queueing, prefill) — at most what the function's
    timeout leaves (one chunk may overrun a deadline by its read timeout)."""
    if output_tokens < 1 or tokens_per_s <= 0:
        raise ValueError("the token budget and the server's rate must be positive")
    need = output_tokens / tokens_per_s * 1.25 + chunk_timeout
    return min(need, function_timeout - margin - chunk_timeout)


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


def stream_chat_completion(
    http: httpx.Client,
    url: str,
    headers: dict[str, str],
    body: dict[str, Any],
    *,
    server: str,
    deadline_s: float,
    chunk_timeout_s: float = CHUNK_TIMEOUT_S,
    clock: Any = time.monotonic,
) -> dict[str, Any]:
    """POST a streamed chat completion (``stream: true``, usage in the last chunk, as vLLM and
    OpenAI send it) and assemble the answer into a chat completion object. The read timeout
    applies to each chunk; the whole answer must arrive within ``deadline_s``. Errors are
    mapped as ``chat_completion`` maps them; a missed deadline is transient."""
    streamed = body | {"stream": True, "stream_options": {"include_usage": True}}
    timeout = httpx.Timeout(connect=10.0, read=chunk_timeout_s, write=30.0, pool=10.0)
    deadline = clock() + deadline_s
    try:
        with http.stream("POST", url, json=streamed, headers=headers, timeout=timeout) as response:
            status = response.status_code
            if status in _TRANSIENT_STATUS or status >= 500 or not response.is_success:
                response.read()
                _raise_for(response, server)
            if "text/event-stream" not in response.headers.get("content-type", ""):
                response.read()
                return _completion_body(response, server)
            return _assemble(_events(response, server, deadline, deadline_s, clock))
    except EgressRefused as exc:
        raise PermanentError(str(exc)) from exc
    except httpx.TimeoutException as exc:
        raise TransientError(f"{server} stopped answering ({type(exc).__name__})") from exc
    except httpx.TransportError as exc:
        raise TransientError(f"{server} is unreachable: {exc}") from exc


def _raise_for(response: httpx.Response, server: str) -> None:
    status = response.status_code
    if status in _TRANSIENT_STATUS or status >= 500:
        raise TransientError(f"{server} answered {status}: {_server_message(response)}")
    raise PermanentError(f"{server} refused the request ({status}): {_server_message(response)}")


def _completion_body(response: httpx.Response, server: str) -> dict[str, Any]:
    try:
        completion = response.json()
    except ValueError:
        completion = None
    if not isinstance(completion, dict):
        raise PermanentError(f"{server}'s answer is not a chat completion: {response.text[:200]!r}")
    return completion


def _events(
    response: httpx.Response, server: str, deadline: float, deadline_s: float, clock: Any
) -> Iterator[dict[str, Any]]:
    """The JSON payloads of the stream's ``data:`` lines, until ``[DONE]``."""
    for line in response.iter_lines():
        if clock() > deadline:
            raise TransientError(
                f"{server} did not finish the plan within {deadline_s:.0f} s "
                "(its token budget at the server's rate)"
            )
        if not line.startswith("data:"):
            continue  # comments, event names, keep-alives
        data = line.removeprefix("data:").strip()
        if data == "[DONE]":
            return
        try:
            chunk = json.loads(data)
        except ValueError as exc:
            raise PermanentError(f"{server} sent a malformed stream chunk: {data[:200]!r}") from exc
        if isinstance(chunk, dict) and "error" in chunk:
            error = chunk["error"]
            message = error.get("message") if isinstance(error, dict) else error
            raise TransientError(f"{server} failed while streaming: {message}")
        if isinstance(chunk, dict):
            yield chunk


def _assemble(chunks: Iterator[dict[str, Any]]) -> dict[str, Any]:
    """One chat completion from streamed chunks: the first choice's content and refusal
    deltas joined, its finish reason, and the usage of the final chunk."""
    content: list[str] = []
    refusal: list[str] = []
    finish: str | None = None
    usage: dict[str, Any] = {}
    for chunk in chunks:
        if isinstance(chunk.get("usage"), dict):
            usage = chunk["usage"]
        for choice in chunk.get("choices") or []:
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue
            raw = choice.get("delta")
            delta: dict[str, Any] = raw if isinstance(raw, dict) else {}
            if isinstance(delta.get("content"), str):
                content.append(delta["content"])
            if isinstance(delta.get("refusal"), str):
                refusal.append(delta["refusal"])
            finish = choice.get("finish_reason") or finish
    message: dict[str, Any] = {"role": "assistant", "content": "".join(content)}
    if refusal:
        message["refusal"] = "".join(refusal)
    return {"choices": [{"index": 0, "message": message, "finish_reason": finish}], "usage": usage}


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
        max_output_tokens: int = PLAN_OUTPUT_TOKENS,
        tokens_per_s: float = SERVER_TOKENS_PER_S,
        function_timeout: float | None = None,
        clock: Any = time.monotonic,
    ) -> None:
        """``max_output_tokens``: the plan's token budget (sent as ``max_tokens``);
        ``tokens_per_s``: the server's decode rate; ``function_timeout``: the delivery's
        time limit (default: plan_story's in shared/registry.py)."""
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        limit = function_timeout_s() if function_timeout is None else function_timeout
        self.max_output_tokens = max_output_tokens
        self.answer_deadline_s = answer_deadline_s(
            max_output_tokens, tokens_per_s, function_timeout=limit
        )
        #: All attempts of one delivery end this long after it began.
        self.delivery_budget_s = limit - FUNCTION_MARGIN_S - CHUNK_TIMEOUT_S
        self._clock = clock
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
        end = self._clock() + self.delivery_budget_s
        for attempt in range(1, self.max_attempts + 1):
            left = end - self._clock()
            if attempt > 1 and left < min(self.answer_deadline_s, 120.0):
                raise TransientError(
                    f"no time left in this delivery for another plan after: {error}"
                )
            user = story + RETRY_PROMPT.format(error=error) if error else story
            completion = self._complete(tale_id, system, user, min(self.answer_deadline_s, left))
            self._record(tale_id, attempt, completion)
            try:
                return parse_plan(_answer_text(completion), submission)
            except (ValidationError, InvalidPlan) as exc:
                error = rejection(exc)
        raise PermanentError(
            f"the planner returned an invalid plan {self.max_attempts} times: {error}"
        )

    def _complete(self, tale_id: str, system: str, user: str, deadline_s: float) -> dict[str, Any]:
        """One inference: audited, sent, and its answer as a chat completion object."""
        self.audit.record(
            actor=ACTOR,
            tale_id=tale_id,
            model=self.model,
            prompt_sha256=prompt_hash(system + user),
        )
        return stream_chat_completion(
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
                "max_tokens": self.max_output_tokens,
                "response_format": self._response_format,
            },
            server="the planner server",
            deadline_s=deadline_s,
            clock=self._clock,
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
