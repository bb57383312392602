"""A stand-in for Vertex AI behind ``httpx.MockTransport``: generateContent (Gemini), predict
(Imagen), predictLongRunning and fetchPredictOperation (Veo), with bodies shaped as the Vertex
REST API documents them. The real google-genai client talks to it."""

from __future__ import annotations

import base64
import io
import itertools
import json
import re
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from google.oauth2.credentials import Credentials
from PIL import Image

from shared.providers.google.client import make_client

VEO_RESPONSE_TYPE = "type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse"
ENDPOINT = re.compile(r".*/publishers/google/models/(?P<model>[^/:]+):(?P<verb>\w+)")


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 120, 40)).save(buf, "PNG")
    return buf.getvalue()


def error(code: int, status: str = "UNAVAILABLE", message: str = "try again") -> httpx.Response:
    return httpx.Response(
        code, json={"error": {"code": code, "status": status, "message": message}}
    )


@dataclass
class FakeVertex:
    plan: dict[str, Any]
    """The Gemini answer (a plan draft)."""
    clip: bytes
    """The MP4 every Veo operation returns."""
    polls_before_done: int = 1
    refuse: Callable[[str], bool] = lambda prompt: False
    """Veo prompts whose result the safety filter removes."""
    fail: dict[str, Callable[[int], int | None]] = field(default_factory=dict)
    """Per verb: the n-th call (1-based) → an HTTP error status, or None to answer."""
    calls: Counter[str] = field(default_factory=Counter)
    started_prompts: list[str] = field(default_factory=list)
    _ops: dict[str, list[Any]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handler(self, request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == "Bearer test"
        match = ENDPOINT.fullmatch(request.url.path)
        assert match is not None, request.url.path
        verb, body = match["verb"], json.loads(request.content or b"{}")
        with self._lock:
            self.calls[verb] += 1
            failing = self.fail.get(verb)
            status = failing(self.calls[verb]) if failing else None
            if status:
                return error(status)
            return getattr(self, f"_{verb}")(request.url.path.split(":")[0], body)

    def _generateContent(self, resource: str, body: dict[str, Any]) -> httpx.Response:
        return httpx.Response(
            200,
            json={
                "candidates": [
                    {
                        "content": {
                            "role": "model",
                            "parts": [{"text": json.dumps(self.plan, ensure_ascii=False)}],
                        },
                        "finishReason": "STOP",
                    }
                ],
                "usageMetadata": {
                    "promptTokenCount": 812,
                    "candidatesTokenCount": 1450,
                    "totalTokenCount": 2262,
                },
            },
        )

    def _predict(self, resource: str, body: dict[str, Any]) -> httpx.Response:
        return httpx.Response(
            200,
            json={
                "predictions": [
                    {
                        "bytesBase64Encoded": base64.b64encode(png()).decode(),
                        "mimeType": "image/png",
                    }
                ]
            },
        )

    def _predictLongRunning(self, resource: str, body: dict[str, Any]) -> httpx.Response:
        prompt = body["instances"][0]["prompt"]
        self.started_prompts.append(prompt)
        name = f"{resource}/operations/{next(self._ids)}"
        self._ops[name] = [self.polls_before_done, prompt]
        return httpx.Response(200, json={"name": name})

    def _fetchPredictOperation(self, resource: str, body: dict[str, Any]) -> httpx.Response:
        name = body["operationName"]
        polls_left, prompt = self._ops[name]
        if polls_left:
            self._ops[name][0] -= 1
            return httpx.Response(200, json={"name": name, "done": False})
        if self.refuse(prompt):
            response = {
                "raiMediaFilteredCount": 1,
                "raiMediaFilteredReasons": ["The prompt contains sensitive words."],
                "videos": [],
            }
        else:
            response = {
                "raiMediaFilteredCount": 0,
                "videos": [
                    {
                        "bytesBase64Encoded": base64.b64encode(self.clip).decode(),
                        "mimeType": "video/mp4",
                    }
                ],
            }
        return httpx.Response(
            200,
            json={
                "name": name,
                "done": True,
                "response": {
                    "@type": VEO_RESPONSE_TYPE,
                    **response,
                },
            },
        )

    def client(self, retry_attempts: int = 2) -> Any:
        return make_client(
            "tale-test",
            "us-central1",
            retry_attempts=retry_attempts,
            httpx_client=httpx.Client(transport=httpx.MockTransport(self.handler)),
            credentials=Credentials(token="test"),
            initial_delay_s=0.0,
            max_delay_s=0.0,
            jitter_s=0.0,
        )
