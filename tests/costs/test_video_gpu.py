"""Scenario B's rendering follows the self-hosted video model the settings choose: each model
of the worker's table has a dated, sourced GPU-seconds figure for the clip the worker renders,
the deployment's model is the one priced, and a model the table cannot price is reported as
unpriced rather than counted as nothing or as another model."""

from __future__ import annotations

import math

import pytest

from shared.config import Settings
from shared.costs.estimate import estimate_tale
from shared.costs.prices import PriceTable, load_prices
from shared.costs.profile import default_profile
from shared.costs.scenarios import compare, deployment_engines, engines_from
from shared.providers.selfhosted.video_models import DEFAULT_MODEL, MODELS
from tests.costs.tables import TALES_PER_MONTH, raw_table, small_table, video_model
from tests.infra.hcl import load

AS_OF = "2026-12-02"


def job_second(table: PriceTable, model: str) -> float:
    """USD of one second of the GPU worker job running ``model``."""
    usd = table.usd("self-hosted", model, "gpu_seconds", 1)
    assert usd is not None
    return usd


def rendering_usd(shots: int, seconds: int, settings: Settings) -> float:
    table = load_prices()
    specs = deployment_engines(table, settings)
    return estimate_tale(shots, seconds, 2, "B", table, specs=specs).by_stage["rendering"]


@pytest.mark.parametrize("model_id", sorted(MODELS))
def test_every_model_of_the_worker_table_has_a_sourced_figure_for_its_clip(
    model_id: str,
) -> None:
    spec, rate = MODELS[model_id], load_prices().video_model(model_id)
    assert rate is not None, f"{model_id} has no GPU-seconds figure in the price table"
    assert rate.gpu_seconds_per_video_second > 0
    assert rate.gpu == spec.gpu, "priced on the GPU terraform gives the model"
    assert (rate.frames, rate.fps, rate.steps) == (spec.frames, spec.fps, spec.steps)
    assert rate.fixed_frames == spec.fixed_frames
    assert (rate.width, rate.height) in spec.sizes.values()
    assert rate.basis in ("measured", "derived")
    assert rate.source.startswith("https://") and str(rate.as_of) == AS_OF
    assert rate.note, "how the figure was measured or derived"


def test_the_table_rates_no_model_the_worker_does_not_know() -> None:
    assert {v.model for v in load_prices().video_models} == set(MODELS)


def test_the_default_b_model_is_the_settings_default_and_its_figure_is_used() -> None:
    table = load_prices()
    assert Settings().gpu_pipeline == DEFAULT_MODEL == table.scenarios["B"].videos.model
    wan = table.video_model(DEFAULT_MODEL)
    assert wan is not None and wan.gpu_seconds_per_video_second == 174
    # 8 shots of 8 s: the worker renders one 81-frame clip (5.06 s at 16 fps) per shot.
    gpu = 8 * 81 / 16 * 174 + table.assumption("gpu_seconds_per_tale")
    expected = gpu * job_second(table, DEFAULT_MODEL)
    assert rendering_usd(8, 8, Settings()) == pytest.approx(expected)
    profile = default_profile(table)
    for specs in (None, deployment_engines(table, Settings())):
        c = compare(profile, 0, table, TALES_PER_MONTH, specs)
        rendering = next(x for x in c.b.variable if x.stage == "rendering")
        assert rendering.usd == pytest.approx(expected)
        assert DEFAULT_MODEL in rendering.detail and "480×832" in rendering.detail
        assert c.unpriced == []


def test_switching_the_model_setting_switches_the_figure() -> None:
    table = load_prices()
    cogvideox = table.video_model("cogvideox-5b")
    assert cogvideox is not None and cogvideox.gpu_seconds_per_video_second == 200
    settings = Settings(scenario="B", gpu_pipeline="cogvideox-5b")
    # CogVideoX always renders its 49 frames at 8 fps (6.1 s), whatever the shot.
    gpu = 8 * 49 / 8 * 200 + table.assumption("gpu_seconds_per_tale")
    expected = gpu * job_second(table, "cogvideox-5b")
    assert rendering_usd(8, 8, settings) == pytest.approx(expected)
    assert expected != pytest.approx(rendering_usd(8, 8, Settings()))


def test_a_shot_costs_the_clip_the_worker_renders_for_it() -> None:
    wan = load_prices().video_model("wan2.1-t2v-1.3b")
    assert wan is not None
    # fps × seconds as k·4 + 1, at most 81 (the worker's model_frames): 4 s → 65 frames.
    assert [wan.clip_frames(s) for s in (4, 6, 8)] == [65, 81, 81]
    assert wan.rendered_seconds(8) == pytest.approx(81 / 16)
    cogvideox = load_prices().video_model("cogvideox-5b")
    assert cogvideox is not None
    assert [cogvideox.clip_frames(s) for s in (4, 6, 8)] == [49, 49, 49]
    # A short Wan shot costs less than a long one; a CogVideoX shot costs the same.
    assert rendering_usd(8, 4, Settings()) < rendering_usd(8, 8, Settings())
    cog = Settings(scenario="B", gpu_pipeline="cogvideox-5b")
    assert math.isclose(rendering_usd(8, 4, cog), rendering_usd(8, 8, cog))


def test_a_model_without_a_figure_is_reported_unpriced_not_zero() -> None:
    table = load_prices()
    specs = engines_from(table, video="wan9-t2v-unknown")
    estimate = estimate_tale(8, 8, 2, "B", table, specs=specs)
    assert estimate.unpriced == ("self-hosted/wan9-t2v-unknown/gpu_seconds_per_video_second",)
    start = table.assumption("gpu_seconds_per_tale") * job_second(table, "wan9-t2v-unknown")
    assert estimate.by_stage["rendering"] == pytest.approx(start)  # the start, no clips
    c = compare(default_profile(table), 0, table, TALES_PER_MONTH, specs)
    assert c.unpriced == ["self-hosted/wan9-t2v-unknown/gpu_seconds_per_video_second"]


def test_a_model_on_a_gpu_the_job_meter_does_not_price_is_unpriced() -> None:
    """wan2.1-t2v-14b runs on an RTX PRO 6000; the GPU-second meter is an L4's."""
    table = load_prices()
    settings = Settings(scenario="B", gpu_pipeline="wan2.1-t2v-14b")
    estimate = estimate_tale(8, 8, 2, "B", table, specs=deployment_engines(table, settings))
    assert estimate.unpriced == ("self-hosted/wan2.1-t2v-14b/gpu_seconds (nvidia-rtx-pro-6000)",)
    start = table.assumption("gpu_seconds_per_tale") * job_second(table, "wan2.1-t2v-14b")
    assert estimate.by_stage["rendering"] == pytest.approx(start)
    c = compare(
        default_profile(table), 0, table, TALES_PER_MONTH, deployment_engines(table, settings)
    )
    rendering = next(x for x in c.b.variable if x.stage == "rendering")
    assert "no price for its nvidia-rtx-pro-6000" in rendering.detail


def test_a_table_rates_a_model_once() -> None:
    data = raw_table()
    data["video_models"] = [video_model("v", 10), video_model("v", 20)]
    with pytest.raises(ValueError, match="duplicate video model 'v'"):
        PriceTable.model_validate(data)


def test_a_model_that_takes_fewer_frames_renders_only_what_the_shot_needs() -> None:
    table = small_table(
        video_models=[video_model("cogvideox", 10, frames=81, fps=16, fixed_frames=False)]
    )
    # 4 shots of 4 s: 65 frames each (4.06 s of clip), 10 GPU-s a second, 100 to start.
    rendering = (4 * 65 / 16 * 10 + 100) * 0.001
    assert estimate_tale(4, 4, 2, "B", table).by_stage["rendering"] == pytest.approx(rendering)


def test_a_job_second_is_the_task_terraform_gives_each_l4_model() -> None:
    """The GPU-second meter prices the GPU, vCPU and memory of the job's task; the planner's
    fixed month the service terraform runs always on."""
    table, config = load_prices(), load()
    meter = table.meter("self-hosted", DEFAULT_MODEL, "gpu_seconds")
    assert meter is not None and meter.gpu == "nvidia-l4"
    factors = {c.price: c.factor for c in meter.charges}
    for model_id, sized in config.locals["gpu_models"].items():
        if sized["gpu"] != meter.gpu:
            rate = table.video_model(model_id)
            assert rate is not None and rate.gpu == sized["gpu"]  # reported unpriced
            continue
        assert factors == {
            "run-l4-gpu-second": 1,
            "run-instance-vcpu-second": int(sized["cpu"]),
            "run-instance-gib-second": int(sized["memory"].removesuffix("Gi")),
        }, model_id
    planner = config.resource("google_cloud_run_v2_service.planner")
    (container,) = planner.block("template")["containers"]
    limits = container["resources"][0]["limits"]
    month = 730 * 3600
    (fixed,) = (f for f in table.fixed_monthly if f.id == "planner-service")
    assert {c.price: c.factor for c in fixed.charges} == {
        "run-l4-gpu-second": month * int(limits["nvidia.com/gpu"]),
        "run-instance-vcpu-second": month * int(limits["cpu"]),
        "run-instance-gib-second": month * int(limits["memory"].removesuffix("Gi")),
    }
