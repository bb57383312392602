"""The reading budget: how long a line takes to read, and the planners held to it."""

from __future__ import annotations

import pytest

from schemas.plan import Camera, Scene, Shot, StoryPlan
from schemas.story import StorySubmission, Style
from shared.domain.reading import BUDGETS, budget_of, fits, reading_seconds, trim_to_fit
from shared.providers.plan_drafts import (
    DraftScene,
    DraftShot,
    InvalidPlan,
    PlanDraft,
    build_instructions,
    check_plan,
    plan_from_draft,
)


@pytest.mark.parametrize(
    ("text", "language", "seconds"),
    [
        ("달이 뜬 밤", "ko", 4 / 5),  # four syllables at five a second
        ("The fox ran home.", "en", 4 * 0.4),  # four words at 2.5 a second
        ("月の夜、うさぎ。", "ja", 8 / 5),  # kanji, kana and punctuation alike (NHK's count)
        ("月亮升起来了。", "zh", 6 / 4),  # six characters at four a second
        ("2026년", "ko", 4 / 4 + 1 / 5),  # digits are read out
        ("Mina가 왔다", "ko", 0.4 + 3 / 5),  # a Latin word in Korean text
        ("", "en", 0.0),
        ("... — !", "en", 0.0),
    ],
)
def test_reading_seconds_counts_what_a_reader_paces_by(
    text: str, language: str, seconds: float
) -> None:
    assert reading_seconds(text, language) == pytest.approx(seconds)


def test_the_budgets_are_the_documented_rates() -> None:
    assert {k: b.per_second for k, b in BUDGETS.items()} == {
        "ko": 5.0,
        "ja": 5.0,
        "zh": 4.0,
        "en": 2.5,
    }
    assert budget_of("ko").units_in(8) == 40
    assert budget_of("en").units_in(8) == 20
    assert budget_of("xx") is BUDGETS["en"]


def test_fits_is_inclusive_and_grows_with_the_text() -> None:
    assert fits("a b c d e f g h i j", "en", 4)  # ten words: exactly four seconds
    assert not fits("a b c d e f g h i j k", "en", 4)
    assert fits("", "ko", 4)
    forty = "가" * 40
    assert fits(forty, "ko", 8) and not fits(forty + "가", "ko", 8)


@pytest.mark.parametrize("language", ["ko", "en", "ja", "zh"])
def test_trim_keeps_sentences_then_cuts_at_a_word(language: str) -> None:
    sentences = {
        "ko": ["달이 떴다.", "토끼는 절구를 들고 밤새도록 떡방아를 찧으며 노래를 불렀다."],
        "en": ["The moon rose.", "The rabbit sang and pounded rice cakes all night long."],
        "ja": ["月が出た。", "うさぎは一晩中うたいながら餅をついていました。"],
        "zh": ["月亮出来了。", "兔子整夜一边唱歌一边捣着年糕。"],
    }[language]
    joiner = " " if language in ("ko", "en") else ""
    text = joiner.join(sentences)
    assert trim_to_fit(text, language, 60) == text
    assert trim_to_fit(text, language, 2) == sentences[0]
    cut = trim_to_fit(sentences[1], language, 2)
    assert cut.endswith("…") and fits(cut.removesuffix("…"), language, 2)
    assert sentences[1].startswith(cut.removesuffix("…"))
    assert trim_to_fit("Antidisestablishmentarianism", "en", 0.1) == ""


# --------------------------------------------------------------------------------------
# The planners' rule
# --------------------------------------------------------------------------------------


def submission(language: str, seconds: int = 4) -> StorySubmission:
    text = "달이 떴다. 토끼가 왔다." if language == "ko" else "The moon rose. A rabbit came."
    return StorySubmission(text=text, shot_count=1, shot_seconds=seconds)  # type: ignore[arg-type]


def draft(narration: str) -> PlanDraft:
    return PlanDraft(
        title="Moon",
        characters=[],
        scenes=[DraftScene(setting="a garden at night", summary="the moon")],
        shots=[
            DraftShot(
                scene_index=0,
                prompt="A wide shot of a garden at night.",
                camera=Camera.WIDE,
                characters=[],
                narration=narration,
            )
        ],
    )


def test_the_prompt_states_the_budget_of_the_shot() -> None:
    assert "at most about 20 Korean syllables" in build_instructions(submission("ko", 4))
    assert "at most about 20 words" in build_instructions(submission("en", 8))
    assert "2.5 words a second" in build_instructions(submission("en", 8))


def test_a_line_within_the_budget_is_planned() -> None:
    plan = plan_from_draft(draft("달이 뜬 밤, 토끼가 왔다."), submission("ko", 4))
    assert plan.shots[0].narration == "달이 뜬 밤, 토끼가 왔다."


def test_a_line_over_the_budget_is_refused_with_what_to_do() -> None:
    long = "The rabbit pounded rice cakes under the silver moon while the whole village slept."
    with pytest.raises(InvalidPlan) as refused:
        plan_from_draft(draft(long), submission("en", 4))
    reason = str(refused.value)
    assert "the narration of shot 0 takes about 5.6 s to read aloud" in reason
    assert "longer than the shot's 4 s" in reason
    assert "at most about 10 words" in reason
    assert plan_from_draft(draft(long), submission("en", 8)).shots[0].narration == long


def test_an_edited_storyboard_is_held_to_the_budget_of_each_shot() -> None:
    line = "The rabbit pounded rice cakes under the silver moon all night."
    plan = StoryPlan(
        title="Moon",
        language="en",
        style=Style.STORYBOOK,
        aspect_ratio="9:16",
        scenes=[Scene(index=0, setting="garden", summary="moon")],
        shots=[
            Shot(
                index=i,
                scene_index=0,
                prompt="A garden.",
                camera=Camera.WIDE,
                duration_s=seconds,
                narration=line,
            )
            for i, seconds in enumerate((8, 4))
        ],
    )
    with pytest.raises(InvalidPlan, match="narration of shot 2 takes about") as refused:
        check_plan(plan)
    assert "shot 1 " not in str(refused.value)
