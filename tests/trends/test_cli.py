"""``tale trends``: the offline sample run (ranked table and a PNG chart), the live run's
configuration check, followers, quota and API keys."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from shared import bootstrap
from shared.cli.main import app
from shared.cli.trends import register
from shared.trends.chart import COLORS, HEIGHT, WIDTH

register(app)


@pytest.fixture(autouse=True)
def keep_container(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("TALE_YOUTUBE_API_KEY", raising=False)
    previous = bootstrap._container
    yield
    bootstrap._container = previous


def tale(home: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["--home", str(home), "trends", *args], env={"COLUMNS": "200"})
    return result.exit_code, result.output


def test_the_sample_run_prints_a_ranked_table_and_writes_a_chart(tmp_path: Path) -> None:
    chart = tmp_path / "velocity.png"
    code, output = tale(tmp_path / "home", "run", "--sample", "--chart", str(chart))

    assert code == 0, output
    assert "SAMPLE DATA" in output and "Rising on YouTube Shorts" in output
    assert "3,232 quota units" in output
    rows = [line for line in output.splitlines() if re.match(r"^│ \d+ │ (KR|US) ", line)]
    labels = [row.split("│")[3].strip() for row in rows]
    assert labels[:2] == ["#탕후루", "#강아지"] and "#cloudbread" in labels
    assert labels.index("#탕후루") < labels.index("#브이로그")  # rising beats big and flat

    with Image.open(chart) as image:
        image.load()
        assert image.format == "PNG" and image.size == (WIDTH, HEIGHT)
        colors = {c for _, c in image.convert("RGB").getcolors(WIDTH * HEIGHT) or []}
    first_line = tuple(int(COLORS[0][i : i + 2], 16) for i in (1, 3, 5))
    assert first_line in colors  # the top trend's line was drawn

    code, output = tale(tmp_path / "home", "show", "--region", "US", "--chart", str(chart))
    assert code == 0 and "#cloudbread" in output and "#탕후루" not in output


def test_a_live_run_needs_the_api_key(tmp_path: Path) -> None:
    code, output = tale(tmp_path / "home", "run")
    assert code == 2
    assert "TALE_YOUTUBE_API_KEY" in " ".join(output.split())


def test_followers_quota_and_api_keys(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert tale(home, "follow", "kr", "--email", "minji@example.com", "--language", "ko")[0] == 0
    assert tale(home, "follow", "#먹방", "--email", "chef@example.com")[0] == 0
    assert tale(home, "follow", "KR", "--email", "not-an-email")[0] == 2
    followers = bootstrap.container().trends.followers()
    assert [(f.kind, f.value, f.language) for f in followers] == [
        ("topic", "#먹방", "en"),
        ("region", "KR", "ko"),
    ]
    assert tale(home, "unfollow", "#먹방", "--email", "chef@example.com")[0] == 0
    assert tale(home, "unfollow", "#먹방", "--email", "chef@example.com")[0] == 2

    code, output = tale(home, "quota")
    assert code == 0
    assert "0 of 10,000 units spent" in output
    assert "costs at most 110 units" in output and "fit 45 runs a day" in " ".join(output.split())

    code, output = tale(home, "keys", "issue", "--name", "Acme", "--rate", "30")
    assert code == 0
    (key,) = re.findall(r"tsk_[A-Za-z0-9_-]{43}", output)
    (key_id,) = re.findall(r"key-[0-9a-f]{10}", output)
    code, listing = tale(home, "keys", "list")
    assert key_id in listing and key not in listing
    assert tale(home, "keys", "revoke", key_id)[0] == 0
    assert tale(home, "keys", "revoke", key_id)[0] == 2
    (record,) = bootstrap.container().trends.api_keys()
    assert record.revoked and record.rate_per_minute == 30
