"""OpenAICompatiblePlanner against a vLLM stand-in: an ``httpx.MockTransport`` that answers
``POST /v1/chat/completions`` with OpenAI-shaped chat completions (``choices[].message``,
``finish_reason``, ``usage``) and errors as vLLM sends them, and records every request."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from schemas.story import StorySubmission, Style
from shared.adapters.local.audit import SqliteAudit
from shared.adapters.local.usage import SqliteUsage
from shared.domain.errors import PermanentError, TransientError
from shared.ports.audit import prompt_hash
from shared.providers.egress import guarded_client
from shared.providers.plan_drafts import PlanDraft, build_prompt
from shared.providers.selfhosted.planner import OpenAICompatiblePlanner

BASE_URL = "http://vllm.tale.internal:8000"
MODEL = "Qwen/Qwen2.5-32B-Instruct"
HANGUL = re.compile("[\uac00-\ud7a3]")

KO_STORY = (
    "서연이와 달토끼\n\n"
    "보름달이 뜬 밤, 서연이는 창가에 앉아 달을 보았다.\n\n"
    "정원에 하얀 달토끼가 내려왔다. 서연이와 달토끼는 함께 별을 세었다."
)
EN_STORY = "The Fox and the Lantern\n\nA small red fox found a paper lantern by the river."
SEOYEON = "a seven-year-old girl with a short black bob, round cheeks, yellow pajamas with stars"
RABBIT = "a small white rabbit with silver-tipped ears and a faint glowing crescent on its brow"

# --------------------------------------------------------------------------------------
# The vLLM stand-in
# --------------------------------------------------------------------------------------


class FakeVllm:
    """Answers from a script of responses (or exceptions); the last one repeats."""

    def __init__(self, *script: httpx.Response | Exception) -> None:
        self.script = list(script)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(step, Exception):
            raise step
        return step

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests]

    def messages(self, index: int) -> tuple[str, str]:
        system, user = self.bodies[index]["messages"]
        assert (system["role"], user["role"]) == ("system", "user")
        return system["content"], user["content"]


def completion(
    payload: dict[str, Any] | str | None,
    *,
    prompt_tokens: int = 1500,
    completion_tokens: int = 900,
    finish: str = "stop",
    refusal: str | None = None,
) -> httpx.Response:
    content = (
        payload
        if payload is None or isinstance(payload, str)
        else json.dumps(payload, ensure_ascii=False)
    )
    return httpx.Response(
        200,
        json={
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1735689600,
            "model": MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": content,
                        "refusal": refusal,
                        "tool_calls": [],
                        "reasoning_content": None,
                    },
                    "logprobs": None,
                    "finish_reason": finish,
                    "stop_reason": None,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
                "prompt_tokens_details": None,
            },
            "prompt_logprobs": None,
        },
    )


def vllm_error(code: int, message: str, kind: str = "BadRequestError") -> httpx.Response:
    """vLLM's ``ErrorResponse`` (OpenAI's ``{"error": {...}}`` shape)."""
    return httpx.Response(
        code, json={"error": {"message": message, "type": kind, "param": None, "code": code}}
    )


def draft(shots: int = 3, **changes: Any) -> dict[str, Any]:
    """A valid Korean draft; shot 2 paraphrases the rabbit instead of copying its description."""
    prompts = [
        f"Wide establishing shot of a cozy bedroom at night, moonlight through the window. "
        f"{SEOYEON} sits by the window looking up at the full moon.",
        f"Medium shot in a moonlit garden. {SEOYEON} kneels beside {RABBIT}, both smiling.",
        "Close-up of a little white rabbit with glowing ears counting stars in the night sky.",
    ]
    cameras = ["wide establishing shot", "medium shot", "close-up"]
    cast = [["서연"], ["서연", "달토끼"], ["달토끼"]]
    narration = [
        "보름달이 뜬 밤, 서연이는 창가에 앉았어요.",
        "정원에 하얀 달토끼가 내려왔어요.",
        "달토끼는 별을 하나, 둘 세었어요.",
    ]
    body: dict[str, Any] = {
        "title": "서연이와 달토끼",
        "characters": [
            {"name": "서연", "description": SEOYEON},
            {"name": "달토끼", "description": RABBIT},
        ],
        "scenes": [
            {"setting": "a child's bedroom at night", "summary": "서연이가 달을 본다."},
            {"setting": "a moonlit garden", "summary": "서연이와 달토끼가 별을 센다."},
        ],
        "shots": [
            {
                "scene_index": 0 if i == 0 else 1,
                "prompt": prompts[i % 3],
                "camera": cameras[i % 3],
                "characters": cast[i % 3],
                "narration": narration[i % 3],
            }
            for i in range(shots)
        ],
    }
    body.update(changes)
    return body


def submission(**kw: Any) -> StorySubmission:
    values: dict[str, Any] = {
        "text": KO_STORY,
        "shot_count": 3,
        "shot_seconds": 6,
        "style": Style.WATERCOLOR,
        "aspect_ratio": "16:9",
    }
    values.update(kw)
    return StorySubmission(**values)


class Rig:
    def __init__(self, fake: FakeVllm, tmp_path: Path, **kw: Any) -> None:
        self.fake = fake
        self.usage = SqliteUsage(tmp_path / "usage.db")
        self.audit_path = tmp_path / "audit.db"
        self.audit = SqliteAudit(self.audit_path)
        http = kw.pop("http", None) or httpx.Client(transport=httpx.MockTransport(fake))
        self.planner = OpenAICompatiblePlanner(
            http, kw.pop("base_url", BASE_URL), MODEL, self.usage, self.audit, **kw
        )

    def audit_bytes(self) -> bytes:
        files = [self.audit_path, self.audit_path.with_name(self.audit_path.name + "-wal")]
        return b"".join(f.read_bytes() for f in files if f.exists())


# --------------------------------------------------------------------------------------
# Plans
# --------------------------------------------------------------------------------------


def test_valid_korean_plan_first_time(tmp_path: Path) -> None:
    rig = Rig(FakeVllm(completion(draft())), tmp_path)

    plan = rig.planner.plan(submission(), tale_id="tale-1")

    assert len(rig.fake.requests) == 1
    assert plan.language == "ko" and plan.title == "서연이와 달토끼"
    assert (plan.style, plan.aspect_ratio) == (Style.WATERCOLOR, "16:9")
    assert [s.index for s in plan.shots] == [0, 1, 2]
    assert all(s.duration_s == 6 for s in plan.shots)
    assert all(HANGUL.search(s.narration) for s in plan.shots)  # narration stays Korean
    assert not any(HANGUL.search(s.prompt) for s in plan.shots)  # prompts are English
    assert plan.shots[0].narration == "보름달이 뜬 밤, 서연이는 창가에 앉았어요."
    # The paraphrased rabbit gets its description appended verbatim.
    assert RABBIT in plan.shots[2].prompt
    assert [c.name for c in plan.characters] == ["서연", "달토끼"]


def test_english_story(tmp_path: Path) -> None:
    fox = "a small red fox with a white-tipped tail and amber eyes"
    body = {
        "title": "The Fox and the Lantern",
        "characters": [{"name": "Fox", "description": fox}],
        "scenes": [{"setting": "a riverbank at dusk", "summary": "The fox finds a lantern."}],
        "shots": [
            {
                "scene_index": 0,
                "prompt": f"Wide establishing shot of a riverbank at dusk, {fox} sniffing.",
                "camera": "wide establishing shot",
                "characters": ["Fox"],
                "narration": "A small red fox found a paper lantern.",
            }
        ],
    }
    rig = Rig(FakeVllm(completion(body)), tmp_path)

    plan = rig.planner.plan(StorySubmission(text=EN_STORY, shot_count=1), tale_id="tale-en")

    assert plan.language == "en" and plan.shots[0].narration.startswith("A small red fox")
    system, user = rig.fake.messages(0)
    assert "English" in system and EN_STORY in user


def test_request_is_a_chat_completion_with_the_plan_draft_schema(tmp_path: Path) -> None:
    rig = Rig(FakeVllm(completion(draft())), tmp_path, api_key="sk-internal")
    sub = submission()

    rig.planner.plan(sub, tale_id="tale-2")

    [request] = rig.fake.requests
    assert request.method == "POST"
    assert str(request.url) == f"{BASE_URL}/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-internal"
    body = rig.fake.bodies[0]
    assert body["model"] == MODEL
    assert body["temperature"] == 0.4
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {
            "name": "story_plan",
            "schema": PlanDraft.model_json_schema(),
            "strict": True,
        },
    }
    system, user = rig.fake.messages(0)
    # The rules in the system message, the story (only) in the user message: together the
    # same prompt scenario A sends.
    assert KO_STORY not in system and "exactly 3 shots" in system
    assert KO_STORY in user and user.startswith("The story, between the markers")
    assert system + user == build_prompt(sub)


def test_base_url_with_v1_and_no_api_key(tmp_path: Path) -> None:
    rig = Rig(FakeVllm(completion(draft())), tmp_path, base_url=f"{BASE_URL}/v1/")

    rig.planner.plan(submission())

    [request] = rig.fake.requests
    assert str(request.url) == f"{BASE_URL}/v1/chat/completions"
    assert "authorization" not in request.headers


# --------------------------------------------------------------------------------------
# Validation and retries
# --------------------------------------------------------------------------------------


def test_invalid_json_then_valid(tmp_path: Path) -> None:
    rig = Rig(FakeVllm(completion('{"title": "서연'), completion(draft())), tmp_path)

    plan = rig.planner.plan(submission(), tale_id="tale-3")

    assert len(plan.shots) == 3
    assert len(rig.fake.requests) == 2
    first_system, first_user = rig.fake.messages(0)
    second_system, second_user = rig.fake.messages(1)
    assert second_system == first_system
    assert "rejected" not in first_user
    assert second_user.startswith(first_user)
    assert "Your previous answer was rejected" in second_user
    assert "json" in second_user.lower()


def test_rule_violations_are_explained_on_retry(tmp_path: Path) -> None:
    wrong = draft(shots=2)
    wrong["shots"][0]["characters"] = ["서연", "할머니"]
    rig = Rig(FakeVllm(completion(wrong), completion(draft())), tmp_path)

    rig.planner.plan(submission())

    _, retry = rig.fake.messages(1)
    assert "the plan has 2 shots, but exactly 3 are required" in retry
    assert "할머니" in retry


def test_truncated_answer_is_retried(tmp_path: Path) -> None:
    rig = Rig(FakeVllm(completion('{"title": "서', finish="length"), completion(draft())), tmp_path)

    rig.planner.plan(submission())

    _, retry = rig.fake.messages(1)
    assert "cut off at the output token limit" in retry


def test_empty_answer_is_retried(tmp_path: Path) -> None:
    rig = Rig(FakeVllm(completion(None), completion(draft())), tmp_path)

    rig.planner.plan(submission())

    _, retry = rig.fake.messages(1)
    assert "the answer had no text (finish reason: stop)" in retry


def test_invalid_forever_is_permanent_after_max_attempts(tmp_path: Path) -> None:
    rig = Rig(FakeVllm(completion(draft(shots=5))), tmp_path, max_attempts=3)

    with pytest.raises(PermanentError, match="invalid plan 3 times") as caught:
        rig.planner.plan(submission(), tale_id="tale-4")

    assert "exactly 3 are required" in str(caught.value)
    assert len(rig.fake.requests) == 3
    assert [u.key for u in rig.usage.for_tale("tale-4")] == ["plan:1", "plan:2", "plan:3"]
    assert len(rig.audit.for_tale("tale-4")) == 3


def test_refusal_is_permanent_at_once(tmp_path: Path) -> None:
    rig = Rig(FakeVllm(completion(None, refusal="I can't help with that.")), tmp_path)

    with pytest.raises(PermanentError, match="refused the story"):
        rig.planner.plan(submission())

    assert len(rig.fake.requests) == 1


def test_max_attempts_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        Rig(FakeVllm(completion(draft())), tmp_path, max_attempts=0)


# --------------------------------------------------------------------------------------
# HTTP errors
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(503, text="Service Unavailable"),
        vllm_error(500, "EngineCore encountered an issue", "InternalServerError"),
        vllm_error(429, "Too many requests", "RateLimitError"),
        httpx.ReadTimeout("timed out"),
        httpx.ConnectError("connection refused"),
    ],
    ids=["503", "500", "429", "timeout", "unreachable"],
)
def test_server_trouble_is_transient(tmp_path: Path, answer: httpx.Response | Exception) -> None:
    rig = Rig(FakeVllm(answer), tmp_path)

    with pytest.raises(TransientError):
        rig.planner.plan(submission(), tale_id="tale-5")

    assert len(rig.fake.requests) == 1  # no retry inside: the event is redelivered
    assert rig.usage.for_tale("tale-5") == []


def test_503_names_the_status(tmp_path: Path) -> None:
    rig = Rig(FakeVllm(httpx.Response(503, text="Service Unavailable")), tmp_path)

    with pytest.raises(TransientError, match="503: Service Unavailable"):
        rig.planner.plan(submission())


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (
            vllm_error(400, "This model's maximum context length is 32768 tokens."),
            "maximum context length is 32768",
        ),
        (vllm_error(404, "The model `llama` does not exist.", "NotFoundError"), "does not exist"),
        (
            httpx.Response(401, json={"error": "Unauthorized"}),
            r"\(401\): Unauthorized",
        ),
        (  # vLLM's older flat error body
            httpx.Response(
                400, json={"object": "error", "message": "bad schema", "type": "x", "code": 400}
            ),
            "bad schema",
        ),
    ],
    ids=["400", "404", "401", "flat-400"],
)
def test_client_errors_are_permanent_with_the_servers_message(
    tmp_path: Path, answer: httpx.Response, message: str
) -> None:
    rig = Rig(FakeVllm(answer), tmp_path)

    with pytest.raises(PermanentError, match=message):
        rig.planner.plan(submission())

    assert len(rig.fake.requests) == 1


def test_an_answer_that_is_not_a_completion_is_permanent(tmp_path: Path) -> None:
    rig = Rig(FakeVllm(httpx.Response(200, text="<html>login</html>")), tmp_path)

    with pytest.raises(PermanentError, match="not a chat completion"):
        rig.planner.plan(submission())


# --------------------------------------------------------------------------------------
# Usage and audit
# --------------------------------------------------------------------------------------


def test_usage_is_recorded_per_attempt(tmp_path: Path) -> None:
    rig = Rig(
        FakeVllm(
            completion("not json", prompt_tokens=1000, completion_tokens=20),
            completion(draft(), prompt_tokens=1100, completion_tokens=700),
        ),
        tmp_path,
    )

    rig.planner.plan(submission(), tale_id="tale-6")

    records = rig.usage.for_tale("tale-6")
    assert [(u.key, u.provider, u.model) for u in records] == [
        ("plan:1", "self-hosted", MODEL),
        ("plan:2", "self-hosted", MODEL),
    ]
    assert records[0].units == {"input_tokens": 1000, "output_tokens": 20}
    assert records[1].units == {"input_tokens": 1100, "output_tokens": 700}
    assert all(u.at > 0 for u in records)


def test_one_audit_record_per_inference_without_the_prompt(tmp_path: Path) -> None:
    rig = Rig(FakeVllm(completion("not json"), completion(draft())), tmp_path)
    sub = submission()

    rig.planner.plan(sub, tale_id="tale-7")

    records = rig.audit.for_tale("tale-7")
    assert len(records) == len(rig.fake.requests) == 2
    assert all(
        (r.actor, r.model, r.kind, r.tale_id) == ("planner", MODEL, "inference", "tale-7")
        for r in records
    )
    # The hash of what was sent: system + user message of each request.
    sent = [prompt_hash("".join(rig.fake.messages(i))) for i in range(2)]
    assert [r.prompt_sha256 for r in records] == sent
    assert records[0].prompt_sha256 == prompt_hash(build_prompt(sub))
    assert records[0].prompt_sha256 != records[1].prompt_sha256
    # No prompt text anywhere in the audit store.
    stored = rig.audit_bytes()
    assert sent[0].encode() in stored
    system, user = rig.fake.messages(1)
    for fragment in (KO_STORY, "보름달이 뜬 밤", "서연이와 달토끼", system[:80], user[:80]):
        assert fragment.encode("utf-8") not in stored


def test_a_failed_request_is_still_audited(tmp_path: Path) -> None:
    """The record is written before the request: a prompt that reached the server (or may
    have) is never missing from the log."""
    rig = Rig(FakeVllm(httpx.Response(503, text="busy")), tmp_path)

    with pytest.raises(TransientError):
        rig.planner.plan(submission(), tale_id="tale-8")

    assert len(rig.audit.for_tale("tale-8")) == 1


# --------------------------------------------------------------------------------------
# Behind the egress guard
# --------------------------------------------------------------------------------------


def test_through_the_egress_guard(tmp_path: Path) -> None:
    fake = FakeVllm(completion(draft()))
    http = guarded_client(["vllm.tale.internal"], transport=httpx.MockTransport(fake))
    rig = Rig(fake, tmp_path, http=http)

    plan = rig.planner.plan(submission())

    assert len(plan.shots) == 3 and len(fake.requests) == 1


def test_a_planner_host_off_the_allow_list_is_refused_before_sending(tmp_path: Path) -> None:
    fake = FakeVllm(completion(draft()))
    http = guarded_client(["vllm.tale.internal"], transport=httpx.MockTransport(fake))
    rig = Rig(fake, tmp_path, http=http, base_url="https://api.openai.com")

    with pytest.raises(PermanentError, match=r"egress to api\.openai\.com refused"):
        rig.planner.plan(submission())

    assert fake.requests == []
