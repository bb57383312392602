"""Scenario B's rendering work: the GPU-seconds the self-hosted video model spends on a
video's shots, from the price table's figure for that model (``video_models``).

The worker renders one clip per shot — the frames the model takes for the shot's length, at
most its longest clip (Wan 2.1: 81 frames at 16 fps, 5.06 s; CogVideoX: always 49 frames at
8 fps, 6.1 s) — and stretches it to the shot. So an 8 s shot costs one 5.06 s clip of Wan,
not 8 s of it: the table's figure is GPU-seconds per second of *clip*, and the work is the
seconds of clip the shots need.

A model the table has no figure for, or whose GPU the GPU-second meter does not price (the
job's meter is an L4's; ``wan2.1-t2v-14b`` runs on an RTX PRO 6000), is *unpriced*: its
rendering counts nothing and the comparison says so, rather than pricing it as another model.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.costs.prices import Engine, PriceTable, VideoModelRate
from shared.costs.profile import WorkProfile


@dataclass(frozen=True)
class Rendering:
    gpu_seconds: float
    """GPU-seconds of the video model for the video's shots (0 when unpriced)."""
    clip_seconds: float
    """Seconds of clip the model renders for them."""
    rate: VideoModelRate | None
    unpriced: str | None = None
    """``provider/model/unit`` the table cannot price, if any."""

    def describe(self, video_seconds: float, model: str) -> str:
        if self.rate is None:
            return f"{video_seconds:g} s of video, {model} (no GPU-seconds figure)"
        r = self.rate
        clips = f"{self.clip_seconds:,.1f} s of clip ({r.width}×{r.height}, {r.fps} fps) for "
        if self.unpriced:
            return f"{clips}{video_seconds:g} s of video, {model} (no price for its {r.gpu})"
        return (
            f"{clips}{video_seconds:g} s of video at {r.gpu_seconds_per_video_second:g} "
            f"GPU-s a second, {model}"
        )


def rendering_work(profile: WorkProfile, engine: Engine, prices: PriceTable) -> Rendering:
    """The profile's shots rendered by ``engine`` (its mean shot length for every shot)."""
    rate = prices.video_model(engine.model)
    if rate is None:
        missing = f"{engine.provider}/{engine.model}/gpu_seconds_per_video_second"
        return Rendering(0.0, 0.0, None, missing)
    shots = profile.shots.value
    per_shot = profile.video_seconds.value / shots if shots else 0.0
    clip_seconds = shots * rate.rendered_seconds(per_shot)
    meter = prices.meter(engine.provider, engine.model, "gpu_seconds")
    if meter is not None and meter.gpu != rate.gpu:
        missing = f"{engine.provider}/{engine.model}/gpu_seconds ({rate.gpu})"
        return Rendering(0.0, clip_seconds, rate, missing)
    return Rendering(clip_seconds * rate.gpu_seconds_per_video_second, clip_seconds, rate)
