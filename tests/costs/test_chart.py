"""The chart: a decodable PNG, the same bytes for the same numbers, with or without break-even."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from shared.costs.chart import nice_step, render
from shared.costs.profile import default_profile
from shared.costs.scenarios import Comparison, compare
from tests.costs.tables import SMALL, TALES_PER_MONTH, small_table


def comparison(volume: int, video_usd: float = 0.5) -> Comparison:
    prices = [dict(p) for p in SMALL["prices"]]
    next(p for p in prices if p["id"] == "vid")["usd"] = video_usd
    table = small_table(prices=prices)
    return compare(default_profile(table, 4, 5, 2), volume, table, TALES_PER_MONTH)


def decode(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def test_the_chart_is_deterministic_and_draws_both_scenarios() -> None:
    png = render(comparison(12), "test")
    assert png == render(comparison(12), "test")
    image = decode(png).convert("RGB")
    assert image.size == (960, 600)
    colors = {color for _, color in image.getcolors(maxcolors=1 << 16) or []}
    assert (31, 119, 180) in colors and (230, 120, 20) in colors  # the A and B lines
    assert png != render(comparison(13), "test")


def test_a_chart_without_break_even_still_renders() -> None:
    c = comparison(500, video_usd=0.001)
    assert c.break_even is None
    assert decode(render(c)).format == "PNG"


@pytest.mark.parametrize(
    ("span", "step"), [(10, 2), (64, 20), (105, 20), (1000, 200), (0.3, 0.05), (7300, 2000)]
)
def test_axis_steps_are_round(span: float, step: float) -> None:
    assert nice_step(span) == pytest.approx(step)
