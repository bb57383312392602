"""The offline planner's text rules: sentences, paragraphs, names and titles."""

from __future__ import annotations

import pytest

from shared.providers.offline.kinds import character_kind
from shared.providers.offline.names import extract_characters
from shared.providers.offline.sentences import (
    ends_with_korean_sentence_ending,
    paragraphs,
    split_sentences,
)
from shared.providers.offline.titles import body_of, title_line, title_of

# --- sentences: Korean ---------------------------------------------------------------


def test_korean_splits_on_periods() -> None:
    assert split_sentences("서연이는 웃었다. 민호도 웃었다.", "ko") == [
        "서연이는 웃었다.",
        "민호도 웃었다.",
    ]


def test_korean_splits_after_verb_ending_without_punctuation() -> None:
    assert split_sentences("그는 집에 갔다 그리고 잠이 들었다", "ko") == [
        "그는 집에 갔다",
        "그리고 잠이 들었다",
    ]


def test_korean_sea_is_not_a_verb_ending() -> None:
    assert split_sentences("바다 위로 해가 떴다", "ko") == ["바다 위로 해가 떴다"]
    assert split_sentences("바다 바다 바다", "ko") == ["바다 바다 바다"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("오늘은 학교에 가요 내일은 쉬어요", ["오늘은 학교에 가요", "내일은 쉬어요"]),
        ("토끼가 달린다 민호도 달린다", ["토끼가 달린다", "민호도 달린다"]),
        ("우리는 친구입니다 함께 놀아요", ["우리는 친구입니다", "함께 놀아요"]),
        ("정말 멋지죠 그렇지 않나요", ["정말 멋지죠", "그렇지 않나요"]),
        ("필요 없다고 했다", ["필요 없다고 했다"]),
        ("누구나 알고 있었다", ["누구나 알고 있었다"]),
        ("떠났다가 돌아왔다", ["떠났다가 돌아왔다"]),
    ],
)
def test_korean_curated_endings(text: str, expected: list[str]) -> None:
    assert split_sentences(text, "ko") == expected


def test_korean_ending_detector() -> None:
    for word in ("갔다", "떴다", "한다", "먹는다", "달린다", "갑니다", "좋아요", "예뻐요", "할까"):
        assert ends_with_korean_sentence_ending(word), word
    for word in ("바다", "판다", "필요", "떠났다가", "했다고", "서연", "다"):
        assert not ends_with_korean_sentence_ending(word), word


def test_korean_quotes_and_mixed_punctuation() -> None:
    text = (
        '민호가 물었다 "누나, 달에 토끼가 살아?" 서연이는 웃었다\n「안녕!」 그가 말했다。좋아요！'
    )
    assert split_sentences(text, "ko") == [
        "민호가 물었다",
        '"누나, 달에 토끼가 살아?"',
        "서연이는 웃었다",
        "「안녕!」",
        "그가 말했다。",
        "좋아요！",
    ]


def test_korean_quotative_keeps_the_sentence_together() -> None:
    assert split_sentences('"달려!" 하고 민호가 외쳤다.', "ko") == ['"달려!" 하고 민호가 외쳤다.']


def test_korean_period_without_space() -> None:
    assert split_sentences("그녀는 웃었다.그리고 울었다.", "ko") == [
        "그녀는 웃었다.",
        "그리고 울었다.",
    ]


# --- sentences: English ----------------------------------------------------------------


def test_english_basic_split_keeps_punctuation() -> None:
    assert split_sentences("Pip ran. Was it late? Yes! It was…", "en") == [
        "Pip ran.",
        "Was it late?",
        "Yes!",
        "It was…",
    ]


def test_english_abbreviations_do_not_split() -> None:
    text = "Mr. Kim met Dr. Lee on Baker St. near the park. They talked."
    assert split_sentences(text, "en") == [
        "Mr. Kim met Dr. Lee on Baker St. near the park.",
        "They talked.",
    ]
    assert split_sentences("J. R. Smith wrote it. I read it.", "en") == [
        "J. R. Smith wrote it.",
        "I read it.",
    ]


def test_english_quotes() -> None:
    assert split_sentences('"Run!" she said. Then she ran.', "en") == [
        '"Run!" she said.',
        "Then she ran.",
    ]
    assert split_sentences('"Run!" Mira said. "Where?" Pip asked.', "en") == [
        '"Run!" Mira said.',
        '"Where?" Pip asked.',
    ]
    assert split_sentences('He whispered, "Come here." Pip came.', "en") == [
        'He whispered, "Come here."',
        "Pip came.",
    ]


def test_english_numbers_and_ellipses() -> None:
    assert split_sentences("He paid 3.5 coins. He waited... and waited.", "en") == [
        "He paid 3.5 coins.",
        "He waited... and waited.",
    ]


def test_line_breaks_split_and_empties_drop() -> None:
    assert split_sentences("Wait\n\n  \nNo way\n", "en") == ["Wait", "No way"]
    assert split_sentences("  \n ", "en") == []


def test_paragraphs() -> None:
    text = "One.\nTwo.\n\n  \nThree.\r\n\r\nFour."
    assert paragraphs(text) == ["One.\nTwo.", "Three.", "Four."]
    assert paragraphs("\n\n") == []


# --- characters -----------------------------------------------------------------------


def test_korean_particles_are_stripped() -> None:
    text = "서연이는 창가에 앉았다. 서연이가 웃었다. 민호는 서연을 불렀다. 민호야, 가자."
    assert extract_characters(text, "ko") == ["서연", "민호"]


def test_korean_friendly_suffix_after_consonant() -> None:
    text = "민준이가 뛰었다. 민준이는 웃었다. 민준이를 모두가 좋아했다."
    assert extract_characters(text, "ko") == ["민준"]


def test_korean_common_nouns_and_verbs_are_not_names() -> None:
    text = (
        "하늘이 맑았다. 하늘이 높았다. 사람이 왔다. 사람이 갔다. 고양이가 울었다. 고양이가 잤다. "
        "그는 웃었다. 그는 잤다. 엄마가 불렀다. 엄마가 웃었다. "
        "달리는 토끼가 있었다. 달리는 말이 있었다. 노래하는 새가 있었다. 노래하는 새가 날았다."
    )
    assert extract_characters(text, "ko") == []


def test_korean_name_needs_a_subject_topic_or_vocative_use() -> None:
    assert extract_characters("서연을 보았다. 서연의 집에 갔다.", "ko") == []
    assert extract_characters("서연을 보았다. 서연아 안녕.", "ko") == ["서연"]


def test_korean_limit_and_order() -> None:
    text = (
        "가람이가 왔다. 나래가 왔다. 다솜이가 왔다. "
        "가람이는 웃었다. 나래는 웃었다. 다솜이는 웃었다."
    )
    assert extract_characters(text, "ko", limit=2) == ["가람", "나래"]


def test_english_names_and_stopwords() -> None:
    text = (
        "Once upon a time Mira lived by the sea. The sea was calm. Then Mira met Pip. "
        "She smiled. She waved at Pip. When night came, they slept. When morning came, they woke."
    )
    assert extract_characters(text, "en") == ["Mira", "Pip"]


def test_english_sentence_initial_common_words_are_not_names() -> None:
    text = "Slowly the sun rose. Slowly it set. Rain fell. It was only rain. Rain again."
    assert extract_characters(text, "en") == []


def test_english_two_word_names() -> None:
    text = "Captain Hana sailed north. The crew loved Captain Hana. Milo waved. Milo laughed."
    assert extract_characters(text, "en") == ["Captain Hana", "Milo"]
    text = "Captain Hana sailed. Hana laughed. Hana slept."
    assert extract_characters(text, "en") == ["Hana"]


def test_english_possessive_and_limit() -> None:
    text = "Ada's cat met Ben. Ben met Cy. Cy met Dee. Dee met Eve. Eve met Ada. Ada met Cy."
    assert extract_characters(text, "en") == ["Ada", "Ben", "Cy", "Dee"]
    assert extract_characters(text, "en", limit=0) == []


def test_character_kind() -> None:
    assert character_kind("하얀 토끼 달래가 왔다.", "달래", "ko") == "rabbit"
    assert character_kind("동생 민호가 왔다.", "민호", "ko") == "child"
    assert character_kind("서연이가 왔다.", "서연", "ko") is None
    assert character_kind("A small fox named Pip came.", "Pip", "en") == "fox"
    assert character_kind("Pip, the little owl, slept.", "Pip", "en") == "owl"
    assert character_kind("An old keeper named Tobin lived there.", "Tobin", "en") == "elderly"
    assert character_kind("Tobin lived there.", "Tobin", "en") is None


# --- titles ---------------------------------------------------------------------------


def test_title_line_is_the_title_and_not_body() -> None:
    text = "The Lighthouse Fox\n\nPip ran. Tobin laughed."
    assert title_line(text) == "The Lighthouse Fox"
    assert title_of(text, split_sentences(text, "en")) == "The Lighthouse Fox"
    assert body_of(text) == "Pip ran. Tobin laughed."


def test_title_line_rules() -> None:
    assert title_line("Pip ran.\nTobin laughed.") is None  # terminal punctuation
    assert title_line("A title with no body") is None
    assert title_line("x" * 61 + "\nbody") is None
    assert title_line("# 달 이야기\n본문이다.") == "달 이야기"
    # a Korean first line that ends like a sentence is story, not title
    assert title_line("그는 집에 갔다\n그리고 잠이 들었다") is None
    assert body_of("Pip ran.\nTobin laughed.") == "Pip ran.\nTobin laughed."


def test_title_from_first_sentence() -> None:
    assert title_of("Pip ran. Tobin laughed.", ["Pip ran.", "Tobin laughed."]) == "Pip ran"
    long = "Once upon a time there was a very long sentence that goes on and on and on."
    title = title_of(long, [long])
    assert len(title) <= 60
    assert title.endswith("…")
    assert long.startswith(title[:-1])
    assert title[:-1] == title[:-1].rstrip()  # cut at a word boundary
    assert title_of("x" * 100, ["x" * 100]) == "x" * 59 + "…"
