"""A strict stand-in for Vertex AI behind ``httpx.MockTransport``: the real google-genai client
talks to it, and it answers — or refuses — as Vertex AI documents.

Endpoints: ``generateContent`` (the Gemini planner, the Gemini image model), ``predict``
(Imagen: every Imagen model is retired, so always 404), ``predictLongRunning`` and
``fetchPredictOperation`` (Veo), and ``GET publishers/google/models/<model>`` (metadata, what
``client.models.get`` and ``tale doctor`` read).

Each request is checked against the provider tables (``shared/providers/google/*_models.py``)
and the documented rules, so a request Vertex would refuse fails the test:
- an unknown or retired model → 404 ``NOT_FOUND``, worded as Vertex words it;
- Veo: a duration, aspect ratio or resolution the model does not take, reference images where
  the model takes none (or past three, or not at 8 s / 16:9), a first frame together with
  reference images, an unknown ``personGeneration``, a ``storageUri`` that is not ``gs://``
  → 400 ``INVALID_ARGUMENT``;
- the image model: an aspect ratio or size it does not draw, more input images than it takes,
  no ``IMAGE`` response modality → 400;
- an operation name that is not one this stand-in returned → 404.
- the speech models (``tts_models``) are served in the ``global`` location only (404 in a
  region); a speech request without ``responseModalities: ["AUDIO"]``, with sampling
  parameters (``temperature``, ``topP``, ``topK``: the 3.8 models refuse them) or with a voice
  that is not a prebuilt one → 400. The answer is a WAV (16-bit PCM, 24 kHz, mono) inline,
  as a unary call gets it, as long as a calm reader takes to read the line.

Operation names are shaped as Vertex returns them:
``projects/P/locations/L/publishers/google/models/M/operations/<uuid>``. With a ``storageUri``
the generation writes ``<storageUri><n>/sample_0.mp4`` through ``storage`` (the media bucket)
as soon as it starts, and the finished operation names it (``gcsUri``); without one the video
comes back inline.

Faults: ``fail[verb](n)`` answers the n-th call with an HTTP status *before* anything happens
(nothing started); ``lose[verb](n)`` does the work and then loses the answer — a status or
``"timeout"`` (``httpx.ReadTimeout``) — as a dropped connection or a gateway error would.
"""

from __future__ import annotations

import base64
import io
import itertools
import json
import re
import threading
import uuid
import wave
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from google.oauth2.credentials import Credentials
from PIL import Image

from shared.domain.reading import reading_seconds
from shared.providers.google import image_models, text_models, tts_models, veo_models
from shared.providers.google.client import make_client

PROJECT, LOCATION = "tale-test", "us-central1"
VEO_RESPONSE_TYPE = "type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse"
PREFIX = f"/v1beta1/projects/{PROJECT}/locations/{LOCATION}/publishers/google/models/"
ENDPOINT = re.compile(re.escape(PREFIX) + r"(?P<model>[^/:]+):(?P<verb>\w+)")
SPEECH_ENDPOINT = re.compile(
    rf"/v1beta1/projects/{PROJECT}/locations/(?P<location>global|us|eu)"
    r"/publishers/google/models/(?P<model>[^/:]+):(?P<verb>\w+)"
)
METADATA = re.compile(r"/v1beta1/publishers/google/models/(?P<model>[^/:]+)")
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
OPERATION = re.compile(
    re.escape(PREFIX[len("/v1beta1/") :]) + rf"(?P<model>[^/:]+)/operations/(?P<id>{UUID})"
)


def png(size: tuple[int, int] = (64, 64)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(buf, "PNG")
    return buf.getvalue()


def error(code: int, status: str = "UNAVAILABLE", message: str = "try again") -> httpx.Response:
    return httpx.Response(
        code, json={"error": {"code": code, "status": status, "message": message}}
    )


def invalid(message: str) -> httpx.Response:
    return error(400, "INVALID_ARGUMENT", message)


def not_found(model: str) -> httpx.Response:
    resource = f"projects/{PROJECT}/locations/{LOCATION}/publishers/google/models/{model}"
    return error(
        404,
        "NOT_FOUND",
        f"Publisher Model `{resource}` was not found or your project does not have access to "
        "it. Please ensure you are using a valid model version. For more information, see: "
        "https://cloud.google.com/vertex-ai/generative-ai/docs/learn/model-versions",
    )


def known(model: str) -> bool:
    return (
        model in veo_models.MODELS
        or model in image_models.MODELS
        or model in text_models.MODELS
        or model in tts_models.MODELS
    )


def speech_wav(seconds: float, rate: int = 24_000) -> bytes:
    """A 220 Hz tone as a mono 16-bit WAV: what a speech model answers a unary call with."""
    import numpy as np

    t = np.arange(int(seconds * rate)) / rate
    pcm = (np.sin(2 * np.pi * 220 * t) * 6000).astype("<i2").tobytes()
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)
    return out.getvalue()


@dataclass
class Operation:
    model: str
    prompt: str
    polls_left: int
    duration: int
    gcs_uri: str | None = None


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
    """Per verb: the n-th call (1-based) → an HTTP error status before any effect, or None."""
    lose: dict[str, Callable[[int], int | str | None]] = field(default_factory=dict)
    """Per verb: the n-th call → its answer lost after the effect (a status or "timeout")."""
    storage: Callable[[str, bytes], None] | None = None
    """Writes an object of the media bucket (its path in the bucket): Veo's ``storageUri``."""
    bucket: str = "tale-media"
    calls: Counter[str] = field(default_factory=Counter)
    """Calls per verb (``generateContent``, ``predictLongRunning``, …; ``get`` for metadata)."""
    model_calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    """Calls per (verb, model)."""
    started_prompts: list[str] = field(default_factory=list)
    bodies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    refusals: list[str] = field(default_factory=list)
    """The message of every 400 and 404 this stand-in answered."""
    spoken: list[tuple[str, str, str]] = field(default_factory=list)
    """Every line the speech model read: (text, voice, location)."""
    _location: str = LOCATION
    _ops: dict[str, Operation] = field(default_factory=dict)
    _outputs: itertools.count[int] = field(default_factory=lambda: itertools.count(1000000001))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handler(self, request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == "Bearer test"
        path = request.url.path
        with self._lock:
            meta = METADATA.fullmatch(path)
            if meta is not None and request.method == "GET":
                self.calls["get"] += 1
                return self._answer(self._metadata(meta["model"]))
            match = ENDPOINT.fullmatch(path) or SPEECH_ENDPOINT.fullmatch(path)
            assert match is not None and request.method == "POST", (request.method, path)
            model, verb = match["model"], match["verb"]
            self._location = match.groupdict().get("location") or LOCATION
            body = json.loads(request.content or b"{}")
            self.calls[verb] += 1
            self.model_calls[verb, model] += 1
            self.bodies.setdefault(verb, []).append(body)
            n = self.calls[verb]
            failing = self.fail.get(verb)
            status = failing(n) if failing else None
            if status:
                return error(status)
            response = self._answer(getattr(self, f"_{verb}")(model, body))
            losing = self.lose.get(verb)
            lost = losing(n) if losing else None
            if lost == "timeout":
                raise httpx.ReadTimeout("the answer never came", request=request)
            if isinstance(lost, int):
                return error(lost)
            return response

    def _answer(self, response: httpx.Response) -> httpx.Response:
        if response.status_code in (400, 404):
            self.refusals.append(response.json()["error"]["message"])
        return response

    # --- metadata ---------------------------------------------------------------------------
    def _metadata(self, model: str) -> httpx.Response:
        if not known(model):
            return not_found(model)
        return httpx.Response(
            200,
            json={
                "name": f"publishers/google/models/{model}",
                "versionId": model.rsplit("-", 1)[-1] if model[-1].isdigit() else "default",
                "launchStage": "GA",
                "openSourceCategory": "PROPRIETARY",
            },
        )

    # --- Gemini -----------------------------------------------------------------------------
    def _generateContent(self, model: str, body: dict[str, Any]) -> httpx.Response:
        if model in tts_models.MODELS:
            return self._speech(model, body)
        if model in image_models.MODELS:
            return self._image(image_models.MODELS[model], body)
        if model not in text_models.MODELS:
            return not_found(model)
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

    def _speech(self, model: str, body: dict[str, Any]) -> httpx.Response:
        if self._location not in tts_models.LOCATIONS:
            return not_found(model)
        config = body.get("generationConfig", {})
        if config.get("responseModalities") != ["AUDIO"]:
            return invalid(f"{model} answers with responseModalities [AUDIO] only")
        sampling = sorted({"temperature", "topP", "topK"} & set(config))
        if sampling:
            return invalid(f"{', '.join(sampling)} is not supported by {model}")
        voice_config = config.get("speechConfig", {}).get("voiceConfig", {})
        voice = voice_config.get("voice") or voice_config.get("prebuiltVoiceConfig", {}).get(
            "voiceName"
        )
        if voice is not None and voice not in tts_models.PREBUILT:
            return invalid(f"voice {voice!r} is not a prebuilt voice")
        text = "".join(p.get("text", "") for p in body["contents"][0]["parts"])
        self.spoken.append((text, voice or "", self._location))
        seconds = max(0.3, 0.9 * reading_seconds(text, "en"))
        audio = base64.b64encode(speech_wav(seconds)).decode()
        return httpx.Response(
            200,
            json={
                "candidates": [
                    {
                        "content": {
                            "role": "model",
                            "parts": [{"inlineData": {"mimeType": "audio/wav", "data": audio}}],
                        },
                        "finishReason": "STOP",
                    }
                ],
                "usageMetadata": {
                    "promptTokenCount": 12,
                    "candidatesTokenCount": round(seconds * 25),
                    "totalTokenCount": 12 + round(seconds * 25),
                },
                "modelVersion": model,
            },
        )

    def _image(self, model: image_models.ImageModel, body: dict[str, Any]) -> httpx.Response:
        config = body.get("generationConfig", {})
        if "IMAGE" not in config.get("responseModalities", []):
            return invalid(f"{model.model_id} needs responseModalities to include IMAGE")
        image_config = config.get("imageConfig", {})
        ratio = image_config.get("aspectRatio", "1:1")
        if ratio not in model.aspect_ratios:
            return invalid(f"Unsupported aspect ratio: {ratio}")
        size = image_config.get("imageSize", "1K")
        if size not in model.image_sizes:
            return invalid(f"Unsupported image size: {size}")
        parts = [p for c in body.get("contents", []) for p in c.get("parts", [])]
        images = [p for p in parts if "inlineData" in p]
        if len(images) > model.max_input_images:
            return invalid(f"At most {model.max_input_images} images are supported")
        width, height = (int(x) for x in ratio.split(":"))
        picture = png((width * 16, height * 16))
        return httpx.Response(
            200,
            json={
                "candidates": [
                    {
                        "content": {
                            "role": "model",
                            "parts": [
                                {
                                    "inlineData": {
                                        "mimeType": "image/png",
                                        "data": base64.b64encode(picture).decode(),
                                    }
                                }
                            ],
                        },
                        "finishReason": "STOP",
                    }
                ],
                "usageMetadata": {"promptTokenCount": 300, "candidatesTokenCount": 1120},
            },
        )

    # --- Imagen (retired) ------------------------------------------------------------------
    def _predict(self, model: str, body: dict[str, Any]) -> httpx.Response:
        return not_found(model)

    # --- Veo --------------------------------------------------------------------------------
    def _predictLongRunning(self, model: str, body: dict[str, Any]) -> httpx.Response:
        table = veo_models.MODELS.get(model)
        if table is None:
            return not_found(model)
        refusal = veo_refusal(table, body)
        if refusal is not None:
            return invalid(refusal)
        instance, parameters = body["instances"][0], body.get("parameters", {})
        self.started_prompts.append(instance["prompt"])
        resource = f"projects/{PROJECT}/locations/{LOCATION}/publishers/google/models/{model}"
        name = f"{resource}/operations/{uuid.uuid4()}"
        op = Operation(
            model=model,
            prompt=instance["prompt"],
            polls_left=self.polls_before_done,
            duration=int(parameters.get("durationSeconds", 8)),
        )
        storage_uri = parameters.get("storageUri")
        if storage_uri is not None and not self.refuse(op.prompt):
            object_path = f"{storage_uri.removeprefix(f'gs://{self.bucket}/')}"
            object_path = f"{object_path.rstrip('/')}/{next(self._outputs)}/sample_0.mp4"
            assert self.storage is not None, "a storageUri needs the stand-in's storage"
            self.storage(object_path, self.clip)
            op.gcs_uri = f"gs://{self.bucket}/{object_path}"
        self._ops[name] = op
        return httpx.Response(200, json={"name": name})

    def _fetchPredictOperation(self, model: str, body: dict[str, Any]) -> httpx.Response:
        name = str(body.get("operationName", ""))
        shaped = OPERATION.fullmatch(name)
        if shaped is None or shaped["model"] != model or name not in self._ops:
            return error(404, "NOT_FOUND", f"Operation {name} not found.")
        op = self._ops[name]
        if op.polls_left:
            op.polls_left -= 1
            return httpx.Response(200, json={"name": name, "done": False})
        if self.refuse(op.prompt):
            response: dict[str, Any] = {
                "raiMediaFilteredCount": 1,
                "raiMediaFilteredReasons": ["The prompt contains sensitive words."],
                "videos": [],
            }
        elif op.gcs_uri is not None:
            response = {
                "raiMediaFilteredCount": 0,
                "videos": [{"gcsUri": op.gcs_uri, "mimeType": "video/mp4"}],
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
            json={"name": name, "done": True, "response": {"@type": VEO_RESPONSE_TYPE, **response}},
        )

    def speech_client(self, retry_attempts: int = 2) -> Any:
        """A client for the speech models' location (``global``)."""
        return self.client(retry_attempts, location="global")

    def client(self, retry_attempts: int = 2, location: str = LOCATION) -> Any:
        return make_client(
            PROJECT,
            location,
            retry_attempts=retry_attempts,
            httpx_client=httpx.Client(transport=httpx.MockTransport(self.handler)),
            credentials=Credentials(token="test"),  # type: ignore[no-untyped-call]
            initial_delay_s=0.0,
            max_delay_s=0.0,
            jitter_s=0.0,
        )


def veo_refusal(model: veo_models.VeoModel, body: dict[str, Any]) -> str | None:
    """Why Vertex AI would answer 400 to this ``predictLongRunning`` body, or None."""
    instances = body.get("instances")
    if not isinstance(instances, list) or len(instances) != 1:
        return "exactly one instance is supported"
    instance, parameters = instances[0], body.get("parameters", {})
    if not str(instance.get("prompt", "")).strip():
        return "prompt is required"
    return _parameters_refusal(model, parameters) or _inputs_refusal(model, instance, parameters)


def _parameters_refusal(model: veo_models.VeoModel, parameters: dict[str, Any]) -> str | None:
    count = parameters.get("sampleCount", 1)
    duration = parameters.get("durationSeconds", 8)
    ratio = parameters.get("aspectRatio", "16:9")
    resolution = parameters.get("resolution", "720p")
    person = parameters.get("personGeneration", "allow_adult")
    storage = parameters.get("storageUri")
    checks = [
        (1 <= count <= 4, f"sampleCount must be between 1 and 4, not {count}"),
        (
            duration in model.durations,
            f"Unsupported video duration {duration} seconds for {model.model_id}",
        ),
        (
            ratio in model.aspect_ratios,
            f"Unsupported aspect ratio: {ratio}. Supported: {', '.join(model.aspect_ratios)}",
        ),
        (
            resolution in model.resolutions and duration in model.durations_at(resolution),
            f"Unsupported resolution {resolution} for a {duration}-second video",
        ),
        (
            not parameters.get("generateAudio") or model.audio,
            f"{model.model_id} does not generate audio",
        ),
        (person in veo_models.PERSON_GENERATION, f"Unsupported personGeneration: {person}"),
        (
            storage is None or str(storage).startswith("gs://"),
            "storageUri must be a Cloud Storage URI (gs://)",
        ),
    ]
    return next((reason for ok, reason in checks if not ok), None)


def _inputs_refusal(
    model: veo_models.VeoModel, instance: dict[str, Any], parameters: dict[str, Any]
) -> str | None:
    image, references = instance.get("image"), instance.get("referenceImages") or []
    if image is not None:
        if not model.image_to_video:
            return f"{model.model_id} does not support image-to-video"
        if image.get("mimeType") not in ("image/png", "image/jpeg"):
            return "image.mimeType must be image/png or image/jpeg"
    if not references:
        return None
    duration = parameters.get("durationSeconds", 8)
    ratio = parameters.get("aspectRatio", "16:9")
    checks = [
        (image is None, "image and referenceImages cannot be set together"),
        (model.reference_images, f"{model.model_id} does not support reference images"),
        (
            len(references) <= model.max_reference_images,
            f"At most {model.max_reference_images} reference images are supported",
        ),
        (
            all(str(r.get("referenceType", "")).lower() == "asset" for r in references),
            "referenceType must be asset",
        ),
        (
            duration in model.reference_durations,
            f"Reference images are only supported for {model.reference_durations} seconds",
        ),
        (
            ratio in model.reference_aspect_ratios,
            f"Reference images are only supported for {model.reference_aspect_ratios}",
        ),
    ]
    return next((reason for ok, reason in checks if not ok), None)
