"""cloudbuild.yaml: checks first, and nothing is published or deployed before they pass."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[2]
BUILD: dict[str, Any] = yaml.safe_load((ROOT / "cloudbuild.yaml").read_text(encoding="utf-8"))
STEPS: list[dict[str, Any]] = BUILD["steps"]
BY_ID = {s["id"]: s for s in STEPS}

#: What makes a step publish or deploy something.
DEPLOYING = re.compile(
    r"terraform\s.*\bapply\b|docker push|gcloud storage cp|gsutil cp|gcloud (functions|run) deploy"
)


def script(step: dict[str, Any]) -> str:
    return " ".join([step.get("entrypoint", ""), *map(str, step.get("args", []))])


def waits_for(step_id: str) -> set[str]:
    """Every step ``step_id`` transitively waits for, with Cloud Build's rules: no ``waitFor``
    means all the steps before it, ``["-"]`` means none."""
    index = [s["id"] for s in STEPS].index(step_id)
    step = STEPS[index]
    direct = step.get("waitFor")
    if direct is None:
        direct = [s["id"] for s in STEPS[:index]]
    elif direct == ["-"]:
        direct = []
    out: set[str] = set()
    for dep in direct:
        assert dep in BY_ID, f"{step_id} waits for unknown step {dep}"
        out |= {dep} | waits_for(dep)
    return out


def test_every_step_has_a_unique_id() -> None:
    ids = [s.get("id") for s in STEPS]
    assert all(ids) and len(ids) == len(set(ids))


def test_lint_typecheck_and_test_steps_exist() -> None:
    assert "ruff check" in script(BY_ID["lint"])
    assert "mypy" in script(BY_ID["typecheck"])
    assert "pytest" in script(BY_ID["test"])
    for step_id in ("lint", "typecheck", "test"):
        assert "install" in waits_for(step_id)


def test_python_311_and_the_hangul_font() -> None:
    assert BUILD["substitutions"]["_PYTHON_IMAGE"].startswith("python:3.11")
    for step_id in ("install", "lint", "typecheck", "test"):
        assert BY_ID[step_id]["name"] == "${_PYTHON_IMAGE}"
    assert "pip install" in script(BY_ID["install"]) and ".[dev]" in script(BY_ID["install"])
    assert "fonts-noto-cjk" in script(BY_ID["test"])
    assert "CI=true" in BY_ID["test"].get("env", [])


@pytest.mark.parametrize(
    "step", [s for s in STEPS if DEPLOYING.search(script(s))], ids=lambda s: s["id"]
)
def test_publishing_and_deploying_steps_wait_for_every_check(step: dict[str, Any]) -> None:
    assert {"lint", "typecheck", "test"} <= waits_for(step["id"]), step["id"]


def test_there_are_deploying_steps_to_check() -> None:
    ids = {s["id"] for s in STEPS if DEPLOYING.search(script(s))}
    assert {"tf-apply", "upload", "gpu-image"} <= ids


def test_plan_and_apply_are_separate_and_apply_is_opt_in() -> None:
    plan, apply = script(BY_ID["tf-plan"]), script(BY_ID["tf-apply"])
    assert "terraform -chdir=terraform plan" in plan and "-out=/workspace/build/tfplan" in plan
    assert "apply" not in plan.replace("_APPLY", "")
    assert "apply -input=false -lock-timeout=5m /workspace/build/tfplan" in apply
    assert '[ "${_APPLY}" != "true" ]' in apply
    assert BUILD["substitutions"]["_APPLY"] == "false"
    assert "tf-plan" in waits_for("tf-apply")


def test_the_plan_deploys_the_new_source_archive() -> None:
    plan = script(BY_ID["tf-plan"])
    assert '-var="source_object=$$(cat /workspace/build/source_object)"' in plan
    assert '-var-file="environments/${_ENV}.tfvars"' in plan
    assert {"upload", "package"} <= waits_for("tf-plan")
    assert "package_source.py" in script(BY_ID["package"])


def test_terraform_init_takes_the_state_bucket_from_a_substitution() -> None:
    init = script(BY_ID["tf-init"])
    assert '-backend-config="bucket=${_TF_STATE_BUCKET}"' in init
    assert "terraform -chdir=terraform validate" in init
    assert "fmt -check" in init


def test_the_gpu_image_is_built_only_when_asked() -> None:
    gpu = script(BY_ID["gpu-image"])
    assert BUILD["substitutions"]["_BUILD_GPU_IMAGE"] == "false"
    assert '[ "${_BUILD_GPU_IMAGE}" != "true" ]' in gpu
    assert gpu.index("_BUILD_GPU_IMAGE") < gpu.index("docker build")
    # the build context is the repository: the image needs shared/ and schemas/ too
    assert "docker build -f worker/Dockerfile" in gpu and gpu.rstrip().endswith(
        'docker push "${_GPU_IMAGE}:${SHORT_SHA}"'
    )


def test_every_user_substitution_is_declared() -> None:
    text = (ROOT / "cloudbuild.yaml").read_text(encoding="utf-8")
    used = set(re.findall(r"\$\{(_[A-Z0-9_]+)\}", text))
    assert used <= set(BUILD["substitutions"]), used - set(BUILD["substitutions"])
    # Shell variables are escaped ($$) so that Cloud Build leaves them alone.
    assert not re.search(r"(?<!\$)\$\{(?!_|SHORT_SHA|PROJECT_ID)[a-z]", text)


def test_logging_fits_a_user_managed_service_account() -> None:
    assert BUILD["options"]["logging"] == "CLOUD_LOGGING_ONLY"
