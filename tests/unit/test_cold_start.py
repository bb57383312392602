"""Cold start, on the path that is deployed.

Every Cloud Function is deployed from ``main.py`` (``--source=main.py --target=<name>``):
functions-framework runs ``main.py`` and takes the target from it. That must load exactly what
importing the function's own entry module loads (``main`` aside) — not the other entry points.
And the entry module loads no client and no media library it does not use on every call: the
others load on first use, in the function that needs them. Measured in
``bench/bench_cold_start.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from shared.registry import FUNCTIONS, FunctionSpec

ROOT = Path(__file__).resolve().parents[2]
HEAVY = (
    "av",
    "PIL",
    "numpy",
    "google.cloud.firestore",
    "google.cloud.storage",
    "google.cloud.pubsub_v1",
    "google.cloud.kms",
    "google.genai",
    "supabase",
    "httpx",
)
#: What a function's own stage (or request handler) imports when its entry module loads.
USES = {
    "stitch_video": {"av", "PIL", "numpy"},  # every call decodes, encodes and draws
    "narrate_shot": {"av", "numpy"},  # every voiced shot is prepared: decoded, levelled, encoded
    # shared.stages.trends holds both trend handlers and imports the YouTube client (httpx):
    # analyze_trends pays for it too until the stage module loads it on first use.
    "collect_trends": {"httpx"},
    "analyze_trends": {"httpx"},
    "api": {"httpx"},  # token verification fetches signing keys over httpx
}
_PRINT = "import json, sys; print(json.dumps(sorted(sys.modules)))"


def _loaded(code: str) -> frozenset[str]:
    """The modules loaded by ``code`` in a fresh interpreter."""
    result = subprocess.run(
        [sys.executable, "-c", f"{code}\n{_PRINT}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return frozenset(json.loads(result.stdout))


@cache
def entry_modules(name: str) -> frozenset[str]:
    """``import functions.<name>`` (functions-framework is loaded anyway: it runs the code)."""
    return _loaded(f"import functions_framework\nimport functions.{name}")


def deployed_modules(name: str) -> frozenset[str]:
    """What the deployed function loads: functions-framework's app for ``main.py``."""
    return _loaded(
        "from functions_framework import create_app\n"
        f"create_app({name!r}, {str(ROOT / 'main.py')!r})"
    )


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda s: s.name)
def test_the_deployed_path_loads_only_the_target(spec: FunctionSpec) -> None:
    deployed, entry = deployed_modules(spec.name), entry_modules(spec.name)
    assert deployed - entry == {"main"}, f"main.py also loads {sorted(deployed - entry - {'main'})}"
    assert entry <= deployed


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda s: s.name)
def test_entry_module_imports_no_client(spec: FunctionSpec) -> None:
    allowed = USES.get(spec.name, set())
    loaded = sorted(m for m in HEAVY if m in entry_modules(spec.name) and m not in allowed)
    assert loaded == [], f"{spec.module} loads {loaded} at import time"


def test_main_resolves_names_lazily() -> None:
    loaded = _loaded(
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('main', {str(ROOT / 'main.py')!r})\n"
        "main = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(main)\n"
        "assert sorted(dir(main)) == sorted(set(dir(main)))\n"
        "assert set(main.__all__) <= set(dir(main))\n"
        "assert not any(m.startswith('functions.') for m in sys.modules), 'eager import'\n"
        "try:\n"
        "    main.nonexistent\n"
        "except AttributeError:\n"
        "    pass\n"
        "else:\n"
        "    raise AssertionError('main.nonexistent resolved')\n"
        "assert main.api is main.api\n"
    )
    assert "functions.api" in loaded
    assert not any(m.startswith("functions.") and m != "functions.api" for m in loaded)
