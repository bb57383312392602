"""Pure helpers of the worker: blob paths, seeds, prompts and fitting frames to a duration."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
from PIL import Image

from schemas.plan import Shot, StoryPlan
from shared.providers.offline.looks import STYLE_WORDING
from shared.stages.common import tale_prefix


def clip_path(tale_id: str, index: int, attempt: int) -> str:
    """The shot stage's convention: ``tales/<id>/shots/<index:02d>-a<attempt>.mp4``."""
    return f"{tale_prefix(tale_id)}/shots/{index:02d}-a{attempt}.mp4"


def reference_path(tale_id: str, number: int) -> str:
    """Character ``number`` (its place in the plan) → ``tales/<id>/characters/<nn>.png``."""
    return f"{tale_prefix(tale_id)}/characters/{number:02d}.png"


def seed_for(*parts: object) -> int:
    """A 32-bit seed from the parts (tale, shot, attempt): a retried task redraws the same."""
    text = ":".join(str(p) for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")


def prompt_sha256(prompt: str) -> str:
    return hashlib.sha256(prompt.encode("utf-8")).hexdigest()


def video_prompt(plan: StoryPlan, shot: Shot) -> str:
    """The shot's prompt (it already repeats every present character's description) with
    its camera and the plan's style, which open models do not get any other way."""
    body = shot.prompt.strip().rstrip(".")
    return f"{shot.camera.value.capitalize()}. {body}. Style: {STYLE_WORDING[plan.style]}."


def fit_frames(frames: Sequence[np.ndarray], count: int) -> list[np.ndarray]:
    """Exactly ``count`` frames, evenly resampled (nearest frame) from ``frames``.

    A model renders a fixed span (CogVideoX 1.0: 49 frames, ~6 s at 8 fps; the tests' tiny
    model 9 frames); the clip must last the shot's duration at the clip's rate, so frames
    are repeated (or dropped) evenly — slow motion rather than a cut-short shot.
    """
    if not frames:
        raise ValueError("the model returned no frames")
    if count <= 0:
        raise ValueError(f"frame count must be positive, got {count}")
    n = len(frames)
    return [frames[i * n // count] for i in range(count)]


def sized(frame: np.ndarray, width: int, height: int) -> np.ndarray:
    """The frame at width × height (models keep the size asked for; this is a safety net)."""
    if frame.shape[:2] == (height, width):
        return frame
    image = Image.fromarray(frame).convert("RGB").resize((width, height), Image.Resampling.LANCZOS)
    return np.asarray(image, dtype=np.uint8)
