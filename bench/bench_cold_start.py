"""Cold start on the deployed path: every function as Cloud Functions loads it — functions-
framework's app for ``main.py`` with the function as target — next to a bare functions-
framework function and to the clients the function builds on its first call.

    .venv/bin/python bench/bench_cold_start.py [--runs 5]

Each figure is the median over fresh interpreters of (wall time of ``python -c CODE``) minus
(wall time of ``python -c pass``), the cases measured interleaved in each run; "modules" is
``len(sys.modules)`` at the end. Cases:

* bare: ``create_app`` of a one-line ``@functions_framework.cloud_event`` module — the floor;
* eager ``main.py``: a ``main.py`` that imports all thirteen entry points (as it did before
  its exports became lazy), target ``render_shot``;
* per function, deployed: ``create_app("<name>", "main.py")``;
* per function, clients: importing the client libraries its first call builds (scenario A on
  GCP, by the registry's ``needs``) in a fresh interpreter;
* per function, deployed + clients: both, one after the other — the first call's import cost.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from shared.registry import FUNCTIONS, FunctionSpec  # noqa: E402

#: The library each client of the registry's ``needs`` is built from, on GCP in scenario A.
CLIENT_MODULES = {
    "store": "google.cloud.firestore",
    "claims": "google.cloud.firestore",
    "usage": "google.cloud.firestore",
    "audit": "google.cloud.firestore",
    "trends": "google.cloud.firestore",
    "bus": "google.cloud.pubsub_v1",
    "blobs": "google.cloud.storage",
    "keys": "google.cloud.kms",
    "ledger": "supabase",
    "records": "supabase",
    "planner": "google.genai",
    "images": "google.genai",
    "videos": "google.genai",
    "voices": "google.genai",
    "explainer": "google.genai",
    "verifier": "httpx",
    "youtube": "httpx",
}
BARE = """import functions_framework


@functions_framework.cloud_event
def hello(cloud_event):
    pass
"""
EAGER_MAIN = "".join(f"from functions.{s.name} import {s.name}  # noqa: F401\n" for s in FUNCTIONS)
_COUNT = "\nimport sys; print(len(sys.modules))"


def clients(spec: FunctionSpec) -> list[str]:
    found = [CLIENT_MODULES[n] for n in spec.needs if n in CLIENT_MODULES]
    return sorted(set(found))


def deployed(target: str, source: Path) -> str:
    return f"from functions_framework import create_app\ncreate_app({target!r}, {str(source)!r})"


def timed(code: str) -> tuple[float, int]:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", code + _COUNT],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return time.perf_counter() - started, int(result.stdout.split()[-1])


def cases(tmp: Path) -> dict[str, str]:
    (tmp / "bare").mkdir()
    (tmp / "bare" / "main.py").write_text(BARE)
    (tmp / "eager").mkdir()
    eager = tmp / "eager" / "main.py"
    eager.write_text(EAGER_MAIN)  # run with the repository as working directory
    found = {
        "pass": "pass",
        "bare": deployed("hello", tmp / "bare" / "main.py"),
        "eager": deployed("render_shot", eager),
    }
    for spec in FUNCTIONS:
        imports = "".join(f"\nimport {m}" for m in clients(spec))
        found[f"{spec.name}/deployed"] = deployed(spec.name, ROOT / "main.py")
        found[f"{spec.name}/clients"] = imports.strip() or "pass"
        found[f"{spec.name}/both"] = deployed(spec.name, ROOT / "main.py") + imports
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        todo = cases(Path(tmp))
        samples: dict[str, list[float]] = {k: [] for k in todo}
        modules: dict[str, int] = {}
        for _ in range(args.runs):
            for label, code in todo.items():
                seconds, modules[label] = timed(code)
                samples[label].append(seconds)
    base = statistics.median(samples["pass"])

    def ms(label: str) -> str:
        return f"{(statistics.median(samples[label]) - base) * 1000:.0f}"

    print(
        f"median of {args.runs} fresh interpreters; interpreter start "
        f"({base * 1000:.0f} ms, {modules['pass']} modules) subtracted\n"
    )
    print(f"bare functions-framework function: {ms('bare')} ms, {modules['bare']} modules")
    print(
        f"eager main.py (all {len(FUNCTIONS)} entry points), target render_shot: {ms('eager')} ms, "
        f"{modules['eager']} modules\n"
    )
    print(
        "| function | deployed (main.py → target) | modules | its clients alone | "
        "deployed + clients | clients (first call) |"
    )
    print("|---|---:|---:|---:|---:|---|")
    for spec in FUNCTIONS:
        n = spec.name
        print(
            f"| {n} | {ms(n + '/deployed')} ms | {modules[n + '/deployed']} | "
            f"{ms(n + '/clients')} ms | {ms(n + '/both')} ms | "
            f"{', '.join(clients(spec)) or '—'} |"
        )


if __name__ == "__main__":
    main()
