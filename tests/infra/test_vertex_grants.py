"""Scenario A on Vertex AI in terraform/: the API is enabled, the functions that call a model
may use Vertex AI, and the Vertex AI service agent may write the media bucket (Veo writes
each shot attempt's clip there, at its ``storageUri``) — nothing of it in scenario B."""

from __future__ import annotations

from typing import Any

import pytest

from shared.registry import FUNCTIONS
from tests.infra import hcl, tfeval
from tests.infra.hcl import expr

CONFIG = hcl.load()
MODEL_CLIENTS = {"planner", "images", "videos", "voices", "explainer"}


def test_the_service_agent_may_create_objects_in_the_media_bucket_only() -> None:
    grant = CONFIG.resource("google_storage_bucket_iam_member.vertex_agent_media_writer").body
    assert expr(grant["bucket"]) == "google_storage_bucket.media.name"
    assert grant["role"] == "roles/storage.objectCreator"  # write, not read or administer
    assert expr(grant["member"]) == "local.vertex_service_agent"
    assert expr(grant["for_each"]) == 'local.scenario_a ? toset(["media"]) : toset([])'
    agent = expr(CONFIG.locals["vertex_service_agent"])
    assert agent == (
        "serviceAccount:service-${data.google_project.this.number}"
        "@gcp-sa-aiplatform.iam.gserviceaccount.com"
    )


def test_the_functions_that_call_a_model_may_use_vertex_ai() -> None:
    member = CONFIG.resource("google_project_iam_member.vertex_user").body
    assert expr(member["for_each"]) == "local.model_users"
    assert member["role"] == "roles/aiplatform.user"
    assert expr(member["member"]) == "serviceAccount:${google_service_account.fn[each.key].email}"


@pytest.fixture(scope="module", params=["A", "B"])
def evaluated(request: pytest.FixtureRequest) -> dict[str, Any]:
    if tfeval.binary() is None:
        pytest.skip("terraform is not installed")
    values = tfeval.evaluate(
        {"apis": "local.apis", "model_users": "local.model_users"}, {"scenario": request.param}
    )
    values["scenario"] = request.param
    return values


def test_scenario_a_enables_vertex_ai_for_the_model_clients(evaluated: dict[str, Any]) -> None:
    if evaluated["scenario"] == "A":
        assert "aiplatform.googleapis.com" in evaluated["apis"]
        assert set(evaluated["model_users"]) == {
            f.name for f in FUNCTIONS if MODEL_CLIENTS & set(f.needs)
        }
        assert "render_shot" in evaluated["model_users"]
    else:  # scenario B: no external AI call, no Vertex AI
        assert "aiplatform.googleapis.com" not in evaluated["apis"]
        assert evaluated["model_users"] == []
