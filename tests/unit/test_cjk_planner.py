"""The offline planner on Japanese and Chinese stories: sentences, names, kinds, settings,
titles, and the language model planners' checks for both languages."""

from __future__ import annotations

import pytest

from schemas.story import StorySubmission
from shared.domain.reading import fits
from shared.providers.offline.kinds import character_kind
from shared.providers.offline.looks import setting_of
from shared.providers.offline.names import extract_characters
from shared.providers.offline.planner import OfflinePlanner
from shared.providers.offline.sentences import split_sentences
from shared.providers.offline.titles import title_of
from shared.providers.plan_drafts import build_instructions
from tests.conftest import EXAMPLES

JA_EXAMPLE = EXAMPLES / "paper-crane.ja.txt"
ZH_EXAMPLE = EXAMPLES / "lantern-fox.zh.txt"


def test_japanese_sentences_end_outside_quotes() -> None:
    text = (
        "雪の夜、ハナは窓を見ました。「また明日ね。おやすみ。」とハナは言いました。"
        "本当？うん！「わあ！」\n『古い本だ』と思いました"
    )
    assert split_sentences(text, "ja") == [
        "雪の夜、ハナは窓を見ました。",
        "「また明日ね。おやすみ。」とハナは言いました。",
        "本当？",
        "うん！",
        "「わあ！」",
        "『古い本だ』と思いました",
    ]


def test_chinese_sentences_in_both_scripts() -> None:
    simplified = "从前，有个小女孩叫小兰。“快跑！”小兰喊道。“我们走吧。”他们出发了。真的吗？是的！"
    assert split_sentences(simplified, "zh") == [
        "从前，有个小女孩叫小兰。",
        "“快跑！”小兰喊道。",
        "“我们走吧。”",
        "他们出发了。",
        "真的吗？",
        "是的！",
    ]
    traditional = "從前，有個小女孩叫小蘭。「快跑！」小蘭喊道。「我們走吧。」他們出發了。"
    assert split_sentences(traditional, "zh") == [
        "從前，有個小女孩叫小蘭。",
        "「快跑！」小蘭喊道。",
        "「我們走吧。」",
        "他們出發了。",
    ]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        # honorifics, katakana and a folk-tale kanji name; the honorific is dropped
        (
            "ハナさんは村に住んでいました。ハナちゃん、と母さんが呼びました。キツネのコンが来ました。"
            "コンは笑いました。太郎くんも来ました。太郎くんは走りました。王様は眠っていました。王様は夢を見ました。",
            ["ハナ", "コン", "太郎"],
        ),
        # animals and common katakana words are not names
        ("ウサギはパンを食べました。ウサギはパンが好きです。", []),
        (
            "桃太郎は鬼ヶ島へ行きました。桃太郎は強かった。山田先生が教えました。山田先生は優しい。",
            ["桃太郎", "山田"],
        ),
    ],
)
def test_japanese_names(text: str, names: list[str]) -> None:
    assert extract_characters(text, "ja") == names


@pytest.mark.parametrize(
    ("text", "names"),
    [
        (
            "有一个叫明明的男孩。明明每天看月亮。小狐狸阿福来了。阿福说：“走吧！”老王笑了。老王说再见。",
            ["明明", "阿福", "老王"],
        ),
        # forms of address that are common words are not names
        ("小狗跑了。小狗很高兴。老师来了。老师笑了。小心！小心！", []),
        ("從前有個小女孩叫小蘭。小蘭很勇敢。阿福說：「走吧。」阿福跳了起來。", ["小蘭", "阿福"]),
    ],
)
def test_chinese_names_and_forms_of_address(text: str, names: list[str]) -> None:
    assert extract_characters(text, "zh") == names


def test_kinds_and_settings_from_japanese_and_chinese_words() -> None:
    assert character_kind("白いうさぎのモモが来た。", "モモ", "ja") == "rabbit"
    assert character_kind("ハナという女の子がいた。", "ハナ", "ja") == "child"
    assert character_kind("一只小狐狸阿福来了。", "阿福", "zh") == "fox"
    assert character_kind("一个叫明明的男孩。", "明明", "zh") == "child"
    assert character_kind("明明看着月亮。", "明明", "zh") is None
    assert setting_of("海辺の村で、夜に月を見た。", "ja") == "on a sandy beach, at night"
    assert setting_of("森林里的小屋，清晨。", "zh") == "in a quiet forest, in the early morning"
    assert setting_of("他回到了家。", "zh", "by the sea") == "inside a cozy house"
    assert setting_of("他笑了。", "zh", "by the sea") == "by the sea"


def test_short_titles() -> None:
    sentence = "昔々、ある山のふもとの小さな村に、ハナという女の子が住んでいました。"
    assert title_of(sentence, [sentence], "ja") == "昔々、ある山のふもとの小さな村に"
    long_zh = "从前有一个叫明明的男孩住在海边的小村子里每天晚上都看着月亮。"
    title = title_of(long_zh, [long_zh], "zh")
    assert len(title) <= 20 and title.endswith("…")
    assert title_of("小兰和灯笼狐狸\n\n故事。", ["故事。"], "zh") == "小兰和灯笼狐狸"


@pytest.mark.parametrize(
    ("path", "language", "title", "names"),
    [
        (JA_EXAMPLE, "ja", "ハナと紙のツル", {"ハナ", "ソラ"}),
        (ZH_EXAMPLE, "zh", "小兰和灯笼狐狸", {"小兰", "阿福"}),
    ],
)
def test_the_examples_plan_like_the_korean_one(
    path: object, language: str, title: str, names: set[str]
) -> None:
    submission = StorySubmission(text=EXAMPLES.joinpath(str(path)).read_text(encoding="utf-8"))
    plan = OfflinePlanner().plan(submission)
    assert plan.language == language and plan.title == title
    assert {c.name for c in plan.characters} == names
    assert all(c.description.isascii() for c in plan.characters)
    assert len(plan.shots) == 8 and len(plan.scenes) == 4
    for shot in plan.shots:
        assert shot.narration and fits(shot.narration, language, shot.duration_s)
        assert " " not in shot.narration  # ja/zh sentences are joined without spaces
        assert set(shot.characters) <= names
        visual = shot.prompt.split('Action: "')[0]
        for name in names:  # English, but for the characters' names
            visual = visual.replace(name, "")
        assert visual.isascii(), visual
    assert any(shot.characters for shot in plan.shots)
    assert plan.scenes[0].setting != "a story-world location"


def test_the_planning_prompt_keeps_narration_in_the_story_language() -> None:
    ja = build_instructions(StorySubmission(text="ハナは走りました。"))
    assert "in Japanese" in ja and "Narration stays in Japanese" in ja
    zh = build_instructions(StorySubmission(text="小兰跑了。"))
    assert "in Chinese" in zh and "simplified or traditional" in zh
