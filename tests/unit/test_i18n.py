"""The message catalogues: every message in every language, the same fields, every problem
kind titled, and the language negotiation of HTTP requests."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from schemas.story import detect_language
from shared.i18n import LANGUAGES, catalogue, language_of, message, negotiate
from shared.notify.templates import failure_reason, stage_name

ROOT = Path(__file__).resolve().parents[2]


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_language_has_every_message_with_the_same_fields() -> None:
    english = catalogue("en")
    assert len(english) > 100
    for language in LANGUAGES:
        found = catalogue(language)
        missing = sorted(set(english) - set(found))
        assert not missing, f"{language}.po lacks {missing}"
        extra = sorted(set(found) - set(english))
        assert not extra, f"{language}.po has messages en.po lacks: {extra}"
        for key, text in english.items():
            assert found[key].strip(), f"{language}: {key} is empty"
            assert fields(found[key]) == fields(text), f"{language}: {key} fields differ"


def test_translations_are_in_their_own_script() -> None:
    """A message left in English in another catalogue is a missing translation."""
    same_everywhere = re.compile(r"^[#{}\w\s.:·/-]*$")  # "#{number}", "{field}: {message}"
    for language, script in (("ko", "[가-힣]"), ("ja", "[ぁ-んァ-ヶ一-龯]"), ("zh", "[一-龥]")):
        for key, text in catalogue(language).items():
            english = catalogue("en")[key]
            if same_everywhere.fullmatch(english):
                continue
            assert re.search(script, text), f"{language}: {key} is not translated: {text!r}"


def test_every_problem_kind_in_the_code_has_a_title_in_every_language() -> None:
    kinds: set[str] = set()
    for path in (ROOT / "shared").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        kinds |= set(re.findall(r'(?:Problem|said)\(\s*(?:[\w.]+),\s*"([a-z-]+)"', source))
        kinds |= set(re.findall(r'^\s*\d{3}: \("([a-z-]+)", "', source, re.MULTILINE))
    assert {"not-found", "invalid-request", "insufficient-credits"} <= kinds
    for language in LANGUAGES:
        lacking = sorted(k for k in kinds if f"problem.title.{k}" not in catalogue(language))
        assert not lacking, f"{language}: no title for {lacking}"


def test_a_message_in_each_language() -> None:
    assert message("ja", "email.subject.completed", title="桃") == "「桃」の動画ができあがりました"
    assert message("zh", "email.subject.completed", title="桃") == "你的故事视频《桃》已完成"
    assert message("fr", "email.links") == "Your files"  # a language Tale does not speak
    with pytest.raises(KeyError):
        message("en", "no.such.message")


@pytest.mark.parametrize(
    ("header", "default", "expected"),
    [
        ("ja-JP,ja;q=0.9,en;q=0.8", None, "ja"),
        ("fr-FR, zh-Hant-TW;q=0.5, ko;q=0.4", None, "zh"),
        ("zh_CN", None, "zh"),
        ("en;q=0.1, ko", None, "ko"),
        ("fr, de", "ja", "ja"),
        ("*", "ko", "ko"),
        ("ko;q=0", "ja", "ja"),
        ("", None, "en"),
        (None, "xx", "en"),
        ("ja;q=bad, ko", None, "ko"),
    ],
)
def test_negotiate(header: str | None, default: str | None, expected: str) -> None:
    assert negotiate(header, default) == expected


def test_language_tags() -> None:
    assert language_of("ja-JP") == "ja" and language_of("ZH-hans") == "zh"
    assert language_of("fr") is None and language_of("") is None


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("옛날 옛적에 토끼가 살았다.", "ko"),
        ("Once upon a time.", "en"),
        ("昔々、ある村にハナという女の子がいました。", "ja"),
        ("東京タワー", "ja"),
        ("从前，有一个小女孩叫小兰。", "zh"),
        ("從前，有一個小女孩叫小蘭。", "zh"),
        ("我喜欢吃拉面。", "zh"),
        ("韓國語 한국어를 배웁니다", "ko"),  # Hanja in Korean text
        ("Mina said 你好 once in a long English story about the sea.", "en"),
        ("12345 !!!", "en"),
    ],
)
def test_detect_language_by_script(text: str, language: str) -> None:
    assert detect_language(text) == language


def test_failure_reasons_in_our_words() -> None:
    reason, detail = failure_reason("gave up after 5 attempts: 503 from Veo", "ja")
    assert reason == "ある工程が失敗を繰り返し、5回試したあとで中止しました" and "503" in str(
        detail
    )
    assert failure_reason("no progress for 31 min (the rendering deadline is 30 min)", "zh") == (
        "已有 31 分钟没有进展",
        None,
    )
    assert failure_reason("the prompt was blocked by safety filters", "ko")[0] == (
        "모델이 내용을 거부했습니다"
    )
    assert failure_reason("KeyError: 'x'", "en") == (
        "an error we could not recover from",
        "KeyError: 'x'",
    )
    assert stage_name("awaiting approval", "ja") == "承認待ち"
    assert stage_name("somewhere", "zh") == "somewhere"
