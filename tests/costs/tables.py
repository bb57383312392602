"""A small price table with round numbers, so that expected costs can be worked out by hand."""

from __future__ import annotations

import copy
from typing import Any

from shared.costs.prices import PriceTable


def _price(pid: str, unit: str, usd: float, per: float = 1) -> dict[str, Any]:
    return {
        "id": pid,
        "unit": unit,
        "per": per,
        "usd": usd,
        "source": f"https://example.test/{pid}",
        "as_of": "2026-11-01",
    }


def _meter(provider: str, model: str, unit: str, *charges: tuple[str, float]) -> dict[str, Any]:
    return {
        "provider": provider,
        "model": model,
        "unit": unit,
        "charges": [{"price": p, "factor": f} for p, f in charges],
    }


def video_model(model: str, rate: float, **clip: Any) -> dict[str, Any]:
    """A video model's entry: by default a 5-second clip (40 frames at 8 fps, always all of
    them), so that a 5 s shot is 5 s of clip."""
    return {
        "model": model,
        "gpu": "gpu-x",
        "gpu_seconds_per_video_second": rate,
        "width": 720,
        "height": 480,
        "frames": 40,
        "fps": 8,
        "steps": 50,
        "fixed_frames": True,
        "basis": "derived",
        "source": f"https://example.test/{model}",
        "as_of": "2026-11-01",
    } | clip


def _assume(aid: str, value: float) -> dict[str, Any]:
    return {"id": aid, "value": value, "unit": "-", "source": "test", "as_of": "2026-11-01"}


SMALL: dict[str, Any] = {
    "version": "2026-11-01",
    "currency": "USD",
    "prices": [
        _price("gem-in", "input token", 1.0, per=1_000_000),  # $0.000001 a token
        _price("gem-out", "output token", 2.0, per=1_000_000),  # $0.000002 a token
        _price("img", "image", 0.05),
        _price("vid", "second of video", 0.50),
        _price("gpu", "GPU-second", 0.001),
        _price("tts-in", "input text token", 1.0, per=1_000_000),  # $0.000001 a token
        _price("tts-audio", "output audio token", 10.0, per=1_000_000),  # $0.00001 a token
        _price("req", "request", 0.40, per=1_000_000),
        _price("vcpu", "vCPU-second", 0.00002),
        _price("gib", "GiB-second", 0.000002),
        _price("gb-month", "GB-month", 0.5),
        _price("plan-pro", "month", 20.0),
        _price("plan-free", "month", 0.0),
    ],
    "meters": [
        _meter("gem", "m-gem", "input_tokens", ("gem-in", 1)),
        _meter("gem", "m-gem", "output_tokens", ("gem-out", 1)),
        _meter("img", "m-img", "images", ("img", 1)),
        _meter("vid", "m-vid", "video_seconds", ("vid", 1)),
        _meter("tts", "m-tts", "input_tokens", ("tts-in", 1)),
        _meter("tts", "m-tts", "audio_tokens", ("tts-audio", 1)),
        _meter("self", "*", "input_tokens"),
        _meter("self", "*", "output_tokens"),
        _meter("self", "*", "gpu_seconds", ("gpu", 1)) | {"gpu": "gpu-x"},
        _meter("gcp", "*", "invocations", ("req", 1)),
        _meter("gcp", "*", "vcpu_seconds", ("vcpu", 1)),
        _meter("gcp", "*", "gib_seconds", ("gib", 1)),
    ],
    "scenarios": {
        "A": {
            "planner": {"provider": "gem", "model": "m-gem"},
            "images": {"provider": "img", "model": "m-img"},
            "videos": {"provider": "vid", "model": "m-vid"},
            "voice": {"provider": "tts", "model": "m-tts"},
        },
        "B": {
            "planner": {"provider": "self", "model": "llm"},
            "images": {"provider": "self", "model": "sdxl"},
            "videos": {"provider": "self", "model": "cogvideox"},
            "voice": {"provider": "self", "model": "bark"},
        },
    },
    "fixed_monthly": [
        {"id": "planner", "scenario": "B", "charges": [{"price": "gpu", "factor": 100_000}]},
        {"id": "weights", "scenario": "B", "charges": [{"price": "gb-month", "factor": 10}]},
    ],
    "video_models": [video_model("cogvideox", 10)],
    "assumptions": [
        _assume("planner_prompt_tokens", 1000),
        _assume("story_tokens_per_char", 0.5),
        _assume("typical_story_chars", 2000),
        _assume("plan_output_tokens_base", 500),
        _assume("plan_output_tokens_per_shot", 100),
        _assume("plan_output_tokens_per_character", 50),
        _assume("planner_thinking_tokens", 0),
        _assume("characters_per_tale", 2),
        _assume("gpu_seconds_per_image", 5),
        _assume("gpu_seconds_per_tale", 100),
        _assume("narration_fill_ratio", 0.5),
        _assume("narration_chars_per_second", 10),
        _assume("narration_style_tokens_per_line", 20),
        _assume("tts_audio_tokens_per_second", 25),
        _assume("voice_gpu_seconds_per_speech_second", 2),
        _assume("platform_usd_per_shot", 0.01),
        _assume("platform_usd_per_tale", 0.02),
        _assume("api_cost_share_threshold", 0.6),
    ],
    "revenue": {
        "plans": [
            {"plan": "free", "price": "plan-free", "share_of_videos": 0.0},
            {"plan": "pro", "price": "plan-pro", "share_of_videos": 1.0},
        ]
    },
}

TALES_PER_MONTH = {"free": 2, "pro": 10, "business": 100}


def small_table(**changes: Any) -> PriceTable:
    data = copy.deepcopy(SMALL)
    data.update(changes)
    return PriceTable.model_validate(data)


def raw_table() -> dict[str, Any]:
    return copy.deepcopy(SMALL)
