"""A line chart (PNG, drawn with Pillow) of the top trends' view velocity over time: for
each trend, the views per hour its videos gained between consecutive snapshots, summed.

Pillow is already a dependency (the offline renderers use it); a plotting library would be a
large one for a single chart. Labels use a Hangul-capable font when one is found (Korean
hashtags), else Pillow's built-in font.
"""

from __future__ import annotations

import io
import math
from datetime import UTC, datetime

from PIL import Image, ImageDraw, ImageFont

from shared.trends.models import Trend

WIDTH, HEIGHT = 1200, 700
_MARGIN_L, _MARGIN_R, _MARGIN_T, _MARGIN_B = 110, 300, 100, 80
COLORS = ("#e4572e", "#29335c", "#f3a712", "#669bbc", "#a8c686", "#8e6c8a", "#3d5a80", "#ee6c4d")
_Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def _font(size: int) -> _Font:
    from shared.media.fonts import FontMissing, load_font

    try:
        return load_font(size)
    except FontMissing:
        return ImageFont.load_default(size)


def _nice_step(top: float, ticks: int = 5) -> float:
    raw = max(top, 1.0) / ticks
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * power >= raw)


def _compact(n: float) -> str:
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if n >= size:
            return f"{n / size:g}{suffix}"
    return f"{n:g}"


def velocity_chart(trends: list[Trend], title: str) -> bytes:
    """The PNG bytes of the chart of ``trends`` (each with its ``series``)."""
    img = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(img)
    small, label_font, title_font = _font(16), _font(18), _font(24)
    draw.text((_MARGIN_L, 18), title, fill="black", font=title_font)
    points = [(t, v) for tr in trends for t, v in tr.series]
    x0, x1 = _MARGIN_L, WIDTH - _MARGIN_R
    y0, y1 = HEIGHT - _MARGIN_B, _MARGIN_T
    draw.line([(x0, y1), (x0, y0), (x1, y0)], fill="black", width=2)
    if not points:
        draw.text((x0 + 20, (y0 + y1) // 2), "no data yet", fill="gray", font=label_font)
        return _png(img)
    t_min, t_max = min(t for t, _ in points), max(t for t, _ in points)
    step = _nice_step(max(v for _, v in points))
    v_top = step * math.ceil(max(v for _, v in points) / step) or step

    def xy(t: float, v: float) -> tuple[float, float]:
        span = (t_max - t_min) or 1.0
        return x0 + (t - t_min) / span * (x1 - x0), y0 - v / v_top * (y0 - y1)

    for k in range(int(v_top / step) + 1):
        _, y = xy(t_min, k * step)
        draw.line([(x0, y), (x1, y)], fill="#e6e6e6", width=1)
        draw.text((x0 - 10, y), _compact(k * step), fill="black", font=small, anchor="rm")
    for t in sorted({t for t, _ in points}):
        x, _ = xy(t, 0)
        draw.line([(x, y0), (x, y0 + 6)], fill="black", width=1)
        stamp = datetime.fromtimestamp(t, UTC).strftime("%m-%d %H:%M")
        draw.text((x, y0 + 10), stamp, fill="black", font=small, anchor="ma")
    draw.text(((x0 + x1) // 2, HEIGHT - 28), "UTC", fill="black", font=small, anchor="ma")
    draw.text((20, y1 - 34), "views / hour", fill="black", font=small)
    for n, trend in enumerate(trends):
        color = COLORS[n % len(COLORS)]
        line = [xy(t, v) for t, v in trend.series]
        if len(line) > 1:
            draw.line(line, fill=color, width=4, joint="curve")
        for x, y in line:
            draw.ellipse([x - 5, y - 5, x + 5, y + 5], fill=color)
        ly = _MARGIN_T + n * 34
        draw.rectangle([x1 + 24, ly + 4, x1 + 44, ly + 20], fill=color)
        legend = f"{trend.rank}. {trend.label} ({trend.region})"
        draw.text((x1 + 54, ly), legend[:28], fill="black", font=label_font)
    return _png(img)


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG", optimize=True)
    return buf.getvalue()
