"""A tale the scenario's video model cannot render is refused at submission, before anything
is paid: the use case raises ``UnsupportedRequest`` with what is supported, the API answers
422 with the reason and the supported values, ``tale run`` exits 2."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from functions_framework import create_app
from typer.testing import CliRunner

from shared import bootstrap
from shared.cli.main import app
from shared.config import Settings
from shared.domain.errors import InvalidStory, UnsupportedRequest
from shared.usecases.submit_tale import SubmitTale, submit_tale
from tests.conftest import EXAMPLES, make_submission
from tests.fake_ledger import MemoryLedger
from tests.fakes import FakeBus, InMemoryClaims, InMemoryTaleStore

ROOT = Path(__file__).resolve().parents[2]


def scenario_a(tmp_path: Path, **kw: Any) -> Settings:
    return Settings(home=tmp_path / "home", scenario="A", vertex_project="tale-test", **kw)


def submit(settings: Settings, **submission: Any) -> tuple[InMemoryTaleStore, MemoryLedger]:
    store, ledger = InMemoryTaleStore(), MemoryLedger()
    submit_tale(
        SubmitTale(make_submission(2, **submission), str(uuid.uuid4()), "a@example.com"),
        store=store,
        bus=FakeBus(),
        claims=InMemoryClaims(),
        ledger=ledger,
        settings=settings,
    )
    return store, ledger


def test_a_square_tale_is_refused_in_scenario_a_with_what_veo_renders(tmp_path: Path) -> None:
    settings = scenario_a(tmp_path)
    with pytest.raises(UnsupportedRequest) as caught:
        submit(settings, aspect_ratio="1:1")
    assert isinstance(caught.value, InvalidStory)  # the same outcome as any bad submission
    assert "veo-3.1-generate-001" in str(caught.value) and "not 1:1" in str(caught.value)
    assert caught.value.aspect_ratios == ("16:9", "9:16")
    assert caught.value.shot_seconds == (4, 6, 8)


def test_what_veo_renders_is_admitted_and_offline_renders_anything(tmp_path: Path) -> None:
    store, _ = submit(scenario_a(tmp_path), aspect_ratio="9:16")
    assert len(store.list_tales(limit=10)) == 1
    store, _ = submit(Settings(home=tmp_path / "offline"), aspect_ratio="1:1")
    assert len(store.list_tales(limit=10)) == 1


def test_a_retired_video_model_refuses_every_submission(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedRequest, match="retired on 2026-06-30"):
        submit(scenario_a(tmp_path, veo_model="veo-2.0-generate-001"))


def test_nothing_is_created_or_reserved_for_a_refused_tale(tmp_path: Path) -> None:
    store, ledger = InMemoryTaleStore(), MemoryLedger()
    owner = str(uuid.uuid4())
    with pytest.raises(UnsupportedRequest):
        submit_tale(
            SubmitTale(make_submission(2, aspect_ratio="1:1"), owner, "a@example.com"),
            store=store,
            bus=FakeBus(),
            claims=InMemoryClaims(),
            ledger=ledger,
            settings=scenario_a(tmp_path),
        )
    assert store.list_tales(limit=10) == [] and ledger.entries(owner) == []


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Any]:
    bootstrap.configure(scenario_a(tmp_path))
    yield create_app("api", str(ROOT / "functions" / "api.py"), "http").test_client()
    bootstrap.configure(Settings(home=tmp_path / "unused"))


def test_the_api_answers_422_with_the_reason_and_what_is_supported(api: Any) -> None:
    signer = bootstrap.container().signer
    assert signer is not None
    headers = {"Authorization": f"Bearer {signer.mint(str(uuid.uuid4()), 'a@example.com')}"}
    story = {"text": "A fox ran home.", "shot_count": 2, "shot_seconds": 4, "aspect_ratio": "1:1"}

    response = api.post("/v1/tales", headers=headers, json=story)

    assert response.status_code == 422
    assert response.headers["Content-Type"] == "application/problem+json"
    body = response.json
    assert body["type"].endswith("/unsupported-request")
    assert "not 1:1" in body["detail"]
    assert body["supported_aspect_ratios"] == ["16:9", "9:16"]
    assert body["supported_shot_seconds"] == [4, 6, 8]
    assert api.get("/v1/tales", headers=headers).json["tales"] == []


@pytest.fixture
def keep_container() -> Iterator[None]:
    previous = bootstrap._container
    yield
    bootstrap._container = previous


@pytest.mark.usefixtures("keep_container")
def test_tale_run_exits_2_with_the_reason(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "--home",
            str(tmp_path / "home"),
            "run",
            str(EXAMPLES / "lighthouse-fox.en.txt"),
            "--aspect",
            "1:1",
            "--quiet",
        ],
        env={"TALE_SCENARIO": "A", "TALE_VERTEX_PROJECT": "tale-test", "COLUMNS": "200"},
    )
    assert result.exit_code == 2, result.output
    assert "16:9 and 9:16 videos only, not 1:1" in result.output
    assert not (tmp_path / "home" / "blobs").exists()  # nothing was started
