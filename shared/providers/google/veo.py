"""Veo on Vertex AI as a ``VideoGenerator``: one paid long-running operation per shot attempt.

``start`` checks the request against the model's constraints (``veo_models``) before the
paid call, sends ``…/models/<model>:predictLongRunning`` through google-genai and returns
the operation's full name. Right after the call it writes ``ops/<operation>.json`` to the
blob store (output path, clip length), so that ``poll`` needs nothing but the operation name:
a redelivered event in another process resumes the same operation (``:fetchPredictOperation``)
and never starts a second one.

Conditioning on the characters' reference images: where the model accepts asset references
for the shot's length and shape (Veo 3.1: 8-second 16:9 clips), up to three of the shot's
characters go as ``referenceImages``; otherwise the first character's image is the first
frame (image-to-video) where the model accepts one; otherwise the prompt alone.

The clip comes back inline (``bytesBase64Encoded``: written to the request's output path) or,
when ``output_gcs_uri`` is set, as a ``gs://`` object that Veo wrote into the media bucket
(its blob path is the URI without ``gs://<bucket>/``).
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from shared.domain.errors import NotStarted, PermanentError, TransientError
from shared.ports.blobs import BlobNotFound, BlobStore
from shared.ports.claims import Claims, provider_quota
from shared.ports.generators import VideoGenerator, VideoPoll, VideoRequest
from shared.providers.google.client import SDK_ERRORS, classify
from shared.providers.google.veo_models import VeoModel, constraints, validate

#: Phrases of an operation error that means the prompt itself was refused (no retry helps).
_POLICY_PHRASES = ("responsible ai", "usage guidelines")

OPS_PREFIX = "ops"


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


class VeoVideos(VideoGenerator):
    paid = True
    provider = "veo"

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
        output_gcs_uri: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``claims``: atomic counters shared by every instance (the quota window).
        ``output_gcs_uri``: ``gs://<media bucket>`` to have Veo write clips there instead of
        returning them inline."""
        self.client = client
        self.model = model
        self.constraints: VeoModel = constraints(model)
        self.blobs = blobs
        self._claims = claims
        self.requests_per_minute = requests_per_minute
        self.resolution = resolution
        self.audio = audio
        self.output_gcs_uri = output_gcs_uri.rstrip("/") if output_gcs_uri else None
        self._bucket_prefix = _bucket_prefix(self.output_gcs_uri)
        self._clock = clock

    # --- quota ------------------------------------------------------------------------------
    def admit(self) -> None:
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
        first_frame: str | None = None
        if cast and self.constraints.references_fit(duration=duration, aspect_ratio=aspect_ratio):
            references = cast[: self.constraints.max_reference_images]
        elif cast and self.constraints.image_to_video:
            first_frame = cast[0]
        validate(
            self.constraints,
            duration=duration,
            aspect_ratio=aspect_ratio,
            resolution=self.resolution,
            audio=self.audio,
            references=len(references),
        )
        config = types.GenerateVideosConfig(
            number_of_videos=1,
            duration_seconds=duration,
            aspect_ratio=aspect_ratio,
            # Veo 2 takes neither parameter (one resolution, no audio): leave them out there.
            resolution=self.resolution if self.constraints.resolution_parameter else None,
            generate_audio=self.audio if self.constraints.audio else None,
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
            image=self._image(request, first_frame) if first_frame else None,
        )
        try:
            operation = self.client.models.generate_videos(
                model=self.model, source=source, config=config
            )
        except SDK_ERRORS as exc:
            error = classify(exc)
            if isinstance(error, TransientError) and isinstance(exc, genai_errors.APIError):
                # Vertex answered with an error status: no operation was created, so the
                # stage may release its claim. A timeout (no answer) stays ambiguous.
                raise NotStarted(str(error)) from exc
            raise error from exc
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
        return operation.name

    def _output_uri(self, output_path: str) -> str | None:
        if self.output_gcs_uri is None:
            return None
        folder = posixpath.dirname(output_path)
        return f"{self.output_gcs_uri}/{folder}/" if folder else f"{self.output_gcs_uri}/"

    def _image(self, request: VideoRequest, name: str) -> types.Image:
        path = request.reference_images[name]
        try:
            data = self.blobs.get_bytes(path)
        except BlobNotFound:
            raise PermanentError(f"the reference image of {name} is missing ({path})") from None
        return types.Image(image_bytes=data, mime_type="image/png")

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
