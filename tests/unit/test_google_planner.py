"""GeminiPlanner through the real google-genai client, its HTTP layer answered by a fake Vertex.

The fake answers ``…/publishers/google/models/<model>:generateContent`` with bodies shaped as
the Vertex AI REST API documents them (``candidates[].content.parts[].text``,
``usageMetadata``; errors as ``{"error": {"code", "message", "status"}}``) and records every
request, so the tests see what the SDK really sends.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from google.genai import errors as genai_errors
from google.oauth2.credentials import Credentials

from schemas.plan import StoryPlan
from schemas.story import StorySubmission, Style
from shared.adapters.local.usage import SqliteUsage
from shared.domain.errors import ModelUnavailable, PermanentError, TransientError
from shared.providers.google.client import classify, is_transient, make_client
from shared.providers.google.planner import GeminiPlanner, build_prompt

PROJECT = "tale-test"
LOCATION = "us-central1"
MODEL = "gemini-3.5-flash"
GENERATE_PATH = (
    f"/v1beta1/projects/{PROJECT}/locations/{LOCATION}"
    f"/publishers/google/models/{MODEL}:generateContent"
)
HANGUL = re.compile("[\uac00-\ud7a3]")

KO_STORY = (
    "서연이와 달토끼\n\n"
    "보름달이 뜬 밤, 서연이는 창가에 앉아 달을 보았다.\n\n"
    "정원에 하얀 달토끼가 내려왔다. 서연이와 달토끼는 함께 별을 세었다."
)
SEOYEON = "a seven-year-old girl with a short black bob, round cheeks, yellow pajamas with stars"
RABBIT = "a small white rabbit with silver-tipped ears and a faint glowing crescent on its brow"

Handler = Callable[[httpx.Request], httpx.Response]

# --------------------------------------------------------------------------------------
# The fake Vertex endpoint
# --------------------------------------------------------------------------------------


class FakeVertex:
    """Answers requests from a script of responses (or exceptions) and records them."""

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

    @property
    def prompts(self) -> list[str]:
        return [b["contents"][0]["parts"][0]["text"] for b in self.bodies]


def gemini_answer(
    payload: dict[str, Any] | str,
    *,
    prompt_tokens: int = 1200,
    output_tokens: int = 800,
    finish: str = "STOP",
) -> httpx.Response:
    text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    return httpx.Response(
        200,
        json={
            "candidates": [
                {
                    "content": {"role": "model", "parts": [{"text": text}]},
                    "finishReason": finish,
                    "avgLogprobs": -0.12,
                }
            ],
            "usageMetadata": {
                "promptTokenCount": prompt_tokens,
                "candidatesTokenCount": output_tokens,
                "totalTokenCount": prompt_tokens + output_tokens,
                "trafficType": "ON_DEMAND",
            },
            "modelVersion": MODEL,
            "createTime": "2025-01-01T00:00:00.000000Z",
            "responseId": "resp-1",
        },
    )


def api_error(code: int, status: str, message: str) -> httpx.Response:
    return httpx.Response(
        code, json={"error": {"code": code, "message": message, "status": status}}
    )


def draft(shots: int = 3, **changes: Any) -> dict[str, Any]:
    """A valid Korean draft; shot 2 paraphrases the rabbit instead of copying its description."""
    prompts = [
        f"Wide establishing shot of a cozy bedroom at night, moonlight through the window. "
        f"{SEOYEON} sits by the window looking up at the full moon.",
        f"Medium shot in a moonlit garden. {SEOYEON} kneels beside {RABBIT}, both smiling.",
        "Close-up of a little white rabbit with glowing ears counting stars in the night sky.",
        f"Aerial shot over the garden, {SEOYEON} and {RABBIT} lying in the grass.",
    ]
    cameras = ["wide establishing shot", "medium shot", "close-up", "aerial shot"]
    cast = [["서연"], ["서연", "달토끼"], ["달토끼"], ["서연", "달토끼"]]
    narration = [
        "보름달이 뜬 밤, 서연이는 창가에 앉았어요.",
        "정원에 하얀 달토끼가 내려왔어요.",
        "달토끼는 별을 하나, 둘 세었어요.",
        "둘은 함께 밤하늘을 바라보았어요.",
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
                "prompt": prompts[i % 4],
                "camera": cameras[i % 4],
                "characters": cast[i % 4],
                "narration": narration[i % 4],
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


def planner_for(
    fake: Handler, tmp_path: Path, *, max_attempts: int = 3, retry_attempts: int = 5
) -> tuple[GeminiPlanner, SqliteUsage]:
    client = make_client(
        PROJECT,
        LOCATION,
        retry_attempts=retry_attempts,
        httpx_client=httpx.Client(transport=httpx.MockTransport(fake)),
        credentials=Credentials(token="test"),  # type: ignore[no-untyped-call]
        initial_delay_s=0.001,
        max_delay_s=0.002,
        jitter_s=0,
    )
    usage = SqliteUsage(tmp_path / "usage.db")
    return GeminiPlanner(client, MODEL, usage, max_attempts=max_attempts), usage


# --------------------------------------------------------------------------------------
# A valid plan
# --------------------------------------------------------------------------------------


def test_valid_korean_plan_first_time(tmp_path: Path) -> None:
    fake = FakeVertex(gemini_answer(draft()))
    planner, _ = planner_for(fake, tmp_path)

    plan = planner.plan(submission(), tale_id="tale-1")

    assert isinstance(plan, StoryPlan)
    assert len(fake.requests) == 1
    assert plan.title == "서연이와 달토끼"
    assert plan.language == "ko"
    assert plan.style is Style.WATERCOLOR and plan.aspect_ratio == "16:9"
    assert [s.index for s in plan.shots] == [0, 1, 2]
    assert {s.duration_s for s in plan.shots} == {6}
    assert [s.index for s in plan.scenes] == [0, 1]
    for shot in plan.shots:
        assert HANGUL.search(shot.narration), shot.narration  # narration stays Korean
        assert not HANGUL.search(shot.prompt), shot.prompt  # prompts are English
        for name in shot.characters:  # the same description, verbatim, in every shot
            assert plan.character(name).description in shot.prompt
    # Shot 2 paraphrased the rabbit: Tale appended the description itself, once.
    assert plan.shots[2].prompt.count(RABBIT) == 1
    assert plan.shots[1].prompt.count(RABBIT) == 1


def test_request_is_vertex_generate_content_in_json_mode(tmp_path: Path) -> None:
    fake = FakeVertex(gemini_answer(draft()))
    planner, _ = planner_for(fake, tmp_path)

    planner.plan(submission())

    request = fake.requests[0]
    assert request.method == "POST"
    assert request.url.host == f"{LOCATION}-aiplatform.googleapis.com"
    assert request.url.path == GENERATE_PATH
    assert request.headers["authorization"] == "Bearer test"
    body = fake.bodies[0]
    config = body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert config["temperature"] == pytest.approx(0.4)
    schema = config["responseSchema"]
    assert schema["type"] == "OBJECT"
    assert set(schema["properties"]) == {"title", "characters", "scenes", "shots"}
    shot = schema["properties"]["shots"]["items"]
    assert set(shot["properties"]) == {
        "scene_index",
        "prompt",
        "camera",
        "characters",
        "narration",
    }
    assert "close-up" in shot["properties"]["camera"]["enum"]
    # Tale decides these itself; the model is never asked for them.
    for decided in ("index", "duration_s", "language", "style", "aspect_ratio", "version"):
        assert decided not in schema["properties"] and decided not in shot["properties"]
    prompt = fake.prompts[0]
    assert body["contents"][0]["role"] == "user"
    assert KO_STORY in prompt  # the story, verbatim
    assert "exactly 3 shots" in prompt and "6 seconds" in prompt
    assert "Korean" in prompt and "English" in prompt
    assert "loose watercolor painting" in prompt  # the chosen style's wording
    assert "real people" in prompt and "brands" in prompt  # safety wording


def test_prompt_for_an_english_story() -> None:
    prompt = build_prompt(
        StorySubmission(text="Mina walked to the sea. Mina met a fox.", shot_count=5)
    )
    assert "exactly 5 shots" in prompt and "8 seconds" in prompt
    assert "in English, the language of the story" in prompt
    assert "Mina walked to the sea. Mina met a fox." in prompt


# --------------------------------------------------------------------------------------
# Invalid answers and retries
# --------------------------------------------------------------------------------------


def test_invalid_json_then_valid_json(tmp_path: Path) -> None:
    fake = FakeVertex(gemini_answer('{"title": "서연이와'), gemini_answer(draft()))
    planner, _ = planner_for(fake, tmp_path)

    plan = planner.plan(submission())

    assert len(plan.shots) == 3
    assert len(fake.requests) == 2
    first, second = fake.prompts
    assert "rejected" not in first
    assert second.startswith(first)
    assert "Your previous answer was rejected" in second
    assert "Invalid JSON" in second


def test_wrong_shot_count_then_right(tmp_path: Path) -> None:
    fake = FakeVertex(gemini_answer(draft(shots=2)), gemini_answer(draft(shots=3)))
    planner, _ = planner_for(fake, tmp_path)

    plan = planner.plan(submission())

    assert len(plan.shots) == 3
    assert len(fake.requests) == 2
    assert "the plan has 2 shots, but exactly 3 are required" in fake.prompts[1]


def _with_shot(index: int, **changes: Any) -> dict[str, Any]:
    body = draft()
    body["shots"][index] = {**body["shots"][index], **changes}
    return body


@pytest.mark.parametrize(
    ("bad", "complaint"),
    [
        (
            _with_shot(1, characters=["서연", "민호"]),
            "shot 1 names characters missing from the characters list: ['민호']",
        ),
        (_with_shot(2, scene_index=5), "shot 2 has scene_index 5"),
        (_with_shot(0, narration="Seoyeon sat by the window."), "shot 0 is not in Korean"),
        (_with_shot(0, prompt="서연 sits by the window."), "shot 0 contains Korean"),
        (_with_shot(0, camera="dolly zoom"), "shots.0.camera: Input should be"),
        (draft(shots=3, scenes=[]), "scenes: List should have at least 1 item"),
    ],
)
def test_rule_violations_are_explained_on_retry(
    tmp_path: Path, bad: dict[str, Any], complaint: str
) -> None:
    fake = FakeVertex(gemini_answer(bad), gemini_answer(draft()))
    planner, _ = planner_for(fake, tmp_path)

    planner.plan(submission())

    assert len(fake.requests) == 2
    assert complaint in fake.prompts[1]


def test_truncated_answer_is_retried(tmp_path: Path) -> None:
    fake = FakeVertex(
        gemini_answer('{"title": "x", "sh', finish="MAX_TOKENS"), gemini_answer(draft())
    )
    planner, _ = planner_for(fake, tmp_path)

    planner.plan(submission())

    assert "cut off at the output token limit" in fake.prompts[1]


def test_invalid_forever_is_permanent_after_max_attempts(tmp_path: Path) -> None:
    fake = FakeVertex(gemini_answer(draft(shots=4)))
    planner, usage = planner_for(fake, tmp_path, max_attempts=3)

    with pytest.raises(PermanentError) as caught:
        planner.plan(submission(), tale_id="tale-9")

    assert len(fake.requests) == 3
    message = str(caught.value)
    assert message.startswith("the planner returned an invalid plan 3 times: ")
    assert "the plan has 4 shots, but exactly 3 are required" in message
    assert [u.key for u in usage.for_tale("tale-9")] == ["plan:1", "plan:2", "plan:3"]


def test_refused_story_is_permanent_at_once(tmp_path: Path) -> None:
    blocked = httpx.Response(
        200,
        json={
            "promptFeedback": {
                "blockReason": "PROHIBITED_CONTENT",
                "blockReasonMessage": "The prompt was blocked due to prohibited content.",
            },
            "usageMetadata": {"promptTokenCount": 900, "totalTokenCount": 900},
            "modelVersion": MODEL,
        },
    )
    fake = FakeVertex(blocked)
    planner, usage = planner_for(fake, tmp_path)

    with pytest.raises(PermanentError, match=r"refused the story .*prohibited content"):
        planner.plan(submission(), tale_id="tale-b")

    assert len(fake.requests) == 1
    assert usage.for_tale("tale-b")[0].units == {"input_tokens": 900, "output_tokens": 0}


# --------------------------------------------------------------------------------------
# HTTP errors: the SDK retries transient ones, classify() maps the rest
# --------------------------------------------------------------------------------------


def test_429_burst_is_retried_by_the_sdk(tmp_path: Path) -> None:
    throttled = api_error(429, "RESOURCE_EXHAUSTED", "Resource exhausted. Please try again.")
    fake = FakeVertex(throttled, throttled, gemini_answer(draft()))
    planner, usage = planner_for(fake, tmp_path)

    plan = planner.plan(submission(), tale_id="tale-2")

    assert len(plan.shots) == 3
    assert len(fake.requests) == 3
    assert fake.prompts[0] == fake.prompts[2]  # the same request, resent
    assert [u.key for u in usage.for_tale("tale-2")] == ["plan:1"]


def test_429_beyond_the_sdk_retries_is_transient(tmp_path: Path) -> None:
    fake = FakeVertex(api_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded."))
    planner, _ = planner_for(fake, tmp_path, retry_attempts=2)

    with pytest.raises(TransientError, match=r"rate limit.*429 RESOURCE_EXHAUSTED: Quota"):
        planner.plan(submission())

    assert len(fake.requests) == 2


def test_server_errors_and_timeouts_are_transient(tmp_path: Path) -> None:
    fake = FakeVertex(
        api_error(503, "UNAVAILABLE", "The service is currently unavailable."),
        httpx.ReadTimeout("timed out"),
    )
    planner, _ = planner_for(fake, tmp_path, retry_attempts=3)

    with pytest.raises(TransientError, match="ReadTimeout"):
        planner.plan(submission())

    assert len(fake.requests) == 3


def test_400_is_permanent_without_retry(tmp_path: Path) -> None:
    fake = FakeVertex(api_error(400, "INVALID_ARGUMENT", "Request contains an invalid argument."))
    planner, _ = planner_for(fake, tmp_path)

    with pytest.raises(PermanentError, match=r"invalid.*400 INVALID_ARGUMENT"):
        planner.plan(submission())

    assert len(fake.requests) == 1


def test_a_retired_model_is_model_unavailable_at_once(tmp_path: Path) -> None:
    """Vertex answers 404 for a retired model id (gemini-2.5-flash since October 2026): the
    planner fails fast, naming the setting, instead of retrying or blaming the story."""
    gone = (
        f"Publisher Model `projects/{PROJECT}/locations/{LOCATION}/publishers/google/models/"
        f"{MODEL}` was not found or your project does not have access to it."
    )
    fake = FakeVertex(api_error(404, "NOT_FOUND", gone))
    planner, _ = planner_for(fake, tmp_path)

    with pytest.raises(ModelUnavailable, match=r"TALE_GEMINI_MODEL.*tale doctor"):
        planner.plan(submission())

    assert len(fake.requests) == 1


@pytest.mark.parametrize(
    ("code", "status", "kind"),
    [
        (400, "INVALID_ARGUMENT", PermanentError),
        (401, "UNAUTHENTICATED", PermanentError),
        (403, "PERMISSION_DENIED", PermanentError),
        (404, "NOT_FOUND", PermanentError),
        (408, "DEADLINE_EXCEEDED", TransientError),
        (429, "RESOURCE_EXHAUSTED", TransientError),
        (500, "INTERNAL", TransientError),
        (503, "UNAVAILABLE", TransientError),
        (504, "DEADLINE_EXCEEDED", TransientError),
    ],
)
def test_classify_api_errors(code: int, status: str, kind: type[Exception]) -> None:
    error: genai_errors.APIError
    body = {"error": {"code": code, "message": "details here", "status": status}}
    if code < 500:
        error = genai_errors.ClientError(code, body)
    else:
        error = genai_errors.ServerError(code, body)
    assert is_transient(error) is (kind is TransientError)
    mapped = classify(error)
    assert type(mapped) is kind
    assert f"{code} {status}: details here" in str(mapped)


def test_classify_transport_errors() -> None:
    assert is_transient(httpx.ConnectTimeout("slow"))
    assert is_transient(httpx.ConnectError("refused"))
    assert not is_transient(ValueError("bug"))
    assert isinstance(classify(httpx.ReadTimeout("slow")), TransientError)
    already = PermanentError("known")
    assert classify(already) is already


# --------------------------------------------------------------------------------------
# Usage
# --------------------------------------------------------------------------------------


def test_usage_is_recorded_per_attempt(tmp_path: Path) -> None:
    fake = FakeVertex(
        gemini_answer("not json", prompt_tokens=1000, output_tokens=20),
        gemini_answer(draft(), prompt_tokens=1100, output_tokens=700),
    )
    planner, usage = planner_for(fake, tmp_path)

    planner.plan(submission(), tale_id="tale-3")

    records = usage.for_tale("tale-3")
    assert [(u.key, u.provider, u.model) for u in records] == [
        ("plan:1", "gemini", MODEL),
        ("plan:2", "gemini", MODEL),
    ]
    assert records[0].units == {"input_tokens": 1000, "output_tokens": 20}
    assert records[1].units == {"input_tokens": 1100, "output_tokens": 700}
    assert all(u.at > 0 for u in records)
