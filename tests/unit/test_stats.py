"""``tale stats``' building blocks: windows, percentiles and the tale figures."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from shared.domain.tale import TaleRecord, TaleState
from shared.observability.stats import parse_since, percentile, tale_figures
from tests.conftest import make_record

NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("text", "ago"),
    [("30m", 1800), ("24h", 86_400), ("7d", 604_800), ("2w", 1_209_600), ("90s", 90)],
)
def test_durations_count_back_from_now(text: str, ago: float) -> None:
    assert parse_since(text, NOW) == NOW - ago


def test_dates_are_utc_unless_they_say_otherwise() -> None:
    midnight = datetime(2027, 1, 15, tzinfo=UTC).timestamp()
    assert parse_since("2027-01-15", NOW) == midnight
    assert parse_since("2027-01-15T09:00:00+09:00", NOW) == midnight
    with pytest.raises(ValueError, match="duration"):
        parse_since("yesterday", NOW)


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.95) == 95.0
    assert percentile(values, 0.5) == 50.0
    assert percentile([7.0], 0.95) == 7.0
    assert percentile([], 0.95) == 0.0


def test_tale_figures_count_starts_and_finishes_in_the_window() -> None:
    def tale(
        n: int, state: TaleState, created: float, updated: float, owner: str = "u1"
    ) -> TaleRecord:
        record = make_record(f"tale-{n:06d}", state)
        return replace(record, owner=owner, created_at=created, updated_at=updated)

    since = NOW - 3600
    tales = [
        tale(1, TaleState.COMPLETED, NOW - 100, NOW - 50),
        replace(
            tale(2, TaleState.FAILED, NOW - 200, NOW - 10, owner="u2"),
            error_stage="rendering",
            error_reason="shot 1 was refused by the video model: safety",
        ),
        tale(3, TaleState.COMPLETED, NOW - 7200, NOW - 60),  # started before the window
        tale(4, TaleState.CANCELLED, NOW - 300, NOW - 20),
        tale(5, TaleState.FAILED, NOW - 9000, NOW - 8000),  # entirely before
        tale(6, TaleState.RENDERING, NOW - 30, NOW - 5, owner="u3"),
    ]
    figures = tale_figures(tales, since, NOW)
    assert (figures.started, figures.completed, figures.failed, figures.cancelled) == (4, 2, 1, 1)
    assert figures.active_users == 3
    assert figures.failures == {"rendering": {"refused": 1}}
    assert figures.failure_rate == pytest.approx(1 / 3)
