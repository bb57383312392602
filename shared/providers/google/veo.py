"""Veo on Vertex AI as a ``VideoGenerator``: one paid long-running operation per shot attempt.

``start`` checks the request against the model's table (``veo_models``) before the paid
call, sends ``…/models/<model>:predictLongRunning`` through google-genai **once** (the SDK's
retries are off for this call: ``client.ONE_ATTEMPT``) and returns the operation's full name.
Right after the call it writes ``ops/<operation>.json`` to the blob store (output path, clip
length), so that ``poll`` needs nothing but the operation name: a redelivered event in another
process resumes the same operation (``:fetchPredictOperation``) and never starts a second one.

What a failed start means for the claim on the attempt:
- 429 ``RESOURCE_EXHAUSTED`` (and a first frame that could not be drawn): nothing started —
  ``NotStarted``, the claim is released and the attempt tried again later;
- another 4xx: nothing started and asking again cannot help — ``PermanentError`` (404 on the
  model: ``ModelUnavailable``, with an operator alert);
- no answer (a timeout, a broken connection) or a 5xx: the generation may have started —
  a plain ``TransientError``: the claim is kept and ``recover`` finds out what happened.

Every attempt has its own output location: ``storageUri`` is
``gs://<media bucket>/<output path without .mp4>/`` (``tales/<id>/shots/NN-a<attempt>/``), so
``recover`` can tell from the bucket alone whether an unrecorded start produced a video: if
the folder holds one, that is the clip (copied to the path the stage expects); if it is still
empty once ``max_latency_s`` has passed since the claim, nothing ran. Without a media bucket
(the embedded default) only a start whose operation name was written down can be recovered.

Conditioning on the characters: where the model accepts asset references for the shot's
length and shape (Veo 3.1: 8-second 16:9 clips), up to three of the shot's characters go as
``referenceImages``; otherwise (e.g. at 9:16) the image model composes the shot's first frame
at the video's aspect ratio from the characters' reference sheets (``frames``), kept beside the
clip so a redelivery does not pay for it again. Veo never gets both.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Protocol

from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from schemas.plan import Shot, StoryPlan
from shared.domain.errors import ModelUnavailable, NotStarted, PermanentError, TransientError
from shared.observability.events import model_missing
from shared.ports.blobs import BlobNotFound, BlobStore
from shared.ports.claims import Claims, provider_quota
from shared.ports.generators import Recovery, VideoGenerator, VideoPoll, VideoRequest
from shared.providers.google.client import ONE_ATTEMPT, SDK_ERRORS, classify
from shared.providers.google.veo_models import MAX_LATENCY_S, VeoModel, constraints, validate

#: Phrases of an operation error that means the prompt itself was refused (no retry helps).
_POLICY_PHRASES = ("responsible ai", "usage guidelines")

OPS_PREFIX = "ops"
SETTING = "TALE_VEO_MODEL"


class FrameComposer(Protocol):
    """Draws a shot's first frame at the plan's aspect ratio from the characters' sheets."""

    def compose_frame(
        self,
        shot: Shot,
        plan: StoryPlan,
        references: dict[str, bytes],
        *,
        tale_id: str = "",
        key: str = "",
    ) -> bytes: ...


@dataclass(frozen=True)
class OperationRecord:
    """What ``poll`` needs beyond the operation name, kept in the blob store."""

    operation: str
    model: str
    output_path: str
    duration_s: int
    tale_id: str = ""
    shot_index: int = -1
    attempt: int = 0

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> OperationRecord:
        raw = json.loads(data)
        return cls(
            operation=str(raw["operation"]),
            model=str(raw["model"]),
            output_path=str(raw["output_path"]),
            duration_s=int(raw["duration_s"]),
            tale_id=str(raw.get("tale_id", "")),
            shot_index=int(raw.get("shot_index", -1)),
            attempt=int(raw.get("attempt", 0)),
        )


def operation_record_path(operation_id: str) -> str:
    """``ops/<readable tail>-<hash>.json``: a plain object name for any operation name."""
    tail = operation_id.rpartition("/operations/")[2] or operation_id
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", tail).strip("._")[:80] or "op"
    digest = hashlib.sha256(operation_id.encode()).hexdigest()[:16]
    return f"{OPS_PREFIX}/{safe}-{digest}.json"


def attempt_folder(output_path: str) -> str:
    """The attempt's own folder: its output path without the extension."""
    stem, _ = posixpath.splitext(output_path)
    return stem


def attempt_record_path(output_path: str) -> str:
    """Where the operation name of an attempt's start is written (by output path)."""
    return f"{OPS_PREFIX}/attempts/{attempt_folder(output_path)}.json"


def first_frame_path(output_path: str) -> str:
    return f"{attempt_folder(output_path)}-first-frame.png"


class VeoVideos(VideoGenerator):
    paid = True
    provider = "veo"
    max_latency_s = MAX_LATENCY_S

    def __init__(
        self,
        client: genai.Client,
        model: str,
        blobs: BlobStore,
        *,
        claims: Claims,
        requests_per_minute: int,
        resolution: str,
        audio: bool,
        person_generation: str = "allow_adult",
        frames: FrameComposer | None = None,
        output_gcs_uri: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``claims``: atomic counters shared by every instance (the quota window).
        ``frames``: composes first frames where the model takes no references (without it
        such shots are conditioned on the prompt alone). ``output_gcs_uri``:
        ``gs://<media bucket>`` to have Veo write clips there (one folder per attempt)
        instead of returning them inline."""
        self.client = client
        self.model = model
        self._constraints: VeoModel | None = None
        self._unavailable: ModelUnavailable | None = None
        try:
            self._constraints = constraints(model)
        except ModelUnavailable as exc:  # raised when a shot needs the model (``constraints``)
            self._unavailable = exc
        self.blobs = blobs
        self._claims = claims
        self.requests_per_minute = requests_per_minute
        self.resolution = resolution
        self.audio = audio
        self.person_generation = person_generation
        self.frames = frames
        self.output_gcs_uri = output_gcs_uri.rstrip("/") if output_gcs_uri else None
        self._bucket_prefix = _bucket_prefix(self.output_gcs_uri)
        self._clock = clock

    @property
    def constraints(self) -> VeoModel:
        """The model's table entry; ``ModelUnavailable`` (and the operators' alert) for a
        retired or unknown model — before anything is claimed or paid."""
        if self._constraints is None:
            assert self._unavailable is not None
            model_missing(self.provider, self.model, str(self._unavailable))
            raise self._unavailable
        return self._constraints

    # --- quota ------------------------------------------------------------------------------
    def admit(self) -> None:
        self.constraints  # noqa: B018 - a retired model fails the shot here, before the claim
        minute = int(self._clock() // 60)
        used = self._claims.bump(provider_quota(self.model, minute))
        if used > self.requests_per_minute:
            raise TransientError(f"Veo quota: {used} requests this minute; retrying later")

    # --- start ------------------------------------------------------------------------------
    def start(self, request: VideoRequest) -> str:
        shot, plan = request.shot, request.plan
        duration, aspect_ratio = shot.duration_s, plan.aspect_ratio
        cast = list(dict.fromkeys(n for n in shot.characters if n in request.reference_images))
        references: list[str] = []
        if cast and self.constraints.references_fit(duration=duration, aspect_ratio=aspect_ratio):
            references = cast[: self.constraints.max_reference_images]
        compose = bool(cast and not references and self.constraints.image_to_video and self.frames)
        validate(
            self.constraints,
            duration=duration,
            aspect_ratio=aspect_ratio,
            resolution=self.resolution,
            audio=self.audio,
            references=len(references),
            first_frame=compose,
            person_generation=self.person_generation,
        )
        config = types.GenerateVideosConfig(
            http_options=ONE_ATTEMPT,
            number_of_videos=1,
            duration_seconds=duration,
            aspect_ratio=aspect_ratio,
            resolution=self.resolution,
            generate_audio=self.audio if self.constraints.audio else None,
            person_generation=self.person_generation,
            output_gcs_uri=self._output_uri(request.output_path),
            reference_images=[
                types.VideoGenerationReferenceImage(
                    image=self._image(request, name),
                    reference_type=types.VideoGenerationReferenceType.ASSET,
                )
                for name in references
            ]
            or None,
        )
        source = types.GenerateVideosSource(
            prompt=shot.prompt,
            image=self._first_frame(request, cast) if compose else None,
        )
        try:
            operation = self.client.models.generate_videos(
                model=self.model, source=source, config=config
            )
        except SDK_ERRORS as exc:
            raise self._start_error(exc, request) from exc
        if not operation.name:
            raise PermanentError("Veo accepted the request but returned no operation name")
        record = OperationRecord(
            operation=operation.name,
            model=self.model,
            output_path=request.output_path,
            duration_s=duration,
            tale_id=request.tale_id,
            shot_index=shot.index,
            attempt=request.attempt,
        )
        self.blobs.put_bytes(
            operation_record_path(operation.name), record.to_json(), "application/json"
        )
        self.blobs.put_bytes(
            attempt_record_path(request.output_path), record.to_json(), "application/json"
        )
        return operation.name

    def _start_error(self, exc: Exception, request: VideoRequest) -> Exception:
        """What a failed ``predictLongRunning`` means for the claim (module docstring)."""
        code = exc.code if isinstance(exc, genai_errors.APIError) else None
        if code is not None and 400 <= code < 500 and code not in (408, 429):
            return classify(exc, model=self.model, provider=self.provider, setting=SETTING)
        error = classify(exc)
        if code == 429:
            return NotStarted(str(error))
        shot = request.shot.index + 1
        return TransientError(
            f"the answer to the start of shot {shot} (attempt {request.attempt}) was lost "
            f"({error}); it may have started, so it is not started again until its output "
            "location shows what happened"
        )

    def _output_uri(self, output_path: str) -> str | None:
        if self.output_gcs_uri is None:
            return None
        return f"{self.output_gcs_uri}/{attempt_folder(output_path)}/"

    def _reference(self, request: VideoRequest, name: str) -> bytes:
        path = request.reference_images[name]
        try:
            return self.blobs.get_bytes(path)
        except BlobNotFound:
            raise PermanentError(f"the reference image of {name} is missing ({path})") from None

    def _image(self, request: VideoRequest, name: str) -> types.Image:
        return types.Image(image_bytes=self._reference(request, name), mime_type="image/png")

    def _first_frame(self, request: VideoRequest, cast: list[str]) -> types.Image:
        """The shot's first frame, composed once per attempt (kept beside the clip)."""
        assert self.frames is not None
        path = first_frame_path(request.output_path)
        try:
            data = self.blobs.get_bytes(path)
        except BlobNotFound:
            references = {name: self._reference(request, name) for name in cast}
            shot = request.shot
            try:
                data = self.frames.compose_frame(
                    shot,
                    request.plan,
                    references,
                    tale_id=request.tale_id,
                    key=f"frame:{shot.index}:{request.attempt}",
                )
            except TransientError as exc:  # before the paid call: nothing started
                raise NotStarted(f"the first frame of shot {shot.index + 1}: {exc}") from exc
            self.blobs.put_bytes(path, data, "image/png")
        return types.Image(image_bytes=data, mime_type="image/png")

    # --- recover ----------------------------------------------------------------------------
    def recover(self, request: VideoRequest, claimed_at: float, now: float) -> Recovery:
        """What became of an unrecorded start of ``request``'s attempt: its operation, if its
        name was written down (the claimant died after the call returned); else what its
        output location shows (see the module docstring)."""
        operation = self._attempt_operation(request.output_path)
        if operation is not None:
            return Recovery(operation_id=operation)  # it exists: the stage polls it
        if self.output_gcs_uri is None:
            return Recovery()
        videos = [
            p
            for p in self.blobs.list_paths(f"{attempt_folder(request.output_path)}/")
            if p.endswith(".mp4")
        ]
        if videos:
            return Recovery(
                clip_path=self._as_output(videos[0], request.output_path),
                units={"video_seconds": float(request.shot.duration_s)},
            )
        if now - claimed_at >= self.max_latency_s:
            return Recovery(nothing_ran=True)
        return Recovery()

    def _attempt_operation(self, output_path: str) -> str | None:
        try:
            data = self.blobs.get_bytes(attempt_record_path(output_path))
        except BlobNotFound:
            return None
        return OperationRecord.from_json(data).operation

    def _as_output(self, clip_path: str, output_path: str) -> str:
        """The clip at the path the stage expects (copied there when Veo wrote it elsewhere)."""
        if clip_path != output_path:
            self.blobs.put_bytes(output_path, self.blobs.get_bytes(clip_path), "video/mp4")
        return output_path

    # --- poll -------------------------------------------------------------------------------
    def poll(self, operation_id: str) -> VideoPoll:
        try:
            # Only the name is needed: a new process resumes the operation from its id alone.
            pending = types.GenerateVideosOperation.model_validate({"name": operation_id})
            operation = self.client.operations.get(pending)
        except SDK_ERRORS as exc:
            raise classify(exc) from exc
        if not operation.done:
            return VideoPoll(done=False)
        if operation.error:
            message = str(operation.error.get("message") or operation.error)
            refused = any(p in message.lower() for p in _POLICY_PHRASES)
            return VideoPoll(done=True, error=f"Veo: {message}", refused=refused)
        response = operation.response or operation.result
        videos = [g.video for g in (response.generated_videos or []) if g.video] if response else []
        if not videos:
            if response and (
                response.rai_media_filtered_count or response.rai_media_filtered_reasons
            ):
                reasons = "; ".join(response.rai_media_filtered_reasons or []) or "no reason given"
                return VideoPoll(
                    done=True,
                    refused=True,
                    error=f"the video model's safety filter refused this shot: {reasons}",
                )
            return VideoPoll(done=True, error="Veo finished without a video")
        record = self._record(operation_id)
        clip_path = self._keep(videos[0], record)
        return VideoPoll(
            done=True, clip_path=clip_path, units={"video_seconds": float(record.duration_s)}
        )

    def _record(self, operation_id: str) -> OperationRecord:
        path = operation_record_path(operation_id)
        try:
            return OperationRecord.from_json(self.blobs.get_bytes(path))
        except BlobNotFound:
            raise PermanentError(
                f"no record of Veo operation {operation_id} ({path}); it was not started here"
            ) from None

    def _keep(self, video: types.Video, record: OperationRecord) -> str:
        """The clip's blob path: inline bytes are written to the output path; a ``gs://``
        object in the media bucket is already there."""
        if video.video_bytes:
            self.blobs.put_bytes(record.output_path, video.video_bytes, "video/mp4")
            return record.output_path
        uri = video.uri or ""
        if self._bucket_prefix and uri.startswith(self._bucket_prefix):
            return uri[len(self._bucket_prefix) :]
        # Vertex has no download for generated videos (files.download is Gemini API only).
        raise PermanentError(
            f"Veo stored the clip at {uri or '(no location)'}, outside the media bucket; "
            "set the media bucket (output_gcs_uri) or let Veo return the video inline"
        )


def _bucket_prefix(output_gcs_uri: str | None) -> str | None:
    """``gs://<bucket>/`` of the output URI: object names below it are blob paths."""
    if not output_gcs_uri:
        return None
    if not output_gcs_uri.startswith("gs://"):
        raise PermanentError(f"output_gcs_uri must be a gs:// URI, not {output_gcs_uri!r}")
    bucket = output_gcs_uri[len("gs://") :].split("/", 1)[0]
    if not bucket:
        raise PermanentError(f"output_gcs_uri names no bucket: {output_gcs_uri!r}")
    return f"gs://{bucket}/"
