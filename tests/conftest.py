from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from schemas.plan import Camera, Character, Scene, Shot, StoryPlan
from schemas.story import StorySubmission, Style
from shared.domain.tale import TaleRecord, TaleState

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def make_submission(shots: int = 3, **kw: object) -> StorySubmission:
    text = kw.pop(
        "text", "Mina walked to the sea. Mina saw a fox. The fox and Mina became friends."
    )
    return StorySubmission(text=text, shot_count=shots, shot_seconds=4, **kw)  # type: ignore[arg-type]


def make_plan(shots: int = 3) -> StoryPlan:
    return StoryPlan(
        title="Mina and the fox",
        language="en",
        style=Style.STORYBOOK,
        aspect_ratio="9:16",
        characters=[Character(name="Mina", description="a girl in a red coat")],
        scenes=[Scene(index=0, setting="a beach", summary="Mina meets a fox.")],
        shots=[
            Shot(
                index=i,
                scene_index=0,
                prompt=f"shot {i} prompt",
                camera=Camera.MEDIUM,
                duration_s=4,
                characters=["Mina"],
                narration=f"line {i}",
            )
            for i in range(shots)
        ],
    )


def plan_draft(shots: int, story: str) -> dict[str, Any]:
    """What a language model would answer for ``story``: the offline plan as a plan draft
    (the shape scenario A's and B's planners ask for)."""
    from shared.providers.offline.planner import OfflinePlanner

    plan = OfflinePlanner().plan(make_submission(shots, text=story))
    return {
        "title": plan.title,
        "characters": [{"name": c.name, "description": c.description} for c in plan.characters],
        "scenes": [{"setting": s.setting, "summary": s.summary} for s in plan.scenes],
        "shots": [
            {
                "scene_index": s.scene_index,
                "prompt": s.prompt,
                "camera": s.camera.value,
                "characters": s.characters,
                "narration": s.narration,
            }
            for s in plan.shots
        ],
    }


def make_record(
    tale_id: str = "tale-000001", state: TaleState = TaleState.SUBMITTED, shots: int = 3
) -> TaleRecord:
    now = time.time()
    return TaleRecord(
        tale_id=tale_id,
        owner="user-1",
        state=state,
        stage=state.value,
        progress=0,
        language="en",
        shot_count=shots,
        created_at=now,
        updated_at=now,
    )


@pytest.fixture
def tale_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh local home with fast retries, configured as the process's container."""
    from shared import bootstrap
    from shared.config import Settings

    home = tmp_path / "home"
    settings = Settings(
        home=home,
        retry_min_backoff_s=0.01,
        retry_max_backoff_s=0.05,
        max_delivery_attempts=3,
        offline_height=160,
        offline_fps=8,
        concurrency=4,
    )
    bootstrap.configure(settings)
    yield home
    bootstrap.configure(Settings(home=tmp_path / "unused"))
