"""``tale doctor`` in scenario A: Tale's tables, then one metadata call per model to Vertex AI
(the strict stand-in answers ``GET publishers/google/models/<model>``); without a project or
credentials it says what is missing and exits 2."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner, Result

from shared import bootstrap
from shared.cli.doctor import doctor as command
from shared.cli.doctor import register
from shared.cli.main import app
from shared.config import Settings
from shared.providers.google.doctor import check
from tests.vertex import FakeVertex

register(app)


@pytest.fixture(autouse=True)
def keep_container() -> Iterator[None]:
    previous = bootstrap._container
    yield
    bootstrap._container = previous


def settings(tmp_path: Path, **kw: Any) -> Settings:
    values: dict[str, Any] = {
        "home": tmp_path / "home",
        "scenario": "A",
        "vertex_project": "tale-test",
        **kw,
    }
    return Settings(**values)


def doctor(
    config: Settings, vertex: FakeVertex, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    """The ``doctor`` command on ``config``, with the stand-in as the Vertex client."""
    bootstrap.configure(config, genai=vertex.client())
    with pytest.raises(typer.Exit) as caught:
        command()
    captured = capsys.readouterr()
    return caught.value.exit_code, captured.out + captured.err


def tale(home: Path, env: dict[str, str]) -> Result:
    """``tale --home HOME doctor`` through the CLI, configured by ``env`` alone."""
    return CliRunner().invoke(app, ["--home", str(home), "doctor"], env={"COLUMNS": "240", **env})


def test_the_default_models_exist_and_accept_the_default_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vertex = FakeVertex(plan={}, clip=b"")
    code, output = doctor(settings(tmp_path), vertex, capsys)

    assert code == 0, output
    for model in ("gemini-3.5-flash", "gemini-3.1-flash-image", "veo-3.1-generate-001"):
        assert model in output
    assert "FAIL" not in output
    assert vertex.calls["get"] == 3  # one metadata call per model, nothing generated
    assert sum(vertex.calls.values()) == 3


def test_a_retired_model_fails_with_its_replacement(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vertex = FakeVertex(plan={}, clip=b"")
    config = settings(
        tmp_path, gemini_model="gemini-2.5-flash", image_model="imagen-4.0-generate-001"
    )
    report = check(config, vertex.client)

    assert report.exit_code == 1
    failed = {(f.role, f.where): f.detail for f in report.findings if not f.ok}
    assert "retired on 2026-10-16; use gemini-3.5-flash" in failed["planner", "table"]
    assert "retired on 2026-06-24; use gemini-3.1-flash-image" in failed["images", "table"]
    assert (
        "does not serve it in tale-test/us-central1 (404 NOT_FOUND)" in failed["planner", "vertex"]
    )
    assert ("videos", "vertex") not in failed

    code, output = doctor(config, vertex, capsys)
    assert code == 1 and "FAIL" in output


def test_settings_the_video_model_refuses_fail(tmp_path: Path) -> None:
    vertex = FakeVertex(plan={}, clip=b"")
    report = check(settings(tmp_path, veo_model="veo-3.1-fast-generate-001"), vertex.client)
    assert report.exit_code == 0  # the fast tier renders 9:16 at 720p (first frames, no refs)

    report = check(settings(tmp_path, veo_resolution="1080p"), vertex.client)
    assert report.exit_code == 0  # 1080p is fine for the default 8-second shots

    report = check(settings(tmp_path, veo_model="veo-3.0-generate-001"), vertex.client)
    (failed,) = [f for f in report.findings if not f.ok and f.where == "table"]
    assert failed.role == "videos" and "retired on 2026-06-30" in failed.detail


def test_without_a_project_it_says_what_is_missing_and_exits_2(tmp_path: Path) -> None:
    result = tale(tmp_path / "home", {"TALE_SCENARIO": "A"})
    assert result.exit_code == 2, result.output
    assert "missing" in result.output and "TALE_VERTEX_PROJECT" in result.output


def test_without_credentials_it_says_what_is_missing_and_exits_2(tmp_path: Path) -> None:
    env = {
        "TALE_SCENARIO": "A",
        "TALE_VERTEX_PROJECT": "tale-test",
        # application default credentials that are not there
        "GOOGLE_APPLICATION_CREDENTIALS": str(tmp_path / "no-such-key.json"),
    }
    result = tale(tmp_path / "home", env)
    assert result.exit_code == 2, result.output
    assert "missing" in result.output and "application-default login" in result.output
    assert "in Tale's table" in result.output  # the tables were checked all the same


def test_offline_has_nothing_to_check(tmp_path: Path) -> None:
    result = tale(tmp_path / "home", {"TALE_SCENARIO": "offline"})
    assert result.exit_code == 0 and "need no model" in result.output
