"""Narration in the cost model: a narrated tale costs more than the same tale with voice
``none`` by exactly its ``narration`` stage, priced per scenario from the table (A: the speech
model's text and audio tokens; B: Bark's GPU-seconds); the embedded default's espeak-ng costs
nothing; a storyboard's own lines replace the typical fill; the narrator's usage records are
read apart from the planner's and the video model's."""

from __future__ import annotations

import pytest

from schemas.plan import StoryPlan
from shared.config import Settings
from shared.costs import budget
from shared.costs.estimate import estimate_tale
from shared.costs.model import TaleCost, price_usage
from shared.costs.narration import Narration, of_plan, silent, typical
from shared.costs.prices import load_prices
from shared.costs.profile import profile_of
from shared.costs.scenarios import compare, deployment_engines, engines_from
from shared.domain.reading import reading_seconds
from shared.domain.tale import TaleState
from shared.ports.usage import Usage
from shared.ports.voices import NO_VOICE
from tests.conftest import make_plan, make_record, make_submission
from tests.costs.tables import TALES_PER_MONTH, small_table
from tests.costs.test_scenarios import A_NARRATION, B_NARRATION
from tests.fakes import InMemoryTaleStore


@pytest.mark.parametrize("scenario", ["A", "B"])
def test_a_narrated_tale_costs_more_than_a_silent_one_by_exactly_its_narration(
    scenario: str,
) -> None:
    table = small_table()
    narrated = estimate_tale(4, 5, 2, scenario, table)
    quiet = estimate_tale(4, 5, 2, scenario, table, narration=silent())
    expected = A_NARRATION if scenario == "A" else B_NARRATION
    assert narrated.by_stage["narration"] == pytest.approx(expected)
    assert quiet.by_stage["narration"] == 0
    assert narrated.usd - quiet.usd == pytest.approx(narrated.by_stage["narration"])
    others = {k: v for k, v in narrated.by_stage.items() if k != "narration"}
    assert others == {k: v for k, v in quiet.by_stage.items() if k != "narration"}
    for estimate in (narrated, quiet):
        assert sum(estimate.by_stage.values()) == pytest.approx(estimate.usd)
        assert estimate.unpriced == ()


def test_the_embedded_default_narrates_for_nothing() -> None:
    table = small_table()
    narrated = estimate_tale(4, 5, 2, "offline", table)
    quiet = estimate_tale(4, 5, 2, "offline", table, narration=silent())
    assert narrated == quiet
    assert narrated.by_stage == {"platform": pytest.approx(4 * 0.01 + 0.02)}


def test_the_packaged_table_prices_the_narrator_of_both_scenarios() -> None:
    """The default tale (8 × 8 s) on the packaged table, worked from the table's own rows:
    48 s of speech (0.75 of 64 s) of 336 characters in 8 lines."""
    table = load_prices()
    ids = {p.id for p in table.prices}
    assert {"gemini-3.8-flash-tts-input", "gemini-3.8-flash-tts-audio"} <= ids
    a = table.assumption
    speech = 64 * a("narration_fill_ratio")
    text = speech * a("narration_chars_per_second") * a("story_tokens_per_char") + 8 * a(
        "narration_style_tokens_per_line"
    )
    audio = speech * a("tts_audio_tokens_per_second")
    assert (speech, a("tts_audio_tokens_per_second")) == (48, 32)

    def usd(provider: str, model: str, unit: str, quantity: float) -> float:
        priced = table.usd(provider, model, unit, quantity)
        assert priced is not None, (provider, model, unit)
        return priced

    tts = "gemini-3.8-flash-tts"
    a_usd = usd("gemini-tts", tts, "input_tokens", text) + usd(
        "gemini-tts", tts, "audio_tokens", audio
    )
    bark = speech * a("voice_gpu_seconds_per_speech_second")
    b_usd = usd("self-hosted", "bark-small", "gpu_seconds", bark)
    for specs in (engines_from(table), deployment_engines(table, Settings())):
        estimates = {s: estimate_tale(8, 8, 2, s, table, specs=specs) for s in ("A", "B")}
        assert estimates["A"].by_stage["narration"] == pytest.approx(a_usd)
        assert estimates["B"].by_stage["narration"] == pytest.approx(b_usd)
        for estimate in estimates.values():
            assert estimate.unpriced == ()
            assert sum(estimate.by_stage.values()) == pytest.approx(estimate.usd)
    assert 0.005 < a_usd < 0.05  # about a cent and a half: well under a cent a shot
    assert 0.01 < b_usd < 0.1  # 96 GPU-seconds of the worker


def test_a_storyboards_lines_are_what_is_voiced() -> None:
    plan = make_plan(3)  # "line 0" … "line 2", English, 4-second shots
    shots = list(plan.shots)
    shots[1] = shots[1].model_copy(update={"narration": "  "})  # nothing to voice
    plan = StoryPlan.model_validate({**plan.model_dump(), "shots": [s.model_dump() for s in shots]})
    voiced = of_plan(plan, "")
    assert (voiced.lines, voiced.characters) == (2, len("line 0") + len("line 2"))
    assert voiced.seconds == pytest.approx(2 * reading_seconds("line 0", "en"))
    assert voiced.source == "tales"
    assert of_plan(plan, NO_VOICE) == silent("tales")
    assert of_plan(plan, "Kore", [1, 2]).lines == 1  # a revision re-voices only its shots
    assert typical(small_table(), 3, 4, NO_VOICE) == silent()


def test_the_estimate_of_a_storyboard_prices_its_own_lines() -> None:
    table = small_table()
    plan = make_plan(3)
    voiced = of_plan(plan, "")
    with_plan = estimate_tale(3, 4, 1, "A", table, narration=voiced)
    text = voiced.characters * 0.5 + voiced.lines * 20
    audio = voiced.seconds * 25
    assert with_plan.by_stage["narration"] == pytest.approx(text * 1e-6 + audio * 10e-6)
    assert with_plan.usd != estimate_tale(3, 4, 1, "A", table).usd  # not the typical fill


def _settings(scenario: str) -> Settings:
    return Settings(scenario=scenario)  # type: ignore[arg-type]


@pytest.mark.parametrize("scenario", ["A", "B"])
def test_the_budget_follows_the_tales_voice_option(scenario: str) -> None:
    settings = _settings(scenario)
    record = make_record(shots=3)
    plan = make_plan(3)
    for shape, silent_one in (
        (budget.estimate(settings, 8, 8, 2), budget.estimate(settings, 8, 8, 2, voice=NO_VOICE)),
        (
            budget.estimate_of(settings, record, plan),
            budget.estimate_of(settings, record, plan, NO_VOICE),
        ),
        (
            budget.estimate_of(settings, record, None),
            budget.estimate_of(settings, record, None, NO_VOICE),
        ),
    ):
        assert shape.by_stage["narration"] > 0 and silent_one.by_stage["narration"] == 0
        assert shape.usd - silent_one.usd == pytest.approx(shape.by_stage["narration"])
    revised = plan.shots[2].model_copy(update={"narration": "a new line, read again"})
    edited = StoryPlan.model_validate(
        {**plan.model_dump(), "shots": [*[s.model_dump() for s in plan.shots[:2]], revised]}
    )
    again = budget.estimate_revision(settings, edited, [0, 2], {2}, "")
    only_renders = budget.estimate_revision(settings, edited, [0, 2], set(), "")
    assert only_renders.by_stage["narration"] == 0
    prices = load_prices()
    specs = deployment_engines(prices, settings)
    one_line = estimate_tale(
        2, 4, 0, scenario, prices, specs=specs, narration=of_plan(edited, "", [2])
    )
    assert again.by_stage["narration"] == pytest.approx(one_line.by_stage["narration"])


def test_the_narrators_records_are_read_apart_from_the_planner_and_the_video_model() -> None:
    """A B tale: the worker's shot and voice records both count ``gpu_seconds``; an A tale's
    speech model counts ``input_tokens`` as the planner does. Neither is taken for the other."""
    table = small_table()
    store = InMemoryTaleStore()
    record = make_record("tale-b", TaleState.COMPLETED, shots=3)
    store.create(record, make_submission(3))
    store.save_plan("tale-b", make_plan(3))
    records = [
        Usage("tale-b", "plan:1", "gem", "m-gem", {"input_tokens": 2000, "output_tokens": 900}),
        Usage("tale-b", "shot:0:1", "self", "cogvideox", {"gpu_seconds": 300}),
        Usage("tale-b", "voice:0", "self", "bark", {"gpu_seconds": 7, "audio_seconds": 3}),
        Usage("tale-b", "voice:1", "tts", "m-tts", {"input_tokens": 40, "audio_tokens": 80}),
    ]
    item = TaleCost(record, price_usage(records, table))
    profile = profile_of([item], store, table)
    assert profile.input_tokens.value == 2000  # not the speech model's 40
    assert profile.used("self", "gpu_seconds") == 300  # not Bark's 7
    assert profile.narrator_used("self", "gpu_seconds") == 7
    assert profile.narrator_used("tts", "audio_tokens") == 80
    assert profile.narration == of_plan(make_plan(3), "")
    c = compare(profile, 1, table, TALES_PER_MONTH)
    a = {x.stage: x for x in c.a.variable}
    b = {x.stage: x for x in c.b.variable}
    assert a["narration"].basis == b["narration"].basis == "observed"
    assert a["narration"].usd == pytest.approx(40 * 1e-6 + 80 * 10e-6)
    assert b["narration"].usd == pytest.approx(7 * 0.001)
    assert b["rendering"].usd == pytest.approx(300 * 0.001)


def test_a_silent_tales_profile_has_no_narration() -> None:
    table = small_table()
    store = InMemoryTaleStore()
    record = make_record("tale-q", TaleState.COMPLETED, shots=3)
    store.create(record, make_submission(3, options={"voice": NO_VOICE}))
    store.save_plan("tale-q", make_plan(3))
    profile = profile_of([TaleCost(record, price_usage([], table))], store, table)
    assert profile.narration == Narration(0, 0, 0, "tales")
    c = compare(profile, 1, table, TALES_PER_MONTH)
    assert {x.stage: x.usd for x in c.a.variable}["narration"] == 0
    assert {x.stage: x.usd for x in c.b.variable}["narration"] == 0
