"""``tale trends``: the offline sample run (a ranked table that fits 80 columns and agrees with
the chart, and a PNG chart), the live run's configuration check, starting a tale from a trend,
followers, quota and business API keys."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from rich.cells import cell_len
from rich.console import Console
from typer.testing import CliRunner

from shared import bootstrap
from shared.cli.main import app
from shared.cli.trends import TABLE_COLUMNS, register, table_row, trends_table
from shared.domain.tale import TaleState
from shared.trends.chart import COLORS, HEIGHT, WIDTH

register(app)


@pytest.fixture(autouse=True)
def keep_container(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("TALE_YOUTUBE_API_KEY", raising=False)
    previous = bootstrap._container
    yield
    bootstrap._container = previous


def tale(home: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["--home", str(home), "trends", *args], env={"COLUMNS": "80"})
    return result.exit_code, result.output


def cut(line: str, start: int, end: int | None = None) -> str:
    """The part of ``line`` between two display columns (Hangul takes two)."""
    out, column = [], 0
    for ch in line:
        if column >= start and (end is None or column < end):
            out.append(ch)
        column += cell_len(ch)
    return "".join(out)


def rows(rendered: str) -> list[list[str]]:
    """The table's rows as cells: a row starts with its rank; the trend column may continue
    on the lines below (a wrapped label). The table ends at its first blank line."""
    lines = rendered.splitlines()
    header = next(n for n, line in enumerate(lines) if line.split()[:2] == ["#", "rg"])
    trend_at, status_at = lines[header].index("trend"), lines[header].index("status")
    found: list[list[str]] = []
    for line in lines[header + 2 :]:
        if not line.strip():
            break
        left, label = cut(line, 0, trend_at), cut(line, trend_at, status_at).strip()
        if left.strip():
            found.append([*left.split(), label, *cut(line, status_at).split()])
        else:
            found[-1][2] += " " + label
    return found


def test_the_sample_run_prints_a_table_that_fits_80_columns_and_writes_a_chart(
    tmp_path: Path,
) -> None:
    chart = tmp_path / "velocity.png"
    code, output = tale(tmp_path / "home", "run", "--sample", "--chart", str(chart))

    assert code == 0, output
    assert "SAMPLE DATA" in output and "Trends on YouTube Shorts" in output
    title = output.index("Trends on YouTube Shorts")
    shown = output[title : output.index("chart: ")].splitlines()
    assert max(cell_len(line) for line in shown) <= 80  # display cells: Hangul is two wide
    trends = bootstrap.container().trends.latest(limit=200)
    ranked = sorted(trends, key=lambda t: (t.region, t.rank))
    table = rows(output)
    # Every column's value is there, whole, for every trend; "views/h" is the trend's last
    # chart point (the same number the chart plots).
    assert table == [table_row(t) for t in ranked]
    labels = [row[2] for row in table]
    assert labels[0] == "#탕후루" and "#cloudbread" in labels
    statuses = {row[2]: row[3] for row in table}
    assert statuses["#탕후루"] == "rising" and statuses["#댄스챌린지"] == "fading"
    assert labels.index("#탕후루") < labels.index("하루 만에 조회수 폭발 레전드 브이로그")
    for t in ranked:
        assert t.views_per_hour == t.series[-1][1]

    with Image.open(chart) as image:
        image.load()
        assert image.format == "PNG" and image.size == (WIDTH, HEIGHT)
        colors = {c for _, c in image.convert("RGB").getcolors(WIDTH * HEIGHT) or []}
    first_line = tuple(int(COLORS[0][i : i + 2], 16) for i in (1, 3, 5))
    assert first_line in colors  # the top trend's line was drawn

    code, output = tale(tmp_path / "home", "show", "--region", "US", "--chart", str(chart))
    assert code == 0 and "#cloudbread" in output and "#탕후루" not in output


def test_the_table_keeps_every_value_at_80_columns_with_long_labels() -> None:
    trends = bootstrap.container().trends
    assert trends is not None
    from tests.trends.test_explainers import trend

    long = trend().model_copy(
        update={"label": "아주 아주 긴 트렌드 이름이 여러 줄로 접히는 경우 #테스트", "rank": 10}
    )
    console = Console(width=80, record=True)
    console.print(trends_table([trend(), long], sample=False))
    text = console.export_text()
    assert max(cell_len(line) for line in text.splitlines()) <= 80
    assert rows(text) == [table_row(trend()), table_row(long)]
    assert [c.header for c in trends_table([], False).columns] == list(TABLE_COLUMNS)


def test_a_live_run_needs_the_api_key(tmp_path: Path) -> None:
    code, output = tale(tmp_path / "home", "run")
    assert code == 2
    assert "TALE_YOUTUBE_API_KEY" in " ".join(output.split())


def test_start_makes_a_tale_from_a_trend_that_stops_at_its_storyboard(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert tale(home, "run", "--sample", "--chart", str(tmp_path / "c.png"))[0] == 0
    trend = bootstrap.container().trends.latest("KR")[0]
    code, output = tale(home, "start", trend.trend_id, "--idea", "1", "--shots", "2",
                        "--seconds", "4", "--quiet")  # fmt: skip
    assert code == 0, output
    (tale_id,) = re.findall(r"Approve with: tale approve (\S+)", " ".join(output.split()))
    c = bootstrap.container()
    record = c.store.find(tale_id)
    assert record is not None and record.state is TaleState.AWAITING_APPROVAL
    submission = c.store.submission(tale_id)
    assert submission.trend_id == trend.trend_id and submission.options.approval_required
    assert tale(home, "start", "trd-0000000000000000")[0] == 2
    assert tale(home, "start", trend.trend_id, "--idea", "7")[0] == 2


def test_followers_quota_and_api_keys(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert tale(home, "follow", "kr", "--email", "minji@example.com", "--language", "ko")[0] == 0
    code, output = tale(home, "follow", "#먹방", "--email", "chef@example.com", "--frequency",
                        "weekly")  # fmt: skip
    assert code == 0 and "weekly" in output
    assert tale(home, "follow", "KR", "--email", "not-an-email")[0] == 2
    assert tale(home, "follow", "KR", "--email", "a@example.com", "--frequency", "hourly")[0] == 2
    assert tale(home, "follow", "jp", "--email", "hana@example.com", "--language", "ja")[0] == 0
    assert tale(home, "follow", "KR", "--email", "a@example.com", "--language", "fr")[0] == 2
    followers = bootstrap.container().trends.followers()
    assert [(f.kind, f.value, f.language, f.frequency) for f in followers] == [
        ("topic", "#먹방", "en", "weekly"),
        ("region", "JP", "ja", "daily"),
        ("region", "KR", "ko", "daily"),
    ]
    assert tale(home, "unfollow", "#먹방", "--email", "chef@example.com")[0] == 0
    assert tale(home, "unfollow", "#먹방", "--email", "chef@example.com")[0] == 2

    code, output = tale(home, "quota")
    flat = " ".join(output.split())
    assert code == 0
    assert "0 of 10,000 units spent" in flat and "0 of 100 search.list calls spent" in flat
    assert "costs at most 128 units and 4 searches; 25 runs a day fit" in flat

    ledger = bootstrap.container().ledger
    ledger.ensure_profile("biz-user", "biz@example.com")
    assert tale(home, "keys", "issue", "--customer", "biz-user", "--name", "Acme")[0] == 2
    ledger.set_plan("biz-user", "business")
    code, output = tale(home, "keys", "issue", "--customer", "biz-user", "--name", "Acme",
                        "--rate", "30", "--monthly", "5000", "--days", "90")  # fmt: skip
    assert code == 0, output
    (key,) = re.findall(r"tsk_[A-Za-z0-9_-]{43}", output)
    (key_id,) = re.findall(r"key-[0-9a-f]{10}", output)
    code, listing = tale(home, "keys", "list")
    assert key_id in listing and key not in listing and "0/5,000" in listing
    code, output = tale(home, "keys", "rotate", key_id, "--grace-days", "2")
    assert code == 0, output
    (new_key,) = re.findall(r"tsk_[A-Za-z0-9_-]{43}", output)
    assert new_key != key
    assert tale(home, "keys", "revoke", key_id)[0] == 0
    assert tale(home, "keys", "revoke", key_id)[0] == 2
    old, new = bootstrap.container().trends.api_keys()
    assert old.revoked and old.rotated_to == new.key_id and old.rate_per_minute == 30
    assert new.customer == "biz-user" and new.monthly_calls == 5000 and not new.revoked
