"""Cold start: importing a function's entry module loads no client and no media library —
those load on first use, in the function that needs them (measured in bench/bench_cold_start.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from shared.registry import FUNCTIONS

HEAVY = (
    "av",
    "PIL",
    "numpy",
    "google.cloud.firestore",
    "google.cloud.storage",
    "google.cloud.pubsub_v1",
    "google.cloud.kms",
    "supabase",
    "httpx",
)


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda s: s.name)
def test_entry_module_imports_no_client(spec: object) -> None:
    module = spec.module  # type: ignore[attr-defined]
    # The API verifies tokens with keys fetched over httpx: that client is its own.
    heavy = [m for m in HEAVY if not (m == "httpx" and spec.name == "api")]  # type: ignore[attr-defined]
    code = (
        f"import sys, json; import {module}; "
        f"print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))"
    )
    loaded = json.loads(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
    )
    assert loaded == [], f"{module} loads {loaded} at import time"
