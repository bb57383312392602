from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from functions_framework import create_app

from shared import bootstrap
from shared.config import Settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def api_settings(tmp_path: Path) -> Settings:
    return Settings(
        home=tmp_path / "home",
        retry_min_backoff_s=0.01,
        retry_max_backoff_s=0.05,
        max_delivery_attempts=3,
        offline_height=160,
        offline_fps=8,
        concurrency=4,
    )


@pytest.fixture
def client(api_settings: Settings, tmp_path: Path) -> Iterator[Any]:
    bootstrap.configure(api_settings)
    app = create_app("api", str(ROOT / "functions" / "api.py"), "http")
    yield app.test_client()
    bootstrap.configure(Settings(home=tmp_path / "unused"))


@pytest.fixture
def token() -> Callable[..., dict[str, str]]:
    """Authorization headers for a user (a new one unless ``user`` is given)."""

    def make(user: str | None = None, email: str = "reader@example.com") -> dict[str, str]:
        signer = bootstrap.container().signer
        assert signer is not None
        return {"Authorization": f"Bearer {signer.mint(user or str(uuid.uuid4()), email)}"}

    return make
