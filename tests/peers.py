"""What a test does when a real peer it needs (a server, an emulator, a binary, a font) is
missing: under ``CI=true`` the run fails — a peer that CI lacks is a broken CI, never a
silent skip; on a developer's machine the test is skipped with the reason."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def missing_peer(reason: str) -> NoReturn:
    if in_ci():
        pytest.fail(f"{reason} (CI=true, so this fails)")
    pytest.skip(reason)
