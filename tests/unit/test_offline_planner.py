"""The offline planner: shot counts, coverage, characters, determinism, the example stories."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas.plan import Camera, Shot, StoryPlan
from schemas.story import Language, StorySubmission, Style
from shared.domain.reading import fits
from shared.ports.generators import Planner
from shared.providers.offline.looks import STYLE_WORDING, describe_character
from shared.providers.offline.planner import OfflinePlanner
from shared.providers.offline.sentences import split_sentences
from shared.providers.offline.titles import body_of

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
KO_EXAMPLE = EXAMPLES / "moon-rabbit.ko.txt"
EN_EXAMPLE = EXAMPLES / "lighthouse-fox.en.txt"

KO_STORY = (
    "서연이와 달토끼\n\n"
    "보름달이 뜬 밤, 서연이는 창가에 앉았다. 서연이가 달을 보았다 달에는 토끼가 있었다\n\n"
    "민호가 방에 들어왔다. 민호는 서연을 불렀다 둘은 함께 달을 보았다."
)
EN_STORY = (
    "Mira and the Owl\n\n"
    "Mira lived by the sea. One night an owl named Hoot landed on her window.\n\n"
    "Hoot said hello. Mira laughed and said hello back. They watched the moon together."
)


def plan(text: str, shots: int = 8, **kw: object) -> StoryPlan:
    submission = StorySubmission(text=text, shot_count=shots, **kw)
    return OfflinePlanner().plan(submission)


def beat_of(shot: Shot) -> str:
    """The story beat the prompt quotes (``Action: "..."``)."""
    return shot.prompt.split('Action: "', 1)[1].removesuffix('"')


def unique_beats(p: StoryPlan) -> list[str]:
    out: list[str] = []
    for shot in p.shots:
        if not out or out[-1] != beat_of(shot):
            out.append(beat_of(shot))
    return out


def story_sentences(text: str, language: Language) -> list[str]:
    return split_sentences(body_of(text), language)


def test_is_a_planner() -> None:
    assert isinstance(OfflinePlanner(), Planner)


@pytest.mark.parametrize("text", [KO_STORY, EN_STORY], ids=["ko", "en"])
@pytest.mark.parametrize("shots", [1, 3, 8, 16])
@pytest.mark.parametrize("seconds", [4, 8])
def test_exact_shot_count_and_durations(text: str, shots: int, seconds: int) -> None:
    p = plan(text, shots, shot_seconds=seconds)
    assert len(p.shots) == shots
    assert [s.index for s in p.shots] == list(range(shots))
    assert all(s.duration_s == seconds for s in p.shots)
    assert p.total_seconds == shots * seconds
    assert p.shots[0].camera is Camera.WIDE


@pytest.mark.parametrize(("text", "language"), [(KO_STORY, "ko"), (EN_STORY, "en")])
@pytest.mark.parametrize("shots", [1, 3, 8, 16])
def test_beats_cover_every_sentence_in_order(text: str, language: Language, shots: int) -> None:
    p = plan(text, shots)
    sentences = story_sentences(text, language)
    assert " ".join(unique_beats(p)) == " ".join(sentences)
    if len(sentences) >= shots:
        assert len(unique_beats(p)) == shots  # no sentence repeated
    else:
        assert len(unique_beats(p)) == len(sentences)


@pytest.mark.parametrize(("text", "language"), [(KO_STORY, "ko"), (EN_STORY, "en")])
@pytest.mark.parametrize("shots", [1, 3, 8, 16])
@pytest.mark.parametrize("seconds", [4, 8])
def test_narration_is_its_beat_within_the_reading_budget(
    text: str, language: Language, shots: int, seconds: int
) -> None:
    p = plan(text, shots, shot_seconds=seconds)
    for shot in p.shots:
        assert fits(shot.narration, language, seconds)
        assert shot.narration
        assert beat_of(shot).startswith(shot.narration.removesuffix("…"))


def test_a_beat_too_long_to_read_keeps_its_first_sentences() -> None:
    text = (
        "Mira packed her bag. She walked down the long road past the mill, the bakery and the "
        "old stone bridge where the river bends."
    )
    p = plan(text, 1, shot_seconds=4)
    assert p.shots[0].narration == "Mira packed her bag."
    assert beat_of(p.shots[0]) == text


def test_repeated_sentences_get_different_cameras() -> None:
    p = plan(EN_STORY, 16)
    for a, b in zip(p.shots, p.shots[1:], strict=False):
        if beat_of(a) == beat_of(b):
            assert a.camera != b.camera


def test_scene_indices_are_ordered_and_exist() -> None:
    for text in (KO_STORY, EN_STORY):
        for shots in (1, 3, 8, 16):
            p = plan(text, shots)
            indices = [s.scene_index for s in p.shots]
            assert indices == sorted(indices)
            assert set(indices) == {s.index for s in p.scenes}  # every scene is filmed


def test_scenes_follow_paragraphs() -> None:
    p = plan(EN_STORY, 8)
    assert [s.summary for s in p.scenes] == ["Mira lived by the sea.", "Hoot said hello."]
    assert p.scenes[0].setting.startswith("by the sea")


def test_single_paragraph_is_split_into_scenes() -> None:
    text = " ".join(f"Mira walked past house number {i}." for i in range(12))
    p = plan(text, 8)
    assert len(p.scenes) == 4
    assert p.scenes[1].summary.startswith("Mira walked past house number")


def test_characters_in_shots_exist_and_descriptions_are_shared() -> None:
    for text in (KO_STORY, EN_STORY):
        p = plan(text, 16)
        names = {c.name for c in p.characters}
        assert names
        for shot in p.shots:
            assert set(shot.characters) <= names
            for name in shot.characters:
                assert name in beat_of(shot)
                assert p.character(name).description in shot.prompt
        for name in names:
            assert any(name in s.characters for s in p.shots)


def test_characters_found_in_stories() -> None:
    assert [c.name for c in plan(KO_STORY).characters] == ["서연", "민호"]
    en = plan(EN_STORY)
    assert [c.name for c in en.characters] == ["Mira", "Hoot"]
    assert "owl" in en.character("Hoot").description


def test_description_is_a_function_of_the_name() -> None:
    assert describe_character("Pip") == describe_character("Pip")
    assert describe_character("Pip", "fox") == describe_character("Pip", "fox")
    assert "fox" in describe_character("Pip", "fox")
    assert len({describe_character(n) for n in ("Ada", "Ben", "Cy", "Dee", "Eve")}) > 1
    grey = ("grey", "white", "salt-and-pepper")
    for name in ("Tobin", "Ada", "Ben", "Cy", "Dee", "Eve"):
        assert any(g in describe_character(name, "elderly") for g in grey)
        child = describe_character(name, "child")
        assert "child" in child
        assert not any(g in child for g in grey)


def test_prompt_contents() -> None:
    p = plan(EN_STORY, 3, style=Style.CINEMATIC)
    for shot in p.shots:
        assert STYLE_WORDING[Style.CINEMATIC] in shot.prompt
        assert p.scenes[shot.scene_index].setting in shot.prompt
        assert f'Action: "{shot.narration.split()[0]}' in shot.prompt
        assert shot.prompt.lower().startswith(shot.camera.value.lower())


def test_korean_prompt_quotes_the_korean_beat() -> None:
    p = plan(KO_STORY, 3)
    assert all('Action: "' in s.prompt and s.narration[:5] in s.prompt for s in p.shots)


def test_a_long_beat_is_cut_in_the_prompt_and_the_narration() -> None:
    text = "Mira walked and walked " + "and walked " * 200 + "home."
    p = plan(text, 1)
    assert p.shots[0].narration.startswith("Mira walked and walked")
    assert p.shots[0].narration.endswith("…")
    assert fits(p.shots[0].narration, "en", 8)
    assert len(p.shots[0].prompt) < 1200


def test_plan_copies_submission_fields() -> None:
    p = plan(KO_STORY, 3, style=Style.ANIME, aspect_ratio="16:9")
    assert p.language == "ko"
    assert p.style is Style.ANIME
    assert p.aspect_ratio == "16:9"
    assert p.title == "서연이와 달토끼"
    p = plan("Mira ran home. Mira slept.", 2, language="en")
    assert p.title == "Mira ran home"
    assert p.characters[0].name == "Mira"


def test_deterministic() -> None:
    for text in (KO_STORY, EN_STORY):
        for shots in (1, 5, 16):
            assert plan(text, shots) == plan(text, shots)
            assert plan(text, shots).model_dump_json() == plan(text, shots).model_dump_json()


def test_tiny_and_odd_inputs() -> None:
    for text in ("Hi", "...", "바다", "A\nB", "Title\n\n!!!", "x" * 5000):
        for shots in (1, 16):
            p = plan(text, shots)
            assert len(p.shots) == shots
            assert 1 <= len(p.title) <= 120


@pytest.mark.parametrize("shots", [1, 3, 8, 16])
def test_korean_example(shots: int) -> None:
    text = KO_EXAMPLE.read_text(encoding="utf-8")
    p = plan(text, shots)
    assert p.language == "ko"
    assert p.title == "달토끼 달래와 잃어버린 떡"
    assert [c.name for c in p.characters] == ["서연", "민호", "달래"]
    assert "rabbit" in p.character("달래").description
    assert len(p.shots) == shots
    sentences = story_sentences(text, "ko")
    assert 10 <= len(sentences) <= 20
    if shots >= 8:  # fewer, longer beats are cut in the prompt (ACTION_MAX)
        assert " ".join(unique_beats(p)) == " ".join(sentences).replace('"', "'")
    assert all(fits(s.narration, "ko", s.duration_s) for s in p.shots)


@pytest.mark.parametrize("shots", [1, 3, 8, 16])
def test_english_example(shots: int) -> None:
    text = EN_EXAMPLE.read_text(encoding="utf-8")
    p = plan(text, shots)
    assert p.language == "en"
    assert p.title == "The Lighthouse Fox"
    assert [c.name for c in p.characters] == ["Tobin", "Pip"]
    assert "fox" in p.character("Pip").description
    assert len(p.shots) == shots
    sentences = story_sentences(text, "en")
    assert 10 <= len(sentences) <= 16
    if shots >= 8:  # fewer, longer beats are cut in the prompt (ACTION_MAX)
        assert " ".join(unique_beats(p)) == " ".join(sentences).replace('"', "'")
    assert all(fits(s.narration, "en", s.duration_s) for s in p.shots)
