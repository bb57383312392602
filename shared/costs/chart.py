"""Monthly cost against videos per month, scenario A and B, as a PNG (drawn with Pillow).

Both lines are straight (fixed + volume × variable); the break-even volume (where they cross)
and the observed volume are marked. The drawing depends only on the comparison and Pillow's
bundled font, so the same numbers give the same bytes.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from shared.costs.scenarios import Comparison

WIDTH, HEIGHT = 960, 600
LEFT, RIGHT, TOP, BOTTOM = 100, 40, 64, 78
COLORS = {"A": (31, 119, 180), "B": (230, 120, 20), "now": (44, 160, 44), "even": (120, 120, 120)}
INK, GRID, PAPER = (30, 30, 30), (225, 225, 225), (255, 255, 255)

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
Point = tuple[float, float]


def nice_step(span: float, ticks: int = 6) -> float:
    """A 1-2-2.5-5 step that cuts ``span`` into about ``ticks`` intervals."""
    raw = max(span, 1e-9) / ticks
    magnitude = math.pow(10, math.floor(math.log10(raw)))
    for multiple in (1, 2, 2.5, 5, 10):
        if multiple * magnitude >= raw:
            return multiple * magnitude
    return 10 * magnitude


def _axis_max(value: float) -> tuple[float, float]:
    step = nice_step(value)
    return step * math.ceil(value / step), step


def _money(usd: float) -> str:
    if usd == 0:
        return "$0"
    if usd >= 10_000:
        return f"${usd / 1000:,.0f}k"
    return f"${usd:,.0f}" if usd >= 10 else f"${usd:,.2f}"


def _font(size: int) -> Font:
    return ImageFont.load_default(size=size)


class _Plot:
    def __init__(self, x_max: float, y_max: float) -> None:
        self.x_max, self.y_max = x_max, y_max
        self.image = Image.new("RGB", (WIDTH, HEIGHT), PAPER)
        self.draw = ImageDraw.Draw(self.image)

    def at(self, x: float, y: float) -> Point:
        px = LEFT + x / self.x_max * (WIDTH - LEFT - RIGHT)
        py = HEIGHT - BOTTOM - y / self.y_max * (HEIGHT - TOP - BOTTOM)
        return px, py

    def dashed(self, start: Point, end: Point, color: tuple[int, int, int]) -> None:
        (x0, y0), (x1, y1) = start, end
        steps = max(1, int(math.hypot(x1 - x0, y1 - y0) // 8))
        for i in range(0, steps, 2):
            a, b = i / steps, (i + 1) / steps
            self.draw.line(
                [
                    (x0 + (x1 - x0) * a, y0 + (y1 - y0) * a),
                    (x0 + (x1 - x0) * b, y0 + (y1 - y0) * b),
                ],
                fill=color,
                width=2,
            )

    def label(self, x: float, y: float, text: str, color: tuple[int, int, int]) -> None:
        px, py = self.at(x, y)
        self.draw.text((px + 8, py), text, fill=color, font=_font(13), anchor="lt")

    def dot(self, x: float, y: float, color: tuple[int, int, int]) -> None:
        px, py = self.at(x, y)
        self.draw.ellipse([px - 5, py - 5, px + 5, py + 5], fill=color, outline=INK)


def _axes(plot: _Plot, x_step: float, y_step: float) -> None:
    draw, small = plot.draw, _font(13)
    for i in range(round(plot.y_max / y_step) + 1):
        y = i * y_step
        _, py = plot.at(0, y)
        draw.line([(LEFT, py), (WIDTH - RIGHT, py)], fill=GRID)
        draw.text((LEFT - 8, py), _money(y), fill=INK, font=small, anchor="rm")
    for i in range(round(plot.x_max / x_step) + 1):
        x = i * x_step
        px, _ = plot.at(x, 0)
        draw.line([(px, HEIGHT - BOTTOM), (px, HEIGHT - BOTTOM + 5)], fill=INK)
        draw.text((px, HEIGHT - BOTTOM + 8), f"{x:,.0f}", fill=INK, font=small, anchor="mt")
    draw.line([(LEFT, TOP), (LEFT, HEIGHT - BOTTOM), (WIDTH - RIGHT, HEIGHT - BOTTOM)], fill=INK)
    label = _font(15)
    draw.text(
        ((LEFT + WIDTH - RIGHT) / 2, HEIGHT - 22),
        "videos per month",
        fill=INK,
        font=label,
        anchor="mm",
    )
    side = Image.new("RGB", (300, 24), PAPER)
    ImageDraw.Draw(side).text((150, 12), "monthly cost (USD)", fill=INK, font=label, anchor="mm")
    plot.image.paste(side.rotate(90, expand=True), (8, (TOP + HEIGHT - BOTTOM) // 2 - 150))


def _legend(plot: _Plot, comparison: Comparison) -> None:
    a, b = comparison.a, comparison.b
    rows = [
        ("A", f"A - external APIs: {_money(a.fixed_usd)}/month + ${a.variable_usd:,.2f}/video"),
        ("B", f"B - self-hosted: {_money(b.fixed_usd)}/month + ${b.variable_usd:,.2f}/video"),
        ("now", f"now: {comparison.volume:,} videos/month"),
    ]
    if comparison.break_even is not None:
        rows.append(("even", f"break-even: {comparison.break_even:,.0f} videos/month"))
    font, x, y = _font(13), LEFT + 16, TOP + 10
    width = 16 + max(plot.draw.textlength(text, font=font) for _, text in rows) + 40
    plot.draw.rectangle([x - 8, y - 6, x + width, y + 20 * len(rows) + 2], fill=PAPER, outline=GRID)
    for i, (key, text) in enumerate(rows):
        cy = y + 8 + 20 * i
        plot.draw.line([(x, cy), (x + 24, cy)], fill=COLORS[key], width=3)
        plot.draw.text((x + 32, cy), text, fill=INK, font=font, anchor="lm")


def render(comparison: Comparison, title: str = "") -> bytes:
    """The chart as PNG bytes."""
    a, b, now, even = comparison.a, comparison.b, comparison.volume, comparison.break_even
    x_max, x_step = _axis_max(max(10.0, now * 1.5, (even or 0.0) * 2.0))
    y_top = max(a.monthly(x_max), b.monthly(x_max), 1.0) * 1.05
    y_max, y_step = _axis_max(y_top)
    plot = _Plot(x_max, y_max)
    _axes(plot, x_step, y_step)
    for scenario in (a, b):
        start, end = plot.at(0, scenario.monthly(0)), plot.at(x_max, scenario.monthly(x_max))
        plot.draw.line([start, end], fill=COLORS[scenario.scenario], width=3)
    if even is not None:
        plot.dashed(plot.at(even, 0), plot.at(even, a.monthly(even)), COLORS["even"])
        plot.dot(even, a.monthly(even), COLORS["even"])
        plot.label(even, a.monthly(even) - y_step / 5, f"break-even {even:,.0f}", COLORS["even"])
    plot.dashed(plot.at(now, 0), plot.at(now, y_max), COLORS["now"])
    plot.label(now, y_max * 0.7, f"now {now:,}", COLORS["now"])
    for scenario in (a, b):
        plot.dot(now, scenario.monthly(now), COLORS[scenario.scenario])
    _legend(plot, comparison)
    plot.draw.text(
        (WIDTH / 2, 24),
        title or "Monthly cost against videos per month",
        fill=INK,
        font=_font(18),
        anchor="mm",
    )
    out = io.BytesIO()
    plot.image.save(out, format="PNG", optimize=False)
    return out.getvalue()


def write_chart(comparison: Comparison, path: Path, title: str = "") -> None:
    path.write_bytes(render(comparison, title))
