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
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from PIL import Image

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
) -> DiffusersVideo:
    """Load the video model in ``path`` (once per task) onto ``device``.

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
    kwargs = _dtype_kwargs(device)
    if kind == "wan":  # the Wan VAE is meant to run in fp32 (model card)
        kwargs["vae"] = diffusers.AutoencoderKLWan.from_pretrained(
            str(path), subfolder="vae", **_dtype_kwargs(device, full=True)
        )
    pipe = getattr(diffusers, wanted).from_pretrained(str(path), **kwargs)
    _place(pipe, device, offload)
    pipe.set_progress_bar_config(disable=True)
    default_steps, default_guidance = _DEFAULTS[kind]
    if kind == "cogvideox":
        config = pipe.transformer.config
        scale = int(pipe.vae_scale_factor_spatial)
        size = (int(config.sample_width) * scale, int(config.sample_height) * scale)
        max_frames = int(config.sample_frames)
        fps = 8 if config.patch_size_t is None else 16  # CogVideoX 1.0 / 1.5
        max_seq: int | None = int(config.max_text_seq_length)
    else:
        width, height, max_frames, fps = _WAN_NATIVE
        size, max_seq = (width, height), None
    video = DiffusersVideo(
        pipe=pipe,
        name=path.name,
        kind=kind,
        image_to_video=image_to_video,
        native_fps=fps,
        native_size=size,
        max_frames=max_frames,
        steps=steps or default_steps,
        guidance=default_guidance if guidance is None else guidance,
        max_sequence_length=max_seq,
    )
    log.info(
        "loaded %s (%s%s) on %s: native %d×%d, %d frames at %d fps, %d steps",
        video.name,
        class_name,
        ", image-to-video" if image_to_video else "",
        device,
        size[0],
        size[1],
        max_frames,
        fps,
        video.steps,
    )
    return video


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
