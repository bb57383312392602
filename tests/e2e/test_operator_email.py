"""An operator's ``tale run`` is emailed to ``TALE_OWNER_EMAIL``, and says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import EXAMPLES
from tests.e2e.helpers import read_email, tale

pytestmark = pytest.mark.e2e


def test_an_operator_run_goes_to_the_owner_email_setting(tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = tale(
        home,
        "run",
        str(EXAMPLES / "moon-rabbit.ko.txt"),
        "--shots",
        "1",
        "--seconds",
        "4",
        "--quiet",
        env={"TALE_OWNER_EMAIL": "ops@studio.example"},
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "The email goes to ops@studio.example (TALE_OWNER_EMAIL)" in result.stdout
    assert "to         ops@studio.example (TALE_OWNER_EMAIL" in result.stdout
    (path,) = (home / "outbox").glob("*-completed.eml")
    email = read_email(path)
    assert email["To"] == "ops@studio.example"
    assert email["Content-Language"] == "ko" and "완성" in str(email["Subject"])
    tale_id = path.name.removesuffix("-completed.eml")
    events = tale(home, "events", tale_id)
    assert "TALE_OWNER_EMAIL (ops@studio.example), an operator's run" in " ".join(
        events.stdout.split()
    )
