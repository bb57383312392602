"""What a tale cost: its usage records priced with the price table, by stage and provider.

A tale's records (``UsageRecorder.for_tale``) are of two kinds:

- provider calls — ``plan:<attempt>`` (planner tokens), ``character:<name>`` (images),
  ``frame:<index>:<attempt>`` (the image of a shot's first frame, drawn by the video adapter
  when it starts the shot), ``shot:<index>:<attempt>`` (seconds of video, GPU-seconds),
  ``voice:<index>`` (narration: tokens, or GPU-seconds of the worker) — whose stage is that
  of the function that makes the call (``plan_story``, ``render_characters``,
  ``render_shot`` for frames and shots, ``narrate_shot``);
- cloud operations — ``ops:<function>:<message>:<attempt>``, provider ``"gcp"``, one per
  function invocation — whose stage is the function's ``stage`` in the registry.

Every quantity is priced by its meter. A quantity that no meter prices is listed in
``unpriced`` (and left out of the totals), so a new model or unit shows up instead of
costing nothing. The *platform overhead* is the share of the total that cloud operations
(provider ``"gcp"``) make up.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from shared.costs.prices import PriceTable
from shared.domain.credits import period_of
from shared.domain.tale import TERMINAL, TaleRecord, TaleState
from shared.ports.store import TaleStore
from shared.ports.usage import Usage, UsageRecorder
from shared.registry import BY_NAME

PLATFORM = "gcp"

#: Which function makes the provider calls recorded under a key prefix.
_CALLER = {
    "plan": "plan_story",
    "character": "render_characters",
    "frame": "render_shot",
    "shot": "render_shot",
    "voice": "narrate_shot",
}


def function_of(record: Usage) -> str:
    """The function that made the call, or ran the operations, the record counts ("" if
    unknown)."""
    prefix, _, rest = record.key.partition(":")
    return rest.split(":", 1)[0] if prefix == "ops" else _CALLER.get(prefix, "")


def stage_of(record: Usage) -> str:
    """The registry stage of the function that produced the record ("other" if unknown)."""
    spec = BY_NAME.get(function_of(record))
    return spec.stage if spec is not None else "other"


@dataclass(frozen=True)
class Line:
    """One priced quantity of a tale."""

    stage: str
    provider: str
    model: str
    unit: str
    quantity: float
    usd: float
    function: str = ""
    """The function whose call (or operations) it prices (``function_of``)."""


@dataclass(frozen=True)
class Quantity:
    """How much of a (provider, model, unit) was used."""

    provider: str
    model: str
    unit: str
    quantity: float
    function: str = ""
    """The function whose call (or operations) used it; "" once merged across functions."""


@dataclass
class Costs:
    """Priced lines, summed every way the report needs."""

    lines: list[Line] = field(default_factory=list)
    unpriced: list[Quantity] = field(default_factory=list)
    """Quantities no meter prices (left out of every total)."""

    @property
    def total_usd(self) -> float:
        return sum(line.usd for line in self.lines)

    @property
    def platform_usd(self) -> float:
        return sum(line.usd for line in self.lines if line.provider == PLATFORM)

    @property
    def overhead_share(self) -> float | None:
        """The platform's share of the total; None when nothing was spent."""
        total = self.total_usd
        return self.platform_usd / total if total > 0 else None

    def by_stage(self) -> dict[str, float]:
        return _sum_by(self.lines, lambda line: line.stage)

    def by_provider(self) -> dict[str, float]:
        return _sum_by(self.lines, lambda line: line.provider)

    def quantities(self, provider: str | None = None) -> dict[str, float]:
        """Units summed over all lines (of one provider), priced or not."""
        out: dict[str, float] = defaultdict(float)
        for item in self.counted():
            if provider is None or item.provider == provider:
                out[item.unit] += item.quantity
        return dict(out)

    def counted(self) -> list[Quantity]:
        """Every quantity, priced or not."""
        priced = [Quantity(x.provider, x.model, x.unit, x.quantity, x.function) for x in self.lines]
        return [*priced, *self.unpriced]

    def merged_unpriced(self) -> list[Quantity]:
        """Unpriced quantities added up per (provider, model, unit)."""
        sums: dict[tuple[str, str, str], float] = defaultdict(float)
        for item in self.unpriced:
            sums[(item.provider, item.model, item.unit)] += item.quantity
        return [Quantity(p, m, u, q) for (p, m, u), q in sorted(sums.items())]

    def extend(self, other: Costs) -> None:
        self.lines.extend(other.lines)
        self.unpriced.extend(other.unpriced)


def _sum_by(lines: Iterable[Line], key: Callable[[Line], str]) -> dict[str, float]:
    out: dict[str, float] = defaultdict(float)
    for line in lines:
        out[key(line)] += line.usd
    return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))


def price_usage(records: Iterable[Usage], prices: PriceTable) -> Costs:
    """Price every unit of every record."""
    costs = Costs()
    for record in records:
        stage, function = stage_of(record), function_of(record)
        for unit, quantity in sorted(record.units.items()):
            if not quantity:
                continue
            usd = prices.usd(record.provider, record.model, unit, quantity)
            if usd is None:
                costs.unpriced.append(
                    Quantity(record.provider, record.model, unit, quantity, function)
                )
            else:
                costs.lines.append(
                    Line(stage, record.provider, record.model, unit, quantity, usd, function)
                )
    return costs


# --- tales and periods --------------------------------------------------------------------

#: Enough for any month's tales; ``list_tales`` returns the newest first.
_SCAN_LIMIT = 100_000


@dataclass
class TaleCost:
    tale: TaleRecord
    costs: Costs


@dataclass
class PeriodCost:
    """Tales that finished (completed, failed or cancelled) in a month, and what they cost.

    Failed and cancelled tales count: what providers charged before a failure is ours to pay.
    Cost per video divides everything by the videos actually completed.
    """

    period: str
    tales: list[TaleCost]

    @property
    def videos(self) -> int:
        return sum(1 for t in self.tales if t.tale.state is TaleState.COMPLETED)

    @property
    def costs(self) -> Costs:
        merged = Costs()
        for tale in self.tales:
            merged.extend(tale.costs)
        return merged

    @property
    def per_video(self) -> float | None:
        return self.costs.total_usd / self.videos if self.videos else None


def parse_period(text: str) -> str:
    """``YYYY-MM`` (a real month) or ValueError."""
    year, sep, month = text.partition("-")
    if not (sep and len(year) == 4 and len(month) == 2 and year.isdigit() and month.isdigit()):
        raise ValueError(f"--period must be YYYY-MM, not {text!r}")
    if not 1 <= int(month) <= 12:
        raise ValueError(f"--period {text!r}: there is no month {month}")
    return text


def finished_period(tale: TaleRecord) -> str:
    """The month a tale finished in (or was last updated, while unfinished)."""
    return period_of(tale.updated_at)


def finished_in(store: TaleStore, period: str) -> list[TaleRecord]:
    tales = store.list_tales(states=TERMINAL, limit=_SCAN_LIMIT)
    return sorted(
        (t for t in tales if finished_period(t) == period), key=lambda t: (t.updated_at, t.tale_id)
    )


def tale_cost(tale: TaleRecord, usage: UsageRecorder, prices: PriceTable) -> TaleCost:
    return TaleCost(tale, price_usage(usage.for_tale(tale.tale_id), prices))


def period_cost(
    store: TaleStore, usage: UsageRecorder, period: str, prices: PriceTable
) -> PeriodCost:
    return PeriodCost(period, [tale_cost(t, usage, prices) for t in finished_in(store, period)])
