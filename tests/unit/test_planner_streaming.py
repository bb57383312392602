"""The self-hosted planner streams its answer: a vLLM-shaped server-sent-event stream
(``chat.completion.chunk`` objects, usage in the last chunk, ``data: [DONE]``) through an
``httpx.MockTransport``; the read timeout applies per chunk, the whole answer has a deadline
sized from the plan's token budget and the server's rate, below the function's timeout."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.domain.errors import PermanentError, TransientError
from shared.providers.selfhosted.planner import (
    CHUNK_TIMEOUT_S,
    FUNCTION_MARGIN_S,
    PLAN_OUTPUT_TOKENS,
    SERVER_TOKENS_PER_S,
    OpenAICompatiblePlanner,
    answer_deadline_s,
    function_timeout_s,
)
from shared.registry import FUNCTIONS
from tests.unit.test_selfhosted_planner import BASE_URL, MODEL, draft, submission

SSE = {"content-type": "text/event-stream; charset=utf-8"}


def vllm_chunks(text: str, *, pieces: int = 7, finish: str = "stop") -> list[dict[str, Any]]:
    """What vLLM's OpenAI server sends for ``stream: true`` with ``include_usage``."""
    head = {
        "id": "chatcmpl-7c1",
        "object": "chat.completion.chunk",
        "created": 1764547200,
        "model": MODEL,
    }
    size = -(-len(text) // pieces)
    chunks = [
        head
        | {
            "choices": [
                {
                    "index": 0,
                    "delta": {"role": "assistant", "content": ""},
                    "logprobs": None,
                    "finish_reason": None,
                }
            ]
        }
    ]
    for start in range(0, len(text), size):
        delta = {"content": text[start : start + size]}
        chunk = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}
        chunks.append(head | {"choices": [chunk]})
    last = {"index": 0, "delta": {"content": ""}, "logprobs": None, "finish_reason": finish}
    chunks.append(head | {"choices": [last | {"stop_reason": None}]})
    usage = {"prompt_tokens": 1800, "total_tokens": 2700, "completion_tokens": 900}
    chunks.append(head | {"choices": [], "usage": usage})
    return chunks


class Stream(httpx.SyncByteStream):
    def __init__(self, chunks: list[dict[str, Any]], fail_after: int | None = None) -> None:
        self.chunks = chunks
        self.fail_after = fail_after

    def __iter__(self) -> Iterator[bytes]:
        for n, chunk in enumerate(self.chunks):
            if n == self.fail_after:
                raise httpx.ReadTimeout("no chunk within the read timeout")
            yield f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode()
        yield b"data: [DONE]\n\n"


class Server:
    def __init__(self, *answers: httpx.Response) -> None:
        self.answers = list(answers)
        self.bodies: list[dict[str, Any]] = []
        self.timeouts: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(json.loads(request.content))
        self.timeouts.append(request.extensions["timeout"])
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


def streamed(text: str, *, pieces: int = 7, fail_after: int | None = None) -> httpx.Response:
    chunks = vllm_chunks(text, pieces=pieces)
    return httpx.Response(200, headers=SSE, stream=Stream(chunks, fail_after=fail_after))


class Clock:
    """Advances ``step`` seconds every time it is read."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def planner(server: Server, tmp_path: Path, **kw: Any) -> OpenAICompatiblePlanner:
    from shared.adapters.local.audit import SqliteAudit
    from shared.adapters.local.usage import SqliteUsage

    http = httpx.Client(transport=httpx.MockTransport(server))
    usage, audit = SqliteUsage(tmp_path / "usage.db"), SqliteAudit(tmp_path / "audit.db")
    return OpenAICompatiblePlanner(http, BASE_URL, MODEL, usage, audit, **kw)


def test_a_streamed_plan_is_assembled_with_its_usage(tmp_path: Path) -> None:
    server = Server(streamed(json.dumps(draft(), ensure_ascii=False)))
    rig = planner(server, tmp_path)
    plan = rig.plan(submission(), tale_id="tale-1")
    assert [c.name for c in plan.characters] == ["서연", "달토끼"] and len(plan.shots) == 3
    body = server.bodies[0]
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["max_tokens"] == PLAN_OUTPUT_TOKENS
    assert server.timeouts[0]["read"] == CHUNK_TIMEOUT_S  # per chunk, not for the answer
    (usage,) = rig.usage.for_tale("tale-1")
    assert usage.units == {"input_tokens": 1800, "output_tokens": 900}


def test_a_cut_off_stream_is_asked_again(tmp_path: Path) -> None:
    text = json.dumps(draft(), ensure_ascii=False)
    cut = httpx.Response(200, headers=SSE, stream=Stream(vllm_chunks(text[:40], finish="length")))
    server = Server(cut, streamed(text))
    assert len(planner(server, tmp_path).plan(submission()).shots) == 3
    assert len(server.bodies) == 2


def test_a_stalled_stream_is_transient(tmp_path: Path) -> None:
    server = Server(streamed(json.dumps(draft()), fail_after=3))
    with pytest.raises(TransientError, match="stopped answering"):
        planner(server, tmp_path).plan(submission())


def test_a_slow_answer_ends_at_its_deadline_not_at_the_function_timeout(tmp_path: Path) -> None:
    server = Server(streamed(json.dumps(draft()), pieces=50))
    slow = planner(server, tmp_path, clock=Clock(step=20.0))  # 20 s between chunks
    with pytest.raises(TransientError, match="did not finish the plan within"):
        slow.plan(submission())
    assert len(server.bodies) == 1


def test_errors_before_the_stream_keep_their_meaning(tmp_path: Path) -> None:
    for status, error in ((503, TransientError), (429, TransientError), (400, PermanentError)):
        answer = httpx.Response(status, json={"object": "error", "message": "nope", "code": status})
        with pytest.raises(error):
            planner(Server(answer), tmp_path).plan(submission())


def test_the_deadline_is_sized_from_the_token_budget_and_the_servers_rate() -> None:
    limit = function_timeout_s()
    assert limit == next(f.timeout_s for f in FUNCTIONS if f.name == "plan_story")
    default = answer_deadline_s(PLAN_OUTPUT_TOKENS, SERVER_TOKENS_PER_S, function_timeout=limit)
    assert default == pytest.approx(PLAN_OUTPUT_TOKENS / SERVER_TOKENS_PER_S * 1.25 + 60)
    # The default plan fits a delivery, with room for the last chunk and the bookkeeping.
    assert default + CHUNK_TIMEOUT_S + FUNCTION_MARGIN_S <= limit
    # The old fixed 60 s would cut a 2-4k-token plan on one L4 (~20 tokens/s) every time.
    assert answer_deadline_s(3000, 20.0, function_timeout=limit) > 60 + 3000 / 20.0
    # A budget the function cannot hold is capped below its timeout.
    capped = answer_deadline_s(16_000, SERVER_TOKENS_PER_S, function_timeout=limit)
    assert capped == limit - FUNCTION_MARGIN_S - CHUNK_TIMEOUT_S
    with pytest.raises(ValueError):
        answer_deadline_s(0, 15.0, function_timeout=limit)


def test_the_settings_size_the_deployed_planner(tmp_path: Path) -> None:
    from shared.bootstrap import Container
    from shared.config import Settings

    settings = Settings(
        home=tmp_path,
        scenario="B",
        planner_url="http://vllm.internal:8000",
        egress_allow=["vllm.internal"],
        gpu_job="projects/p/locations/l/jobs/j",
        planner_output_tokens=2048,
        planner_tokens_per_s=30.0,
    )
    built = Container(settings).planner
    assert isinstance(built, OpenAICompatiblePlanner)
    assert built.max_output_tokens == 2048
    expected = answer_deadline_s(2048, 30.0, function_timeout=function_timeout_s())
    assert built.answer_deadline_s == expected
