"""In scenario B the composition root builds only self-hosted generators and refuses every
external AI provider."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.bootstrap import Container
from shared.config import Settings
from shared.providers.egress import EgressRefused
from shared.providers.selfhosted.planner import OpenAICompatiblePlanner


def scenario_b(tmp_path: Path) -> Container:
    return Container(
        Settings(
            home=tmp_path,
            scenario="B",
            planner_url="http://vllm.internal:8000",
            egress_allow=["vllm.internal"],
            gpu_job="projects/p/locations/l/jobs/j",
        )
    )


def test_external_ai_providers_are_refused(tmp_path: Path) -> None:
    container = scenario_b(tmp_path)
    with pytest.raises(RuntimeError, match="external AI providers are refused"):
        _ = container.genai
    assert isinstance(container.planner, OpenAICompatiblePlanner)
    assert container.images.deferred


def test_the_planners_http_client_cannot_leave_the_allow_list(tmp_path: Path) -> None:
    planner = scenario_b(tmp_path).planner
    assert isinstance(planner, OpenAICompatiblePlanner)
    client = planner.http  # the guarded client the factory built
    for url in (
        "https://us-central1-aiplatform.googleapis.com/v1/x",
        "https://api.openai.com/v1/chat/completions",
        "https://example.com/",
    ):
        with pytest.raises(EgressRefused):
            client.get(url)
