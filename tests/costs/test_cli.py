"""``tale costs`` on a real embedded-default run: tables, JSON, the chart, and bad input."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from typer.testing import CliRunner, Result

from shared import bootstrap
from shared.cli import costs
from shared.cli.main import app
from shared.costs.prices import load_prices
from tests.conftest import EXAMPLES

FAST = {
    "TALE_OFFLINE_HEIGHT": "160",
    "TALE_OFFLINE_FPS": "8",
    "TALE_RETRY_MIN_BACKOFF_S": "0.01",
    "TALE_RETRY_MAX_BACKOFF_S": "0.05",
    "COLUMNS": "200",
}


def tale(home: Path, *args: str) -> Result:
    return CliRunner().invoke(app, ["--home", str(home), *args], env=FAST)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    previous = bootstrap._container
    costs.register(app)
    home = tmp_path_factory.mktemp("costs") / "home"
    story = EXAMPLES / "lighthouse-fox.en.txt"
    result = tale(home, "run", str(story), "--shots", "2", "--seconds", "4", "--quiet")
    assert result.exit_code == 0, result.output
    yield home
    bootstrap._container = previous


def as_json(home: Path, *args: str) -> dict[str, Any]:
    result = tale(home, "costs", "--json", *args)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_the_table_shows_costs_and_the_comparison(home: Path) -> None:
    result = tale(home, "costs")
    assert result.exit_code == 0, result.output
    for text in ("Cost by stage", "gcp (platform)", "platform overhead", "Scenario A vs B"):
        assert text in result.output
    for text in ("break-even", "observed", "modelled", "signal: API cost", "narration"):
        assert text in result.output


def test_json_has_the_months_costs_and_the_ab_model(home: Path) -> None:
    data = as_json(home)
    assert data["scope"] == "period" and data["videos"] == 1
    cost = data["cost"]
    assert cost["total_usd"] > 0
    assert cost["platform_share"] == pytest.approx(1.0)  # offline generators cost nothing
    assert set(cost["by_provider"]) == {"gcp", "espeak-ng"}  # the placeholder voice is free
    assert cost["by_provider"]["espeak-ng"] == 0
    assert {"planning", "rendering", "stitching"} <= set(cost["by_stage"])
    assert cost["unpriced"] == []

    s = data["scenarios"]
    profile = s["profile"]
    assert profile["tales"] == 1
    assert profile["shots"] == {"value": 2, "basis": "tales"}
    assert profile["video_seconds"] == {"value": 8, "basis": "tales"}
    assert profile["input_tokens"]["basis"] == "modelled"
    assert profile["platform_usd"]["basis"] == "usage"
    narration = profile["narration"]  # the storyboard's 2 lines, in the default voice
    assert narration["basis"] == "tales" and narration["lines"] == 2
    assert 0 < narration["speech_seconds"] <= 8
    a, b = s["A"], s["B"]
    for scenario in (a, b):
        stages = [c["stage"] for c in scenario["components"]]
        assert stages == ["planning", "characters", "rendering", "narration", "platform"]
        total = sum(c["usd"] for c in scenario["components"])
        assert total == pytest.approx(scenario["variable_usd_per_video"])
        spoken = {c["stage"]: c for c in scenario["components"]}["narration"]
        assert spoken["usd"] > 0 and spoken["basis"] == "modelled"  # espeak-ng is neither
    assert s["unpriced"] == []
    rendering = {c["stage"]: c for c in a["components"]}["rendering"]
    veo = load_prices().usd("veo", "veo-3.1-generate-001", "video_seconds", 8)
    assert rendering["usd"] == pytest.approx(veo) and rendering["basis"] == "modelled"
    expected = (b["fixed_usd_per_month"] - a["fixed_usd_per_month"]) / (
        a["variable_usd_per_video"] - b["variable_usd_per_video"]
    )
    assert s["break_even_videos_per_month"] == pytest.approx(expected)
    assert s["volume_videos_per_month"] == 1 and s["volume_basis"] == "observed"
    share = a["api_usd_per_video"] / s["revenue_usd_per_video"]
    assert s["api_cost_share_of_revenue"] == pytest.approx(share)
    assert s["signals"] == {
        "volume_above_break_even": expected < 1,
        "api_cost_above_threshold": share > s["api_cost_share_threshold"],
    }


def test_one_tale_and_another_month(home: Path) -> None:
    tale_id = as_json(home)["tales"][0]["id"]
    one = as_json(home, "--tale", tale_id)
    assert one["scope"] == "tale" and one["tale"]["id"] == tale_id
    assert one["cost"]["per_video_usd"] == pytest.approx(one["cost"]["total_usd"])
    empty = as_json(home, "--period", "2020-01")
    assert empty["videos"] == 0 and empty["cost"]["per_video_usd"] is None
    assert empty["scenarios"]["profile"]["tales"] == 0  # the default tale, modelled
    assert empty["scenarios"]["profile"]["video_seconds"] == {"value": 64, "basis": "modelled"}


def test_the_chart_is_a_png(home: Path, tmp_path: Path) -> None:
    path = tmp_path / "costs.png"
    result = tale(home, "costs", "--chart", str(path))
    assert result.exit_code == 0, result.output
    with Image.open(io.BytesIO(path.read_bytes())) as image:
        image.load()
        assert image.format == "PNG" and image.size == (960, 600)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--period", "2026-13"), "no month 13"),
        (("--period", "last month"), "YYYY-MM"),
        (("--tale", "tale-nope"), "no tale tale-nope"),
        (("--chart", "/nonexistent-dir/c.png"), "cannot write the chart"),
    ],
    ids=["month", "format", "tale", "chart"],
)
def test_bad_input_exits_2(home: Path, args: tuple[str, ...], message: str) -> None:
    result = tale(home, "costs", *args)
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output
