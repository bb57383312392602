"""Loading the open-weight models (diffusers) once per task, behind two small wrappers.

Video: CogVideoX (``CogVideoXPipeline``; ``CogVideoXImageToVideoPipeline`` when the weights are
an image-to-video model) or Wan 2.1 (``WanPipeline`` / ``WanImageToVideoPipeline``); which
class is read from the weights' ``model_index.json`` (``_class_name``). Images (character
references, optional): ``AutoPipelineForText2Image`` (SDXL, Flux, …).

bf16 on CUDA, fp32 on the CPU (the tests run a tiny random model there). Nothing is ever
fetched from a hub: ``path`` is a local folder (``weights.local_weights`` copies a ``gs://``
prefix first). torch and diffusers are imported inside the functions, so the rest of the
worker (and its tests' collection) does not pay for them.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from PIL import Image

from shared.providers.selfhosted.video_models import VideoModel
from worker.tale_worker.wrappers import DiffusersImage, DiffusersVideo, VideoKind

__all__ = [
    "DiffusersImage",
    "DiffusersVideo",
    "ImagePipeline",
    "VideoKind",
    "VideoPipeline",
    "default_device",
    "detect_kind",
    "load_image_pipeline",
    "load_video_pipeline",
]

log = logging.getLogger(__name__)

_VIDEO_CLASSES: dict[tuple[str, bool], str] = {
    ("cogvideox", False): "CogVideoXPipeline",
    ("cogvideox", True): "CogVideoXImageToVideoPipeline",
    ("wan", False): "WanPipeline",
    ("wan", True): "WanImageToVideoPipeline",
}
#: Steps and guidance the model cards recommend.
_DEFAULTS: dict[str, tuple[int, float]] = {"cogvideox": (50, 6.0), "wan": (50, 5.0)}
#: Wan 2.1 (480p): 81 frames at 16 fps, 832×480.
_WAN_NATIVE = (832, 480, 81, 16)


class VideoPipeline(Protocol):
    name: str
    """The model's name for usage and audit records (the weights folder's name)."""
    image_to_video: bool
    """True when ``render`` needs a ``first_frame``."""
    native_fps: int

    def size_for(self, aspect_ratio: str) -> tuple[int, int]:
        """Width and height to render a plan of this aspect ratio at."""
        ...

    def render(
        self,
        prompt: str,
        *,
        frames: int,
        width: int,
        height: int,
        fps: int,
        first_frame: Image.Image | None,
        seed: int,
    ) -> list[np.ndarray]:
        """RGB uint8 frames (height × width × 3); at most ``frames`` of them, fewer when
        the model makes fewer (the caller resamples to its clip's length)."""
        ...


class ImagePipeline(Protocol):
    name: str

    def render(self, prompt: str, width: int, height: int, seed: int) -> Image.Image: ...


def model_class(path: Path) -> str:
    """``_class_name`` from the weights' ``model_index.json``."""
    index = json.loads((path / "model_index.json").read_text(encoding="utf-8"))
    return str(index["_class_name"])


def detect_kind(path: Path) -> VideoKind:
    name = model_class(path)
    if name.startswith("CogVideoX"):
        return "cogvideox"
    if name.startswith("Wan"):
        return "wan"
    raise ValueError(f"{path} holds a {name}, not a CogVideoX or Wan video pipeline")


def default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def quiet_libraries() -> None:
    """Keep diffusers and transformers to errors: their warnings can quote the prompt (e.g.
    CogVideoX logs the part of a prompt cut at ``max_sequence_length``), and the worker
    never lets story text reach the logs."""
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    for library in (diffusers_logging, transformers_logging):
        library.set_verbosity_error()
        library.disable_progress_bar()


def _dtype_kwargs(device: str, *, full: bool = False) -> dict[str, Any]:
    """bf16 on CUDA (fp32 when ``full`` or off CUDA), under the keyword this diffusers takes:
    ``dtype`` since 0.42, where ``torch_dtype`` still works but warns."""
    import torch
    from diffusers.utils import deprecation_utils

    dtype = torch.bfloat16 if device.startswith("cuda") and not full else torch.float32
    key = "dtype" if hasattr(deprecation_utils, "_resolve_dtype") else "torch_dtype"
    return {key: dtype}


def load_video_pipeline(
    path: Path,
    kind: VideoKind,
    device: str,
    *,
    steps: int | None = None,
    guidance: float | None = None,
    offload: bool = False,
    spec: VideoModel | None = None,
) -> DiffusersVideo:
    """Load the video model in ``path`` (once per task) onto ``device``.

    ``spec``: the weights' entry in the model table (``shared.providers.selfhosted.
    video_models``): sizes per aspect ratio, frames, fps, sampling and the scheduler's flow
    shift come from it, and the weights must be what it describes. Without one (a model not in
    the table, such as the tests' tiny ones) they are read from the weights' configs.
    ``offload`` moves each component to the GPU only while it runs (accelerate's model CPU
    offload): slower, but CogVideoX-5b fits a 24 GB L4 that way.
    """
    import diffusers

    quiet_libraries()
    class_name = model_class(path)
    image_to_video = "ImageToVideo" in class_name
    wanted = _VIDEO_CLASSES[kind, image_to_video]
    if class_name != wanted:
        raise ValueError(f"{path} holds a {class_name}; a {kind} worker loads {wanted}")
    if spec is not None and (spec.family, spec.pipeline_class) != (kind, class_name):
        raise ValueError(
            f"{path} holds a {class_name}, but the configured model {spec.model_id} is a "
            f"{spec.pipeline_class} (TALE_GPU_PIPELINE and TALE_GPU_WEIGHTS disagree)"
        )
    kwargs = _dtype_kwargs(device)
    if kind == "wan":  # the Wan VAE is meant to run in fp32 (model card)
        kwargs["vae"] = diffusers.AutoencoderKLWan.from_pretrained(
            str(path), subfolder="vae", **_dtype_kwargs(device, full=True)
        )
    pipe = getattr(diffusers, wanted).from_pretrained(str(path), **kwargs)
    if spec is not None and spec.flow_shift is not None and "flow_shift" in pipe.scheduler.config:
        pipe.scheduler = type(pipe.scheduler).from_config(
            pipe.scheduler.config, flow_shift=spec.flow_shift
        )
    _place(pipe, device, offload)
    pipe.set_progress_bar_config(disable=True)
    shape = _shape(pipe, kind, spec)
    video = DiffusersVideo(
        pipe=pipe,
        name=path.name if spec is None else spec.model_id,
        kind=kind,
        image_to_video=image_to_video,
        native_fps=shape.fps,
        native_size=shape.size,
        max_frames=shape.frames,
        steps=steps or shape.steps,
        guidance=shape.guidance if guidance is None else guidance,
        max_sequence_length=shape.max_sequence_length,
        sizes=None if spec is None else dict(spec.sizes),
        fixed_frames=shape.fixed_frames,
    )
    log.info(
        "loaded %s (%s%s) on %s%s: %s, %d frames at %d fps, %d steps",
        video.name,
        class_name,
        ", image-to-video" if image_to_video else "",
        device,
        ", model CPU offload" if offload else "",
        ", ".join(f"{r} {w}×{h}" for r, (w, h) in video.supported_sizes().items()),
        shape.frames,
        shape.fps,
        video.steps,
    )
    return video


@dataclass(frozen=True)
class _Shape:
    size: tuple[int, int]
    frames: int
    fps: int
    steps: int
    guidance: float
    max_sequence_length: int | None
    fixed_frames: bool


def _shape(pipe: Any, kind: VideoKind, spec: VideoModel | None) -> _Shape:
    """What the model renders: from its table entry, else from the weights' configs."""
    max_seq: int | None = None
    if kind == "cogvideox":
        config = pipe.transformer.config
        max_seq = int(config.max_text_seq_length)
    if spec is not None:
        width, height = next(iter(spec.sizes.values()))
        return _Shape(
            (max(width, height), min(width, height)),
            spec.frames,
            spec.fps,
            spec.steps,
            spec.guidance,
            max_seq,
            spec.fixed_frames,
        )
    default_steps, default_guidance = _DEFAULTS[kind]
    if kind == "cogvideox":
        scale = int(pipe.vae_scale_factor_spatial)
        size = (int(config.sample_width) * scale, int(config.sample_height) * scale)
        fps = 8 if config.patch_size_t is None else 16  # CogVideoX 1.0 / 1.5
        frames = int(config.sample_frames)
        return _Shape(size, frames, fps, default_steps, default_guidance, max_seq, False)
    width, height, frames, fps = _WAN_NATIVE
    return _Shape((width, height), frames, fps, default_steps, default_guidance, None, False)


def _place(pipe: Any, device: str, offload: bool) -> None:
    if device.startswith("cuda") and offload:
        pipe.enable_model_cpu_offload()
    else:
        pipe.to(device)
    vae = getattr(pipe, "vae", None)
    if device.startswith("cuda") and vae is not None and hasattr(vae, "enable_tiling"):
        vae.enable_tiling()  # decoding 49+ frames at 720p otherwise peaks far above the model


def load_image_pipeline(
    path: Path, device: str, *, steps: int | None = None, offload: bool = False
) -> DiffusersImage:
    """Load a text-to-image model (SDXL, Flux, … — whatever ``AutoPipelineForText2Image``
    maps ``model_index.json`` to) for character references."""
    import diffusers

    quiet_libraries()
    pipe = diffusers.AutoPipelineForText2Image.from_pretrained(str(path), **_dtype_kwargs(device))
    _place(pipe, device, offload)
    pipe.set_progress_bar_config(disable=True)
    log.info("loaded image model %s (%s) on %s", path.name, type(pipe).__name__, device)
    return DiffusersImage(pipe=pipe, name=path.name, steps=steps)
