"""The self-hosted video model table: what each model renders, refused before anything is
paid, and what it needs from the GPU job (terraform is checked against it in tests/infra)."""

from __future__ import annotations

import pytest

from shared.config import Settings
from shared.providers.capabilities import Unsupported, check_renderable
from shared.providers.selfhosted.video_models import (
    DEFAULT_MODEL,
    GPUS,
    MODELS,
    renderable,
)


def scenario_b(model: str) -> Settings:
    return Settings(scenario="B", gpu_pipeline=model)


def test_a_portrait_request_to_a_landscape_only_model_is_refused() -> None:
    for model in ("cogvideox-5b", "cogvideox-5b-i2v"):
        refusal = check_renderable(scenario_b(model), "9:16", 8)
        assert isinstance(refusal, Unsupported)
        assert refusal.supported_aspect_ratios == ("16:9",)
        assert "9:16 is not supported" in refusal.reason and "720×480" in refusal.reason
        assert check_renderable(scenario_b(model), "16:9", 8) is None


def test_the_default_model_renders_the_default_tale() -> None:
    assert Settings().gpu_pipeline == DEFAULT_MODEL
    settings = Settings(scenario="B")
    for seconds in (4, 6, 8):
        assert check_renderable(settings, "9:16", seconds) is None
        assert check_renderable(settings, "16:9", seconds) is None
    square = check_renderable(settings, "1:1", 8)
    assert isinstance(square, Unsupported) and square.supported_seconds == (4, 6, 8)


def test_an_unknown_model_renders_nothing() -> None:
    refusal = renderable("cogvideox", "16:9", 8)
    assert isinstance(refusal, Unsupported) and "unknown" in refusal.reason
    assert refusal.supported_aspect_ratios == ()


@pytest.mark.parametrize("model_id", sorted(MODELS))
def test_each_entry_is_consistent(model_id: str) -> None:
    spec = MODELS[model_id]
    assert spec.model_id == model_id and spec.family in ("cogvideox", "wan")
    assert spec.pipeline_class.startswith({"cogvideox": "CogVideoX", "wan": "Wan"}[spec.family])
    assert (spec.frames - 1) % 4 == 0
    for width, height in spec.sizes.values():
        assert width % 16 == 0 and height % 16 == 0
    assert set(spec.sizes) <= {"16:9", "9:16", "1:1"}
    for ratio, (width, height) in spec.sizes.items():
        assert (width > height) == (ratio == "16:9")
    gpu = GPUS[spec.gpu]
    assert gpu.memory_gb >= spec.peak_gpu_gb, "the documented peak must fit the GPU"
    assert gpu.max_memory_gib >= spec.ram_offload_gib, "offloaded weights must fit in RAM"
    assert spec.source.startswith("https://") and spec.as_of == "2026-12-01"


def test_wan_sizes_are_the_repositorys_supported_sizes() -> None:
    # wan/configs/__init__.py SUPPORTED_SIZES, as width*height
    assert set(MODELS["wan2.1-t2v-1.3b"].sizes.values()) == {(832, 480), (480, 832)}
    assert set(MODELS["wan2.1-t2v-14b"].sizes.values()) <= {
        (1280, 720),
        (720, 1280),
        (832, 480),
        (480, 832),
    }
