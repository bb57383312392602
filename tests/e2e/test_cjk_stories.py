"""A Japanese and a Chinese story become videos through the real CLI and the local runtime:
the language detected, a short title, recurring characters with reference images, narration
in sentences, the email in the story's language, and every character drawn from a font that
has its glyph."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from PIL import Image

from shared.media import fonts
from tests.conftest import EXAMPLES
from tests.e2e.helpers import decode, read_email, tale

pytestmark = pytest.mark.e2e

CASES = {
    "ja": (
        "paper-crane.ja.txt",
        "ハナと紙のツル",
        {"ハナ", "ソラ"},
        "言語: 日本語（本文から判定）",
        "「ハナと紙のツル」の動画ができあがりました",
        "ショットの動画を今すぐご覧いただけます",
    ),
    "zh": (
        "lantern-fox.zh.txt",
        "小兰和灯笼狐狸",
        {"小兰", "阿福"},
        "语言：中文（根据正文识别）",
        "你的故事视频《小兰和灯笼狐狸》已完成",
        "个镜头，现在就可以观看",
    ),
}


def outputs(stdout: str) -> dict[str, Path]:
    found = {}
    for line in stdout.splitlines():
        parts = line.split(maxsplit=1)
        if len(parts) == 2 and parts[0] in {"video", "poster", "storyboard", "email"}:
            found[parts[0]] = Path(parts[1].strip())
    return found


@pytest.mark.parametrize("language", ["ja", "zh"])
def test_a_japanese_and_a_chinese_story_become_videos(tmp_path: Path, language: str) -> None:
    story, title, names, language_line, subject, body_words = CASES[language]
    home = tmp_path / "home"
    run = tale(home, "run", str(EXAMPLES / story), "--shots", "4", "--seconds", "6", "--quiet")
    assert run.returncode == 0, run.stderr + run.stdout
    assert language_line in run.stdout
    files = outputs(run.stdout)
    width, height, frames, duration, _ = decode(files["video"])
    assert (width, height) == (90, 160) and frames == 4 * 6 * 8 and abs(duration - 24) <= 0.5

    (tale_id, stored_language, stored_title) = (
        sqlite3.connect(home / "state.db")
        .execute("SELECT tale_id, language, title FROM tales")
        .fetchone()
    )
    assert (stored_language, stored_title) == (language, title) and len(title) <= 20
    board = json.loads(tale(home, "storyboard", tale_id, "--json", check=True).stdout)
    assert board["language"] == language and board["title"] == title
    found = {c["name"] for c in board["characters"]}
    assert found == names
    assert all(c["image_url"] for c in board["characters"])  # a reference image each
    references = sorted((home / "blobs" / "tales" / tale_id / "characters").glob("*.png"))
    assert len(references) == len(names)
    for shot in board["shots"]:
        narration = shot["narration"]
        assert narration and narration[-1] in "。！？」”…", narration  # whole sentences, or cut
        assert " " not in narration
    assert any(shot["characters"] for shot in board["shots"])

    email = read_email(files["email"])
    assert email["Content-Language"] == language
    assert str(email["Subject"]) == subject
    text = email.get_body(("plain",))
    assert text is not None and body_words in text.get_content()

    # every character of the title, the narration and the names has a glyph where it is drawn
    drawn = [title, *found, *(s["narration"] for s in board["shots"])]
    fonts.clear_font_cache()
    for bold in (False, True):
        font = fonts.load_font(20, bold=bold, language=language)
        assert fonts.missing_glyphs(drawn, font) == ""
    with Image.open(files["storyboard"]) as sheet, Image.open(files["poster"]) as poster:
        assert sheet.format == poster.format == "PNG"


def test_the_language_can_be_given(tmp_path: Path) -> None:
    """A story in kanji only reads as Chinese; --language ja overrides the detection."""
    story = tmp_path / "story.txt"
    story.write_text("桃太郎\n\n桃太郎鬼退治。犬猿雉仲間。", encoding="utf-8")
    run = tale(
        tmp_path / "home", "run", str(story), "--shots", "1", "--seconds", "4", "--language", "ja"
    )
    assert run.returncode == 0, run.stderr + run.stdout
    assert "言語: 日本語（指定どおり）" in run.stdout
