"""A tale's usage records priced by stage and provider; a month's tales and their profile."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from shared.adapters.local.usage import SqliteUsage
from shared.costs.model import Quantity, parse_period, period_cost, price_usage, stage_of
from shared.costs.profile import profile_of
from shared.domain.tale import TaleState
from shared.ports.usage import Usage, UsageRecorder
from tests.conftest import make_plan, make_record, make_submission
from tests.costs.tables import small_table
from tests.fakes import InMemoryTaleStore

T = "tale-000001"


def records() -> list[Usage]:
    return [
        Usage(T, "plan:1", "gem", "m-gem", {"input_tokens": 1000, "output_tokens": 500}),
        Usage(T, "character:Mina", "img", "m-img", {"images": 1}),
        Usage(T, "shot:0:1", "vid", "m-vid", {"video_seconds": 4}),
        Usage(T, "shot:1:1", "vid", "unknown-model", {"video_seconds": 4}),
        Usage(
            T,
            "ops:render_shot:m1:1",
            "gcp",
            "render_shot",
            {"invocations": 1, "vcpu_seconds": 10, "gib_seconds": 20},
        ),
        Usage(
            T,
            "ops:stitch_video:m2:1",
            "gcp",
            "stitch_video",
            {"invocations": 1, "vcpu_seconds": 5, "mystery_unit": 3},
        ),
    ]


def test_records_are_priced_by_stage_and_provider_with_the_overhead_share(
    tmp_path: Path,
) -> None:
    usage = SqliteUsage(tmp_path / "usage.db")
    for record in records():
        usage.record(record)
    costs = price_usage(usage.for_tale(T), small_table())

    planning = 1000 * 1e-6 + 500 * 2e-6  # 0.002
    characters = 0.05
    video = 4 * 0.50
    render_ops = 0.4e-6 + 10 * 0.00002 + 20 * 0.000002  # 0.0002404
    stitch_ops = 0.4e-6 + 5 * 0.00002  # 0.0001004
    total = planning + characters + video + render_ops + stitch_ops
    assert costs.total_usd == pytest.approx(total)
    assert costs.by_stage() == pytest.approx(
        {
            "rendering": video + render_ops,
            "characters": characters,
            "planning": planning,
            "stitching": stitch_ops,
        }
    )
    assert costs.by_provider() == pytest.approx(
        {"vid": video, "img": characters, "gem": planning, "gcp": render_ops + stitch_ops}
    )
    assert costs.platform_usd == pytest.approx(render_ops + stitch_ops)
    assert costs.overhead_share == pytest.approx((render_ops + stitch_ops) / total)


def test_unpriced_units_are_reported_not_dropped() -> None:
    costs = price_usage([*records(), *records()], small_table())
    assert costs.merged_unpriced() == [
        Quantity("gcp", "stitch_video", "mystery_unit", 6),
        Quantity("vid", "unknown-model", "video_seconds", 8),
    ]
    assert costs.quantities("vid") == {"video_seconds": 16}


def test_the_stage_is_the_registry_stage_of_the_function() -> None:
    def key(k: str) -> str:
        return stage_of(Usage(T, k, "p", "m"))

    assert key("plan:2") == "planning"
    assert key("character:Mina") == "characters"
    assert key("shot:3:1") == "rendering"
    assert key("frame:3:1") == "rendering"  # a shot's first frame, drawn by render_shot
    assert key("ops:collect_shots:abc:1") == "rendering"
    assert key("ops:settle_credits:abc:1") == "billing"
    assert key("ops:no_such_function:abc:1") == "other"
    assert key("mystery") == "other"


def test_a_shots_first_frame_is_priced_as_rendering_by_render_shot() -> None:
    frame = Usage(T, "frame:2:1", "img", "m-img", {"images": 1})
    costs = price_usage([frame], small_table())
    assert [(x.stage, x.function) for x in costs.lines] == [("rendering", "render_shot")]
    assert costs.by_stage() == pytest.approx({"rendering": 0.05})


@pytest.mark.parametrize("bad", ["2026-13", "2026-1", "26-01", "2026/01", "abcd-ef", ""])
def test_a_bad_period_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="--period"):
        parse_period(bad)


def _at(year: int, month: int) -> float:
    return datetime(year, month, 15, tzinfo=UTC).timestamp()


def test_a_month_counts_its_finished_tales_and_its_videos() -> None:
    store, usage = InMemoryTaleStore(), _MemoryUsage()
    plan = make_plan(shots=2)  # 2 shots of 4 s, 1 character
    for tale_id, state, when in (
        ("tale-a", TaleState.COMPLETED, _at(2026, 11)),
        ("tale-b", TaleState.COMPLETED, _at(2026, 11)),
        ("tale-c", TaleState.FAILED, _at(2026, 11)),
        ("tale-d", TaleState.COMPLETED, _at(2026, 10)),
    ):
        record = make_record(tale_id, state, shots=2)
        record.updated_at = when
        store.create(record, make_submission(2, text="x" * 400))
        store.save_plan(tale_id, plan)
    usage.record(Usage("tale-a", "plan:1", "gem", "m-gem", {"input_tokens": 3000}))
    usage.record(Usage("tale-a", "shot:0:1", "vid", "m-vid", {"video_seconds": 4}))
    usage.record(Usage("tale-c", "shot:0:1", "vid", "m-vid", {"video_seconds": 8}))
    usage.record(Usage("tale-d", "shot:0:1", "vid", "m-vid", {"video_seconds": 100}))
    table = small_table()

    month = period_cost(store, usage, "2026-11", table)
    assert [t.tale.tale_id for t in month.tales] == ["tale-a", "tale-b", "tale-c"]
    assert month.videos == 2
    paid = 3000 * 1e-6 + 4 * 0.5 + 8 * 0.5  # the failed tale's video is paid for too
    assert month.costs.total_usd == pytest.approx(paid)
    assert month.per_video == pytest.approx(paid / 2)

    profile = profile_of(month.tales, store, table)
    assert profile.tales == 2
    assert (profile.shots.value, profile.video_seconds.value) == (2, 8)
    assert (profile.characters.value, profile.characters.basis) == (1, "tales")
    # tale-a observed 3000 input tokens; tale-b modelled: 1000 + 400 chars × 0.5 = 1200.
    assert profile.input_tokens.value == pytest.approx((3000 + 1200) / 2)
    assert profile.input_tokens.basis == "modelled"
    assert profile.used("vid", "video_seconds") == pytest.approx(2)  # 4 s over 2 videos
    # No cloud-operation records: 2 shots × $0.01 + $0.02 each.
    assert profile.platform_usd.value == pytest.approx(0.04)
    assert profile.platform_usd.basis == "modelled"


class _MemoryUsage(UsageRecorder):
    def __init__(self) -> None:
        self._rows: dict[tuple[str, str], Usage] = {}

    def record(self, usage: Usage) -> None:
        self._rows[(usage.tale_id, usage.key)] = usage

    def for_tale(self, tale_id: str) -> list[Usage]:
        return sorted((u for (t, _), u in self._rows.items() if t == tale_id), key=lambda u: u.key)


def test_an_empty_month_costs_nothing_and_profiles_the_default_tale() -> None:
    table = small_table()
    month = period_cost(InMemoryTaleStore(), _MemoryUsage(), "2026-11", table)
    assert (month.videos, month.costs.total_usd, month.per_video) == (0, 0, None)
    profile = profile_of(month.tales, InMemoryTaleStore(), table)
    assert profile.tales == 0 and profile.video_seconds.value == 64
    assert profile.video_seconds.basis == "modelled"
