"""``tale costs`` as data: a tale's or a month's costs and the A/B comparison, JSON-ready.

The volume of the comparison is always observed: the videos completed in the period (for the
current month, so far). The work profile is the period's completed tales (or the one tale
asked about, when it completed); see ``profile`` for where each of its numbers comes from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from shared.costs.model import Costs, PeriodCost, TaleCost, finished_period, period_cost
from shared.costs.model import tale_cost as price_tale
from shared.costs.prices import PriceTable, ScenarioSpec
from shared.costs.profile import Amount, profile_of
from shared.costs.scenarios import Comparison, ScenarioCost, compare
from shared.domain.tale import TaleState
from shared.ports.store import TaleStore
from shared.ports.usage import UsageRecorder


class UnknownTale(LookupError):
    pass


@dataclass(frozen=True)
class Report:
    prices: PriceTable
    period: PeriodCost
    tale: TaleCost | None
    """The tale asked about (``--tale``), or None for the whole period."""
    comparison: Comparison

    @property
    def costs(self) -> Costs:
        return self.tale.costs if self.tale is not None else self.period.costs

    @property
    def per_video(self) -> float | None:
        """The period's cost over its videos; a completed tale's own cost; else None."""
        if self.tale is None:
            return self.period.per_video
        done = self.tale.tale.state is TaleState.COMPLETED
        return self.tale.costs.total_usd if done else None


def build_report(
    store: TaleStore,
    usage: UsageRecorder,
    prices: PriceTable,
    *,
    tales_per_month: dict[str, int],
    period: str,
    tale_id: str | None = None,
    specs: dict[str, ScenarioSpec] | None = None,
    revenue: Callable[[int], tuple[float, str]] | None = None,
) -> Report:
    """``period`` is the month of the comparison's volume (and of the tales listed); the CLI
    defaults it to the month the asked-about tale finished in."""
    tale: TaleCost | None = None
    if tale_id is not None:
        record = store.find(tale_id)
        if record is None:
            raise UnknownTale(f"no tale {tale_id}")
        tale = price_tale(record, usage, prices)
    month = period_cost(store, usage, period, prices)
    profile = profile_of([tale] if tale is not None else month.tales, store, prices)
    if tale is not None and profile.tales == 0:
        profile = profile_of(month.tales, store, prices)
    per_video = revenue(month.videos) if revenue is not None else None
    comparison = compare(profile, month.videos, prices, tales_per_month, specs, per_video)
    return Report(prices, month, tale, comparison)


def default_period(store: TaleStore, tale_id: str | None, now_period: str) -> str:
    if tale_id is not None:
        record = store.find(tale_id)
        if record is None:
            raise UnknownTale(f"no tale {tale_id}")
        return finished_period(record)
    return now_period


# --- JSON ---------------------------------------------------------------------------------


def to_json(report: Report) -> dict[str, Any]:
    costs = report.costs
    out: dict[str, Any] = {
        "price_table": {"version": report.prices.version, "currency": report.prices.currency},
        "scope": "tale" if report.tale is not None else "period",
        "period": report.period.period,
    }
    if report.tale is not None:
        t = report.tale.tale
        out["tale"] = {"id": t.tale_id, "title": t.title, "state": t.state.value}
    else:
        out["tales"] = [
            {"id": t.tale.tale_id, "state": t.tale.state.value, "usd": t.costs.total_usd}
            for t in report.period.tales
        ]
    out["videos"] = report.period.videos
    out["cost"] = {
        "total_usd": costs.total_usd,
        "per_video_usd": report.per_video,
        "by_stage": costs.by_stage(),
        "by_provider": costs.by_provider(),
        "platform_usd": costs.platform_usd,
        "platform_share": costs.overhead_share,
        "unpriced": [
            {"provider": q.provider, "model": q.model, "unit": q.unit, "quantity": q.quantity}
            for q in costs.merged_unpriced()
        ],
    }
    out["scenarios"] = comparison_json(report.comparison)
    return out


def _amount(amount: Amount) -> dict[str, Any]:
    return {"value": amount.value, "basis": amount.basis}


def _scenario(cost: ScenarioCost, volume: int) -> dict[str, Any]:
    return {
        "variable_usd_per_video": cost.variable_usd,
        "api_usd_per_video": cost.api_usd,
        "fixed_usd_per_month": cost.fixed_usd,
        "fixed": cost.fixed,
        "monthly_usd_at_volume": cost.monthly(volume),
        "components": [asdict(c) for c in cost.variable],
    }


def comparison_json(c: Comparison) -> dict[str, Any]:
    p = c.profile
    return {
        "volume_videos_per_month": c.volume,
        "volume_basis": "observed",
        "profile": {
            "tales": p.tales,
            "shots": _amount(p.shots),
            "video_seconds": _amount(p.video_seconds),
            "characters": _amount(p.characters),
            "input_tokens": _amount(p.input_tokens),
            "output_tokens": _amount(p.output_tokens),
            "platform_usd": _amount(p.platform_usd),
            "narration": {
                "lines": p.narration.lines,
                "characters": p.narration.characters,
                "speech_seconds": p.narration.seconds,
                "basis": p.narration.source,
            },
        },
        "A": _scenario(c.a, c.volume),
        "B": _scenario(c.b, c.volume),
        "break_even_videos_per_month": c.break_even,
        "revenue_usd_per_video": c.revenue_per_video,
        "revenue_basis": c.revenue_basis,
        "api_cost_share_of_revenue": c.api_share,
        "api_cost_share_threshold": c.threshold,
        "signals": {
            "volume_above_break_even": c.above_break_even,
            "api_cost_above_threshold": c.api_over_threshold,
        },
        "unpriced": c.unpriced,
    }
