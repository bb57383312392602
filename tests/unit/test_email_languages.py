"""The owner's email in the tale's language: subject, text, HTML and the reasons we write."""

from __future__ import annotations

import pytest

from shared.domain.tale import TaleRecord, TaleState
from shared.notify.templates import render

LINKS = {"video": "https://x/v.mp4", "poster": "https://x/p.png", "storyboard": "https://x/s.png"}


def record(language: str, state: TaleState = TaleState.COMPLETED, **kw: object) -> TaleRecord:
    return TaleRecord(
        tale_id="tale-0123456789",
        owner="u",
        state=state,
        stage="completed",
        progress=100,
        title="月の話",
        language=language,
        shot_count=8,
        **kw,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("language", "subject", "label"),
    [
        ("en", "Your tale “月の話” is ready", "Video"),
        ("ko", "“月の話” 영상이 완성되었습니다", "영상"),
        ("ja", "「月の話」の動画ができあがりました", "動画"),
        ("zh", "你的故事视频《月の話》已完成", "视频"),
    ],
)
def test_a_completed_tale_in_each_language(language: str, subject: str, label: str) -> None:
    got_subject, text, html = render(record(language), "completed", LINKS)
    assert got_subject == subject
    assert f"{label}: https://x/v.mp4" in text and "8" in text
    assert f'<html lang="{language}">' in html and label in html


@pytest.mark.parametrize(
    ("language", "stage", "reason"),
    [
        ("ja", "生成", "ある工程が失敗を繰り返し、5回試したあとで中止しました"),
        ("zh", "生成", "某个步骤反复失败，尝试 5 次后已放弃"),
        ("ko", "렌더링", "한 단계가 계속 실패해 5번 시도한 뒤 중단했습니다"),
    ],
)
def test_a_failed_tale_says_the_stage_and_our_reason(
    language: str, stage: str, reason: str
) -> None:
    tale = record(
        language,
        TaleState.FAILED,
        error_stage="rendering",
        error_reason="gave up after 5 attempts: 503 Service Unavailable",
    )
    subject, text, html = render(tale, "failed", {})
    assert "月の話" in subject
    assert stage in text and reason in text
    assert "503 Service Unavailable" in text  # the recorded detail, as a detail line
    assert reason in html


def test_a_stuck_tale_and_a_cancelled_one() -> None:
    stuck = record(
        "zh",
        TaleState.FAILED,
        error_stage="stitching",
        error_reason="no progress for 12 min (the stitching deadline is 10 min)",
    )
    _, text, _ = render(stuck, "failed", {})
    assert "剪辑" in text and "已有 12 分钟没有进展" in text and "deadline" not in text
    subject, text, _ = render(record("ja", TaleState.CANCELLED), "cancelled", {})
    assert subject == "「月の話」の動画の制作を取り消しました" and "取り消しました" in text
