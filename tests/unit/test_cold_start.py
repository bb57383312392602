"""Cold start: importing a function's entry module loads no client and no media library it
does not use on every call — the others load on first use, in the function that needs them
(measured in bench/bench_cold_start.py)."""

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
#: What a function's own stage (or request handler) imports when its entry module loads.
USES = {
    "stitch_video": {"av", "PIL", "numpy"},  # every call decodes, encodes and draws
    # shared.stages.trends holds both trend handlers and imports the YouTube client (httpx):
    # analyze_trends pays for it too until the stage module loads it on first use.
    "collect_trends": {"httpx"},
    "analyze_trends": {"httpx"},
    "api": {"httpx"},  # token verification fetches signing keys over httpx
}


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda s: s.name)
def test_entry_module_imports_no_client(spec: object) -> None:
    module = spec.module  # type: ignore[attr-defined]
    heavy = [m for m in HEAVY if m not in USES.get(spec.name, set())]  # type: ignore[attr-defined]
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
