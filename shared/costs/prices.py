"""The versioned price table: what every counted unit costs, and where each figure comes from.

The table (``prices.json`` beside this module, or the file named by ``TALE_PRICE_TABLE``) is
data, not code: prices of external models change, so no figure lives in the logic.

- ``prices``: one entry per list price — ``usd`` for ``per`` units of ``unit``, with the page
  it was read from (``source``), the date (``as_of``) and, where the figure was read from a
  copy or a quotation of that page, the ``evidence``.
- ``meters``: which prices a usage unit costs. A usage record's ``(provider, model, unit)``
  matches a meter with that model, or else the provider's ``"*"`` meter. A meter's charges
  multiply the quantity by a ``factor`` (a GPU-second of the worker is one L4 second plus four
  vCPU-seconds and sixteen GiB-seconds). A meter with no charges prices a unit at zero on
  purpose (e.g. tokens of a planner that is a fixed monthly cost); a unit with no meter is
  *unpriced* and reported as such, never silently dropped.
- ``scenarios``: the planner, image, video and voice (narrator) engines of scenario A and B.
- ``fixed_monthly``: what a scenario costs a month whatever the volume.
- ``video_models``: per self-hosted video model (the ids of
  ``shared/providers/selfhosted/video_models.py``), the clip the worker renders (frames, fps,
  size) and the GPU-seconds one second of that clip takes on the job's GPU, each with its
  source and whether the source measured it or we derived it.
- ``assumptions``: the numbers the models need that no price page gives (tokens per plan,
  GPU-seconds per reference image, …), each with its source.
- ``revenue``: plan prices (as prices) and the assumed mix of videos by plan.
"""

from __future__ import annotations

import functools
import json
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

DEFAULT_TABLE = Path(__file__).resolve().parent / "prices.json"
ANY_MODEL = "*"


class PriceTableError(ValueError):
    """The price table cannot be read or does not hold together."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Price(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9.\-]*$")
    unit: str = Field(min_length=1, description="What one unit is: 'input token', 'image', …")
    per: float = Field(default=1, gt=0, description="The quantity that `usd` is quoted for.")
    usd: float = Field(ge=0)
    source: str = Field(min_length=1, description="The price page (or the internal source).")
    as_of: date
    evidence: str | None = None
    note: str = ""

    @property
    def usd_per_unit(self) -> float:
        return self.usd / self.per


class Charge(_Strict):
    price: str
    factor: float = Field(default=1, ge=0)


class Meter(_Strict):
    provider: str = Field(min_length=1)
    model: str = Field(default=ANY_MODEL, min_length=1)
    unit: str = Field(min_length=1)
    charges: list[Charge]
    gpu: str | None = None
    """For a GPU-second meter: the accelerator one unit is a second of (Cloud Run's
    ``nvidia-l4``…). A video model rated on another GPU is not priced by it."""
    note: str = ""


class Engine(_Strict):
    provider: str
    model: str


class ScenarioSpec(_Strict):
    planner: Engine
    images: Engine
    videos: Engine
    voice: Engine
    """The narrator (``narrate_shot``): a speech model (A), or the GPU worker's (B)."""


class FixedItem(_Strict):
    id: str
    scenario: Literal["A", "B"]
    charges: list[Charge] = Field(min_length=1)
    note: str = ""


class Assumption(_Strict):
    id: str
    value: float = Field(ge=0)
    unit: str
    source: str = Field(min_length=1)
    as_of: date
    note: str = ""


class VideoModelRate(_Strict):
    """What one clip of a self-hosted video model costs on the GPU the job gives it.

    ``gpu_seconds_per_video_second`` is per second of the *clip the model renders*
    (``frames / fps``), not of the shot: the worker renders one clip per shot, at most
    ``frames`` long, and stretches it to the shot's length."""

    model: str = Field(min_length=1, description="An id of the worker's model table.")
    gpu: str = Field(min_length=1, description="The job's accelerator for this model.")
    gpu_seconds_per_video_second: float = Field(gt=0)
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    frames: int = Field(gt=0, description="Frames of the longest clip the worker asks for.")
    fps: int = Field(gt=0)
    steps: int = Field(gt=0)
    fixed_frames: bool = False
    """True when the model always renders ``frames`` (CogVideoX), whatever the shot."""
    basis: Literal["measured", "derived"]
    """``measured``: the source timed this model on this GPU; ``derived``: we scaled a
    measurement from another GPU (``note`` says how)."""
    source: str = Field(min_length=1)
    as_of: date
    evidence: str | None = None
    note: str = ""

    @property
    def clip_seconds(self) -> float:
        return self.frames / self.fps

    def clip_frames(self, shot_seconds: float) -> int:
        """The frames the worker asks for a shot of ``shot_seconds``: all of them for a
        fixed-length model, else fps × seconds as k·4 + 1, at most ``frames``
        (``worker/tale_worker/wrappers.py``, ``model_frames``)."""
        if self.fixed_frames:
            return self.frames
        wanted = max(1, min(round(self.fps * shot_seconds), self.frames))
        return min(4 * max(1, (wanted + 1) // 4) + 1, self.frames)

    def rendered_seconds(self, shot_seconds: float) -> float:
        """Seconds of clip the GPU renders for one shot."""
        return self.clip_frames(shot_seconds) / self.fps


class PlanRevenue(_Strict):
    plan: Literal["free", "pro", "business"]
    price: str
    share_of_videos: float = Field(ge=0, le=1)


class Revenue(_Strict):
    plans: list[PlanRevenue] = Field(min_length=1)
    note: str = ""


class PriceTable(_Strict):
    version: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}")
    currency: Literal["USD"]
    note: str = ""
    prices: list[Price] = Field(min_length=1)
    meters: list[Meter]
    scenarios: dict[Literal["A", "B"], ScenarioSpec]
    fixed_monthly: list[FixedItem]
    video_models: list[VideoModelRate] = Field(default_factory=list)
    assumptions: list[Assumption]
    revenue: Revenue

    @model_validator(mode="after")
    def _consistent(self) -> PriceTable:
        problems = [*_duplicates(self), *_dangling(self)]
        shares = sum(p.share_of_videos for p in self.revenue.plans)
        if abs(shares - 1) > 1e-9:
            problems.append(f"revenue shares of videos add up to {shares}, not 1")
        if set(self.scenarios) != {"A", "B"}:
            problems.append("scenarios A and B must both be described")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    # --- lookups ------------------------------------------------------------------------
    def price(self, price_id: str) -> Price:
        return self._prices()[price_id]

    def meter(self, provider: str, model: str, unit: str) -> Meter | None:
        """The model's own meter for the unit, else the provider's ``"*"`` meter, else None."""
        meters = self._meters()
        return meters.get((provider, model, unit)) or meters.get((provider, ANY_MODEL, unit))

    def usd(self, provider: str, model: str, unit: str, quantity: float) -> float | None:
        """What ``quantity`` of the unit costs, or None when no meter prices it."""
        meter = self.meter(provider, model, unit)
        if meter is None:
            return None
        return quantity * sum(self.price(c.price).usd_per_unit * c.factor for c in meter.charges)

    def video_model(self, model: str) -> VideoModelRate | None:
        """The self-hosted video model's clip and GPU-seconds, or None when not rated."""
        return {v.model: v for v in self.video_models}.get(model)

    def assumption(self, assumption_id: str) -> float:
        try:
            return self._assumptions()[assumption_id].value
        except KeyError:
            raise PriceTableError(f"the price table has no assumption {assumption_id!r}") from None

    def fixed_usd(self, scenario: str) -> dict[str, float]:
        """Fixed monthly cost of a scenario, by item."""
        return {
            item.id: sum(self.price(c.price).usd_per_unit * c.factor for c in item.charges)
            for item in self.fixed_monthly
            if item.scenario == scenario
        }

    def _prices(self) -> dict[str, Price]:
        return {p.id: p for p in self.prices}

    def _meters(self) -> dict[tuple[str, str, str], Meter]:
        return {(m.provider, m.model, m.unit): m for m in self.meters}

    def _assumptions(self) -> dict[str, Assumption]:
        return {a.id: a for a in self.assumptions}


def _duplicates(table: PriceTable) -> list[str]:
    problems = []
    for kind, keys in (
        ("price", [p.id for p in table.prices]),
        ("meter", [(m.provider, m.model, m.unit) for m in table.meters]),
        ("fixed item", [f.id for f in table.fixed_monthly]),
        ("video model", [v.model for v in table.video_models]),
        ("assumption", [a.id for a in table.assumptions]),
    ):
        seen: set[object] = set()
        for key in keys:
            if key in seen:
                problems.append(f"duplicate {kind} {key!r}")
            seen.add(key)
    return problems


def _dangling(table: PriceTable) -> list[str]:
    known = {p.id for p in table.prices}
    used = [
        *(c.price for m in table.meters for c in m.charges),
        *(c.price for f in table.fixed_monthly for c in f.charges),
        *(p.price for p in table.revenue.plans),
    ]
    return [f"unknown price {pid!r}" for pid in sorted(set(used) - known)]


def load_prices(path: Path | None = None) -> PriceTable:
    """Read and validate a price table (default: the packaged one); cached per file version."""
    target = (path or DEFAULT_TABLE).resolve()
    try:
        stamp = target.stat().st_mtime_ns
    except OSError as exc:
        raise PriceTableError(f"cannot read the price table {target}: {exc}") from exc
    return _load(str(target), stamp)


@functools.lru_cache(maxsize=8)
def _load(path: str, stamp: int) -> PriceTable:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return PriceTable.model_validate(data)
    except (OSError, json.JSONDecodeError) as exc:
        raise PriceTableError(f"cannot read the price table {path}: {exc}") from exc
    except ValidationError as exc:
        raise PriceTableError(f"invalid price table {path}: {exc}") from exc
