"""Terraform gives each self-hosted video model what the model table says it needs: a GPU
whose memory holds the documented peak, RAM for the CPU-offloaded weights, a vCPU count
Cloud Run allows with that GPU; the tasks of an execution run in parallel; the planner's
language model server is internal to the scenario B network."""

from __future__ import annotations

import re

import pytest

from shared.config import Settings
from shared.providers.selfhosted.video_models import GPUS, MODELS
from tests.infra.hcl import expr, load

CONFIG = load()


def gib(value: str) -> float:
    number, unit = re.fullmatch(r"(\d+(?:\.\d+)?)(Gi|Mi)", value).groups()  # type: ignore[union-attr]
    return float(number) / (1024 if unit == "Mi" else 1)


def terraform_models() -> dict[str, dict[str, str]]:
    models: dict[str, dict[str, str]] = CONFIG.locals["gpu_models"]
    return models


def test_terraform_knows_exactly_the_models_of_the_table() -> None:
    assert set(terraform_models()) == set(MODELS)
    variable = CONFIG.variables["gpu_video_model"]
    assert variable["default"] == Settings().gpu_pipeline
    condition = variable["validation"][0]["condition"]
    assert all(f'"{m}"' in condition for m in MODELS)


@pytest.mark.parametrize("model_id", sorted(MODELS))
def test_the_job_fits_the_model(model_id: str) -> None:
    spec, sized = MODELS[model_id], terraform_models()[model_id]
    gpu = GPUS[sized["gpu"]]
    assert sized["gpu"] == spec.gpu
    assert gpu.memory_gb >= spec.peak_gpu_gb, "the GPU must hold the documented peak"
    memory = gib(sized["memory"])
    assert memory >= spec.ram_offload_gib, "RAM must hold the offloaded weights"
    assert gpu.min_memory_gib <= memory <= gpu.max_memory_gib
    assert int(sized["cpu"]) >= gpu.min_cpu
    assert sized["offload"] == ("true" if spec.offload else "false")


def test_tasks_run_in_parallel_and_the_worker_knows_its_model() -> None:
    job = CONFIG.resource("google_cloud_run_v2_job.gpu_worker")
    template = job.block("template")
    assert expr(template["task_count"]) == expr(template["parallelism"]) == "var.gpu_tasks"
    (container,) = job.block("template", "template")["containers"]
    env = {e["name"]: expr(e["value"]) for e in container["env"]}
    assert env["TALE_GPU_PIPELINE"] == "var.gpu_video_model"
    assert env["TALE_GPU_OFFLOAD"] == "local.gpu_model.offload"
    assert CONFIG.variables["gpu_tasks"]["default"] == Settings().gpu_tasks
    functions = (CONFIG.files["functions.tf"]).__repr__()
    assert "TALE_GPU_TASKS" in functions  # the dispatch asks for as many tasks as run at once


def test_the_planner_server_is_internal_to_the_scenario_b_network() -> None:
    service = CONFIG.resource("google_cloud_run_v2_service.planner")
    assert service.body["ingress"] == "INGRESS_TRAFFIC_INTERNAL_ONLY"
    template = service.block("template")
    assert template["node_selector"] == [{"accelerator": "nvidia-l4"}]
    vpc = template["vpc_access"][0]
    assert vpc["egress"] == "ALL_TRAFFIC"
    assert expr(vpc["network_interfaces"][0]["network"]) == "google_compute_network.gpu[0].id"
    (container,) = template["containers"]
    assert "/weights/${var.planner_weights_path}" in container["args"]
    fn = CONFIG.resource("google_cloudfunctions2_function.fn").block("service_config")
    assert "google_vpc_access_connector.planner[0].id" in expr(fn["vpc_connector"])
    assert "PRIVATE_RANGES_ONLY" in expr(fn["vpc_connector_egress_settings"])
    zone = CONFIG.resource("google_dns_managed_zone.run_app").body
    assert zone["dns_name"] == "run.app." and zone["visibility"] == "private"
    googleapis = CONFIG.resource("google_dns_managed_zone.googleapis").body
    assert googleapis["dns_name"] == "googleapis.com."
