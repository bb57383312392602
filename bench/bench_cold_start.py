"""Cold start: the import time of every function's entry module, next to a bare
functions-framework hello function and the GCP clients each function needs at first use.

    .venv/bin/python bench/bench_cold_start.py [--runs 5]

Each figure is the median over fresh interpreters of (wall time of ``python -c "import X"``)
minus (wall time of ``python -c pass``), measured interleaved in one run.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shared.registry import FUNCTIONS

CLIENT_MODULES = {
    "store": "google.cloud.firestore",
    "bus": "google.cloud.pubsub_v1",
    "blobs": "google.cloud.storage",
    "keys": "google.cloud.kms",
    "ledger": "supabase",
}
HELLO = """import functions_framework


@functions_framework.http
def hello(request):
    return "hello"
"""


def timed(code: str, cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=cwd, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "hello_fn.py").write_text(HELLO)
        cases: dict[str, tuple[str, Path]] = {
            "(python -c pass)": ("pass", root),
            "bare functions-framework hello": ("import hello_fn", Path(tmp)),
        }
        for name, module in CLIENT_MODULES.items():
            cases[f"client: {module} ({name})"] = (f"import {module}", root)
        for spec in FUNCTIONS:
            cases[f"entry: {spec.module}"] = (f"import {spec.module}", root)
            clients = [CLIENT_MODULES[n] for n in spec.needs if n in CLIENT_MODULES]
            cases[f"entry + its clients: {spec.name}"] = (
                "; ".join(f"import {m}" for m in [spec.module, *clients]),
                root,
            )
        samples: dict[str, list[float]] = {k: [] for k in cases}
        for _ in range(args.runs):
            for label, (code, cwd) in cases.items():
                samples[label].append(timed(code, cwd))
    base = statistics.median(samples["(python -c pass)"])
    print(
        f"median of {args.runs} fresh interpreters, interpreter start ({base * 1000:.0f} ms) "
        "subtracted"
    )
    for label, values in samples.items():
        if label != "(python -c pass)":
            print(f"{label:<58}{(statistics.median(values) - base) * 1000:8.0f} ms")


if __name__ == "__main__":
    main()
