"""The worker's own settings (prefix ``TALE_GPU_``); the rest comes from ``shared.config``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class WorkerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TALE_GPU_", extra="ignore")

    weights: str = Field(
        description="The video model: a local folder (e.g. a Cloud Storage volume mount) or a "
        "gs://bucket/prefix copied to local disk once per task."
    )
    kind: Literal["auto", "cogvideox", "wan"] = Field(
        default="auto", description="auto: read from model_index.json."
    )
    image_weights: str | None = Field(
        default=None,
        description="A text-to-image model (SDXL, Flux) for character references; unset: "
        "no references are drawn.",
    )
    voice_weights: str | None = Field(
        default=None,
        description="The narrator (Bark, as suno/bark-small is laid out) for scenario B's "
        "narration; unset: narration is recorded as not voiced (logged in the tale's events).",
    )
    cache: Path = Field(default=Path("/tmp/tale-weights"), description="Where gs:// copies go.")
    device: str | None = Field(default=None, description="Default: cuda when available.")
    fps: int | None = Field(default=None, ge=1, le=60, description="Default: the model's own.")
    steps: int | None = Field(default=None, ge=1, le=500)
    guidance: float | None = Field(default=None, ge=0)
    image_steps: int | None = Field(default=None, ge=1, le=500)
    reference_size: int = Field(default=1024, ge=64, le=2048)
    reference_wait_s: float = Field(
        default=600.0, ge=0, description="How long tasks 1.. wait for task 0's references."
    )
    offload: bool | None = Field(
        default=None,
        description="Model CPU offload; default: what the model table says for the model "
        "(TALE_GPU_PIPELINE), off for a model it does not list.",
    )
    attempt: int | None = Field(
        default=None, ge=1, description="The tale attempt the execution renders (an override)."
    )
