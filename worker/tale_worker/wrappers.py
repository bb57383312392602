"""The wrappers that call a loaded diffusers pipeline the way each model family needs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from PIL import Image, ImageOps

VideoKind = Literal["cogvideox", "wan"]


class UnsupportedShape(ValueError):
    """The plan's aspect ratio is not one the model renders."""


def _round16(value: float) -> int:
    return max(16, round(value / 16) * 16)


@dataclass
class DiffusersVideo:
    """A loaded diffusers video pipeline and what it needs to be called right."""

    pipe: Any
    name: str
    kind: VideoKind
    image_to_video: bool
    native_fps: int
    native_size: tuple[int, int]
    max_frames: int
    steps: int
    guidance: float
    max_sequence_length: int | None = None
    sizes: dict[str, tuple[int, int]] | None = None
    """Aspect ratio → width × height from the model table; None: derived from
    ``native_size`` (a model the table does not list)."""
    fixed_frames: bool = False
    """Always render ``max_frames`` (CogVideoX: its card's only frame count)."""

    def supported_sizes(self) -> dict[str, tuple[int, int]]:
        if self.sizes is not None:
            return dict(self.sizes)
        long, short = max(self.native_size), min(self.native_size)
        turned = {"16:9": (long, short), "9:16": (short, long), "1:1": (short, short)}
        return {ratio: (_round16(w), _round16(h)) for ratio, (w, h) in turned.items()}

    def size_for(self, aspect_ratio: str) -> tuple[int, int]:
        """The size the model card gives this aspect ratio (an unlisted model: its native size
        turned for portrait, the short side squared for square plans)."""
        sizes = self.supported_sizes()
        if aspect_ratio not in sizes:
            raise UnsupportedShape(
                f"{self.name} renders {', '.join(sizes)} only, not {aspect_ratio} "
                "(submission should have refused this tale)"
            )
        return sizes[aspect_ratio]

    def model_frames(self, wanted: int) -> int:
        """The frame count to ask for: ``max_frames`` for a fixed-length model, else at most
        ``max_frames``, of the form k·t + 1 (t the VAE's temporal compression, 4 for both
        families)."""
        if self.fixed_frames:
            return self.max_frames
        t = int(getattr(self.pipe, "vae_scale_factor_temporal", 4) or 4)
        n = max(1, min(wanted, self.max_frames))
        k = max(1, (n - 1 + t // 2) // t)
        return min(k * t + 1, self.max_frames)

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
        """``fps`` is the clip's rate; neither family takes one (they render at
        ``native_fps``), so it only documents the caller's intent."""
        import torch

        args: dict[str, Any] = {
            "prompt": prompt,
            "height": height,
            "width": width,
            "num_frames": self.model_frames(frames),
            "num_inference_steps": self.steps,
            "guidance_scale": self.guidance,
            # A CPU generator gives the same noise on every device.
            "generator": torch.Generator(device="cpu").manual_seed(seed),
            "output_type": "np",
        }
        if self.max_sequence_length is not None:
            args["max_sequence_length"] = self.max_sequence_length
        if self.image_to_video:
            if first_frame is None:
                raise ValueError(f"{self.name} is an image-to-video model: it needs a first frame")
            args["image"] = ImageOps.fit(first_frame.convert("RGB"), (width, height))
        with torch.inference_mode():
            out = self.pipe(**args)
        video = np.asarray(out.frames[0], dtype=np.float32)  # frames × H × W × 3 in [0, 1]
        video = np.clip(np.rint(video * 255.0), 0, 255).astype(np.uint8)
        return [np.ascontiguousarray(f) for f in video]


@dataclass
class DiffusersImage:
    pipe: Any
    name: str
    steps: int | None = None

    def render(self, prompt: str, width: int, height: int, seed: int) -> Image.Image:
        import torch

        args: dict[str, Any] = {
            "prompt": prompt,
            "width": width,
            "height": height,
            "generator": torch.Generator(device="cpu").manual_seed(seed),
        }
        if self.steps is not None:
            args["num_inference_steps"] = self.steps
        with torch.inference_mode():
            image = self.pipe(**args).images[0]
        if not isinstance(image, Image.Image):
            raise TypeError(f"{self.name} returned {type(image).__name__}, not an image")
        return image.convert("RGB")
