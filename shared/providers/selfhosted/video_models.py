"""What each self-hosted video model renders and needs, checked at submission and sized into
terraform (``terraform/gpu_job.tf`` mirrors the GPU and memory; tests/infra compares them).

Sources, read on 2026-12-01:
- CogVideoX-5B / -5B-I2V: the model cards (huggingface.co/zai-org/CogVideoX-5b, formerly
  THUDM/…): 720 × 480 only ("no support for other resolutions"), 49 frames ≈ 6 s at 8 fps,
  226 prompt tokens, BF16; peak GPU memory with diffusers' model CPU offload and VAE tiling
  20.7 GB (the card's earlier revision; today's card quotes "from 5 GB" with *sequential*
  offload and ~3× without optimisations). The repository holds 21.5 GB; its tokenizer is a
  slow T5 one (``tokenizer/spiece.model``, no ``tokenizer.json``): sentencepiece is needed.
  The I2V weights' learned positional embeddings fix 49 frames at 720 × 480.
- Wan 2.1: github.com/Wan-Video/Wan2.1 (README and ``wan/configs/__init__.py``
  ``SUPPORTED_SIZES``): T2V-1.3B renders 832*480 and 480*832 (480P); T2V-14B 1280*720,
  720*1280, 832*480 and 480*832; 81 frames at 16 fps; peak GPU memory 8.19 GB for the 1.3B at
  480P (one RTX 4090, model offload and T5 on the CPU) and 69.1 GB for T2V-14B at 720P (one
  GPU, model offload). Diffusers' Wan page: the 1.3B "requires 11GB VRAM" with model CPU
  offload. Weights (Wan-AI/…-Diffusers): 1.3B 28.9 GB (transformer 5.68 GB and UMT5 encoder
  22.7 GB in fp32, VAE 0.5 GB), 14B ≈ 80 GB (transformer ≈ 57 GB).
- GPUs: Cloud Run's GPU pages (jobs and services): NVIDIA L4, 24 GB, at least 4 vCPU and
  16 GiB (at most 8 vCPU and 32 GiB); NVIDIA RTX PRO 6000 Blackwell (Preview), 96 GB, at
  least 20 vCPU and 80 GiB.

"RAM with offload" is what the task's memory must hold when every component waits in host
memory between its turns on the GPU: the bf16 weights (the Wan VAE in fp32) plus ~5 GiB for
the interpreter, CUDA context, one decoded clip and safetensors' loading buffers.

Default: ``wan2.1-t2v-1.3b`` — Tale's default is 9:16, and it is the one model here that
renders portrait natively on the cheapest GPU (an L4). CogVideoX-5B is landscape only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.providers.unsupported import Unsupported

AS_OF = "2026-12-01"
SHOT_SECONDS = (4, 6, 8)
#: How far a clip may be slowed or sped up to last its shot (the worker resamples the model's
#: frames evenly): beyond it motion looks frozen or jumpy.
MAX_STRETCH = 1.6


@dataclass(frozen=True)
class Gpu:
    accelerator: str
    """Cloud Run's ``node_selector.accelerator``."""
    memory_gb: float
    min_cpu: int
    min_memory_gib: int
    max_memory_gib: int


GPUS: dict[str, Gpu] = {
    g.accelerator: g
    for g in (
        Gpu("nvidia-l4", 24.0, min_cpu=4, min_memory_gib=16, max_memory_gib=32),
        Gpu("nvidia-rtx-pro-6000", 96.0, min_cpu=20, min_memory_gib=80, max_memory_gib=176),
    )
}


@dataclass(frozen=True)
class VideoModel:
    model_id: str
    family: str
    """``cogvideox`` or ``wan`` (the worker's loader)."""
    pipeline_class: str
    """``_class_name`` in the weights' ``model_index.json``."""
    sizes: dict[str, tuple[int, int]]
    """Aspect ratio → width × height the model card supports."""
    frames: int
    """Frames per clip (k·4 + 1)."""
    fps: int
    steps: int
    guidance: float
    peak_gpu_gb: float
    """Documented peak GPU memory in the worker's set-up (``offload``)."""
    weights_gb: float
    ram_offload_gib: int
    gpu: str
    """The accelerator terraform gives the job for this model."""
    source: str
    offload: bool = True
    fixed_frames: bool = False
    """True when the model takes exactly ``frames`` (CogVideoX); else fewer are allowed."""
    flow_shift: float | None = None
    """The scheduler's flow shift the card recommends at ``sizes`` (Wan)."""
    as_of: str = AS_OF
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def image_to_video(self) -> bool:
        return "ImageToVideo" in self.pipeline_class

    @property
    def native_seconds(self) -> float:
        return self.frames / self.fps

    @property
    def supported_seconds(self) -> tuple[int, ...]:
        span = self.native_seconds
        return tuple(s for s in SHOT_SECONDS if 1 / MAX_STRETCH <= span / s <= MAX_STRETCH)


_COGVIDEOX_CARD = "https://huggingface.co/zai-org/CogVideoX-5b (model card)"
_WAN_README = "https://github.com/Wan-Video/Wan2.1 (README, wan/configs/__init__.py)"


def _cogvideox(model_id: str, pipeline_class: str, source: str) -> VideoModel:
    return VideoModel(
        model_id,
        family="cogvideox",
        pipeline_class=pipeline_class,
        sizes={"16:9": (720, 480)},
        frames=49,
        fps=8,
        steps=50,
        guidance=6.0,
        peak_gpu_gb=20.7,
        weights_gb=21.5,
        ram_offload_gib=28,
        gpu="nvidia-l4",
        source=source,
        fixed_frames=True,
        notes=("720 x 480 only: portrait and square plans are refused",),
    )


MODELS: dict[str, VideoModel] = {
    m.model_id: m
    for m in (
        VideoModel(
            "wan2.1-t2v-1.3b",
            family="wan",
            pipeline_class="WanPipeline",
            sizes={"16:9": (832, 480), "9:16": (480, 832)},
            frames=81,
            fps=16,
            steps=50,
            guidance=5.0,
            peak_gpu_gb=11.0,
            weights_gb=28.9,
            ram_offload_gib=20,
            gpu="nvidia-l4",
            source=f"{_WAN_README}; https://huggingface.co/docs/diffusers/api/pipelines/wan",
            flow_shift=3.0,
            notes=("8.19 GB peak in the Wan repository with the T5 encoder on the CPU",),
        ),
        VideoModel(
            "wan2.1-t2v-14b",
            family="wan",
            pipeline_class="WanPipeline",
            sizes={"16:9": (1280, 720), "9:16": (720, 1280)},
            frames=81,
            fps=16,
            steps=50,
            guidance=5.0,
            peak_gpu_gb=69.1,
            weights_gb=80.0,
            ram_offload_gib=48,
            gpu="nvidia-rtx-pro-6000",
            source=_WAN_README,
            flow_shift=5.0,
        ),
        _cogvideox("cogvideox-5b", "CogVideoXPipeline", _COGVIDEOX_CARD),
        _cogvideox(
            "cogvideox-5b-i2v",
            "CogVideoXImageToVideoPipeline",
            "https://huggingface.co/zai-org/CogVideoX-5b-I2V (model card)",
        ),
    )
}

DEFAULT_MODEL = "wan2.1-t2v-1.3b"


def model(model_id: str) -> VideoModel | None:
    return MODELS.get(model_id)


def renderable(model_id: str, aspect_ratio: str, shot_seconds: int) -> Unsupported | None:
    """``None`` when ``model_id`` renders shots of this shape and length, else why not."""
    spec = MODELS.get(model_id)
    if spec is None:
        known = ", ".join(sorted(MODELS))
        return Unsupported(f"unknown self-hosted video model {model_id!r} (known: {known})", (), ())
    ratios = tuple(spec.sizes)
    seconds = spec.supported_seconds
    if aspect_ratio not in spec.sizes:
        sizes = ", ".join(f"{w}×{h}" for w, h in spec.sizes.values())
        return Unsupported(
            f"{model_id} renders {' and '.join(ratios)} only ({sizes}); "
            f"aspect ratio {aspect_ratio} is not supported",
            ratios,
            seconds,
        )
    if shot_seconds not in seconds:
        return Unsupported(
            f"{model_id} renders {spec.native_seconds:.1f} s clips; a {shot_seconds} s shot "
            f"would stretch them more than {MAX_STRETCH}×",
            ratios,
            seconds,
        )
    return None
