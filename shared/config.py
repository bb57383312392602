"""Settings from environment variables (prefix ``TALE_``), read once by the composition root."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TALE_", extra="ignore")

    home: Path = Field(
        default=Path(".tale"), description="Local state and media (embedded default)."
    )
    max_story_chars: int = Field(default=20_000, ge=100)
    owner: str = Field(default="local-user", description="Owner of tales submitted from the CLI.")
    owner_email: str = "you@localhost"

    # Local bus (Pub/Sub semantics).
    concurrency: int = Field(default=8, ge=1, le=64)
    max_delivery_attempts: int = Field(default=5, ge=1, le=100)
    retry_min_backoff_s: float = Field(default=0.5, ge=0)
    retry_max_backoff_s: float = Field(default=10.0, ge=0)
    ack_deadline_s: float = Field(default=600.0, gt=0)

    # Shot rendering.
    shot_poll_budget_s: float = Field(
        default=480.0, gt=0, description="Poll a provider this long, then hand over."
    )
    shot_poll_interval_s: float = Field(default=5.0, gt=0)

    # Offline generators (placeholders for the models).
    offline_height: int = Field(
        default=640,
        ge=64,
        le=2160,
        description="Frame height of offline clips; width follows the aspect ratio.",
    )
    offline_fps: int = Field(default=24, ge=1, le=60)
    offline_shot_delay_s: float = Field(
        default=0.0, ge=0, description="Extra latency per shot (benchmarks)."
    )
    font: Path | None = Field(default=None, description="A TrueType/OpenType font with Hangul.")
