"""The web app's own checks, run from the test command (so CI runs them): its unit tests
(Vitest: the API client, the event stream, the storyboard editor) and that the API client
generated from schemas/openapi.json is current. The build itself is made (type-checked, then
Vite) by the ``web_build`` fixture of the browser tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.web.conftest import npm

pytestmark = pytest.mark.slow


def test_the_generated_api_client_is_current(node_modules: Path) -> None:
    done = npm("run", "--silent", "check:api")
    assert done.returncode == 0, done.stdout + done.stderr


def test_vitest(node_modules: Path) -> None:
    done = npm("test", "--silent", "--", "--reporter=dot")
    assert done.returncode == 0, (done.stdout + done.stderr)[-6000:]
    assert "failed" not in done.stdout.lower()


def test_the_build_has_nothing_inline_for_the_policy_to_allow(web_build: Path) -> None:
    index = (web_build / "index.html").read_text()
    assert "<script>" not in index and "<style" not in index and " style=" not in index
    assert list((web_build / "assets").glob("*.js")) and list((web_build / "assets").glob("*.css"))
