"""``tale chaos``: the summary, and the exit code when an invariant fails."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from shared import bootstrap
from shared.chaos import run
from shared.chaos.run import ChaosReport, InvariantResult
from shared.cli.main import app


@pytest.fixture(autouse=True)
def keep_container() -> Iterator[None]:
    previous = bootstrap._container
    yield
    bootstrap._container = previous


def test_a_small_run_prints_the_summary(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["chaos", "--tales", "6", "--seed", "3", "--home", str(tmp_path / "h")]
    )
    assert result.exit_code == 0, result.output
    for text in ("Tales (6)", "Faults injected", "Invariants", "every invariant holds", "✓"):
        assert text in result.output
    assert (tmp_path / "h" / "bus.db").exists()


def test_a_used_home_is_refused(tmp_path: Path) -> None:
    (tmp_path / "state.db").write_text("")
    result = CliRunner().invoke(app, ["chaos", "--home", str(tmp_path)])
    assert result.exit_code == 2
    assert "must be a new or empty folder" in " ".join(result.output.split())


def test_a_violated_invariant_exits_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> ChaosReport:
        return ChaosReport(
            seed=1,
            tales=1,
            concurrency=1,
            outcomes=Counter({"stitching": 1}),
            faults=Counter({"duplicate": 1}),
            crash_points=Counter(),
            invariants=[InvariantResult("terminal", "every tale terminal", ("tale-x: left",))],
            tale_outcomes={"tale-x": "stitching"},
        )

    monkeypatch.setattr(run, "run_chaos", broken)
    result = CliRunner().invoke(app, ["chaos", "--home", str(tmp_path / "h")])
    assert result.exit_code == 1
    assert "✗" in result.output and "tale-x: left" in result.output


def test_json_output_is_one_document_a_program_can_read(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["chaos", "--tales", "4", "--seed", "5", "--home", str(tmp_path / "h"), "--json"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["ok"] is True and doc["tales"] == 4 and doc["seed"] == 5
    assert sum(doc["outcomes"].values()) == 4
    assert {"faults", "failure_reasons", "crash_points", "paid_starts"} <= doc.keys()
    assert all(i["ok"] and i["violations"] == [] for i in doc["invariants"])
    assert {i["name"] for i in doc["invariants"]} >= {"paid-once", "notified-once"}
