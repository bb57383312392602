"""The A/B model reproduces a case worked out by hand from the small table's values.

The small table (``tables.py``): Gemini $1 / $2 per million input / output tokens, an image
$0.05, a second of video $0.50, a GPU-second $0.001, the speech model $1 / $10 per million
text / audio tokens; B's fixed month is 100,000 GPU-seconds ($100) plus 10 GB-months of
weights at $0.50 ($5) = $105. B's video model renders a 5-second clip per shot at 10
GPU-seconds a second of clip. Assumptions: a 1,000-token prompt, 0.5 tokens per story
character, a 2,000-character story, 500 + 100 per shot + 50 per character output tokens, 5
GPU-seconds per image, 100 per tale; narration filling half of each shot at 10 characters a
second, 20 style tokens a line, 25 audio tokens and 2 GPU-seconds per second of speech;
platform $0.01 per shot + $0.02 per tale. Revenue: only pro videos, $20 a month for 10 tales
= $2 a video.
"""

from __future__ import annotations

import pytest

from shared.costs.estimate import estimate_tale
from shared.costs.profile import Amount, default_profile
from shared.costs.scenarios import compare, engines_from
from tests.costs.tables import SMALL, TALES_PER_MONTH, small_table

# A tale of 4 shots × 5 s with 2 characters, worked out by hand:
TOKENS_IN = 1000 + 2000 * 0.5  # 2,000
TOKENS_OUT = 500 + 4 * 100 + 2 * 50  # 1,000
A_PLANNING = TOKENS_IN * 1e-6 + TOKENS_OUT * 2e-6  # 0.004
A_CHARACTERS = 2 * 0.05  # 0.10
A_RENDERING = 20 * 0.50  # 10.00
SPEECH_S = 4 * 5 * 0.5  # 10 s of speech: 4 lines, half of each 5-second shot
TEXT_TOKENS = SPEECH_S * 10 * 0.5 + 4 * 20  # 100 characters × 0.5 + the style: 130
AUDIO_TOKENS = SPEECH_S * 25  # 250
A_NARRATION = TEXT_TOKENS * 1e-6 + AUDIO_TOKENS * 10e-6  # 0.00263
PLATFORM = 4 * 0.01 + 0.02  # 0.06
VAR_A = A_PLANNING + A_CHARACTERS + A_RENDERING + A_NARRATION + PLATFORM  # 10.16663
B_CHARACTERS = 2 * 5 * 0.001  # 0.01
B_RENDERING = (20 * 10 + 100) * 0.001  # 0.30
B_NARRATION = SPEECH_S * 2 * 0.001  # 0.02
VAR_B = B_CHARACTERS + B_RENDERING + B_NARRATION + PLATFORM  # 0.39
FIXED_B = 100_000 * 0.001 + 10 * 0.5  # 105
BREAK_EVEN = FIXED_B / (VAR_A - VAR_B)  # 10.74…


def test_the_ab_model_reproduces_the_hand_computed_case() -> None:
    table = small_table()
    profile = default_profile(table, shots=4, seconds_per_shot=5, characters=2)
    c = compare(profile, 12, table, TALES_PER_MONTH)

    assert {x.stage: x.usd for x in c.a.variable} == pytest.approx(
        {
            "planning": A_PLANNING,
            "characters": A_CHARACTERS,
            "rendering": A_RENDERING,
            "narration": A_NARRATION,
            "platform": PLATFORM,
        }
    )
    assert {x.stage: x.usd for x in c.b.variable} == pytest.approx(
        {
            "planning": 0.0,
            "characters": B_CHARACTERS,
            "rendering": B_RENDERING,
            "narration": B_NARRATION,
            "platform": PLATFORM,
        }
    )
    assert c.a.variable_usd == pytest.approx(10.16663)
    assert c.b.variable_usd == pytest.approx(0.39)
    assert (c.a.fixed_usd, c.b.fixed_usd) == (0, pytest.approx(105))
    assert c.b.fixed == pytest.approx({"planner": 100.0, "weights": 5.0})
    assert c.break_even == pytest.approx(BREAK_EVEN)
    assert c.break_even == pytest.approx(10.7398, abs=1e-4)
    assert c.a.monthly(12) == pytest.approx(12 * VAR_A)  # 122.0
    assert c.b.monthly(12) == pytest.approx(105 + 12 * VAR_B)  # 109.68
    assert c.above_break_even  # 12 > 10.74
    assert c.revenue_per_video == pytest.approx(2.0)
    assert c.api_share == pytest.approx((VAR_A - PLATFORM) / 2.0)  # 505 %
    assert c.api_over_threshold
    assert c.unpriced == []
    assert all(x.basis == "modelled" for x in [*c.a.variable, *c.b.variable])


def test_below_break_even_and_affordable_apis_raise_no_signal() -> None:
    table = small_table()
    profile = default_profile(table, shots=4, seconds_per_shot=5, characters=2)
    c = compare(profile, 10, table, {"free": 2, "pro": 1, "business": 100})
    assert not c.above_break_even  # 10 < 10.74
    assert c.revenue_per_video == pytest.approx(20.0)
    assert c.api_share == pytest.approx((VAR_A - PLATFORM) / 20)
    assert not c.api_over_threshold  # 50.5 % ≤ 60 %


def test_no_break_even_when_the_apis_are_not_dearer_per_video() -> None:
    data = {**SMALL, "prices": [dict(p) for p in SMALL["prices"]]}
    next(p for p in data["prices"] if p["id"] == "vid")["usd"] = 0.001
    table = small_table(prices=data["prices"])
    profile = default_profile(table, shots=4, seconds_per_shot=5, characters=2)
    c = compare(profile, 1000, table, TALES_PER_MONTH)
    assert c.a.variable_usd < c.b.variable_usd
    assert c.break_even is None
    assert not c.above_break_even


def test_observed_usage_replaces_the_model_and_says_so() -> None:
    table = small_table()
    modelled = default_profile(table, shots=4, seconds_per_shot=5, characters=2)
    observed = type(modelled)(
        tales=3,
        shots=Amount(4, "tales"),
        video_seconds=Amount(20, "tales"),
        characters=Amount(2, "tales"),
        input_tokens=Amount(2500, "usage"),
        output_tokens=Amount(1500, "usage"),
        platform_usd=Amount(0.05, "usage"),
        usage={("vid", "video_seconds"): 24.0, ("self", "gpu_seconds"): 420.0},
    )
    c = compare(observed, 5, table, TALES_PER_MONTH)
    a = {x.stage: x for x in c.a.variable}
    b = {x.stage: x for x in c.b.variable}
    assert a["rendering"].usd == pytest.approx(24 * 0.5) and a["rendering"].basis == "observed"
    assert a["planning"].usd == pytest.approx(2500e-6 + 1500 * 2e-6)
    assert a["planning"].basis == "observed"
    assert a["characters"].basis == "modelled"  # no image usage recorded
    assert b["rendering"].usd == pytest.approx(0.42) and b["rendering"].basis == "observed"
    assert b["characters"].usd == 0  # the observed GPU-seconds include the references
    assert a["platform"].usd == 0.05 and a["platform"].basis == "observed"


def test_a_deployments_models_are_priced_and_unknown_ones_reported() -> None:
    table = small_table()
    profile = default_profile(table, shots=4, seconds_per_shot=5, characters=2)
    c = compare(profile, 0, table, TALES_PER_MONTH, engines_from(table, veo="m-vid-2"))
    assert c.unpriced == ["vid/m-vid-2/video_seconds"]
    assert {x.stage: x.usd for x in c.a.variable}["rendering"] == 0


def test_the_estimate_before_generation_is_the_same_model_by_stage() -> None:
    table = small_table()
    a = estimate_tale(4, 5, 2, "A", table)
    assert a.usd == pytest.approx(VAR_A)
    assert a.by_stage == pytest.approx(
        {
            "planning": A_PLANNING,
            "characters": A_CHARACTERS,
            "rendering": A_RENDERING,
            "narration": A_NARRATION,
            "platform": PLATFORM,
        }
    )
    assert a.price_table == "2026-11-01"
    assert estimate_tale(4, 5, 2, "B", table).usd == pytest.approx(VAR_B)
    offline = estimate_tale(4, 5, 2, "offline", table)
    assert offline.usd == pytest.approx(PLATFORM) and offline.by_stage == {"platform": PLATFORM}
    with pytest.raises(ValueError, match="scenario"):
        estimate_tale(4, 5, 2, "C", table)
    with pytest.raises(ValueError, match="at least one shot"):
        estimate_tale(0, 5, 2, "A", table)
