"""The whole ``tale run`` of an example story at the defaults (8 shots × 8 s, 9:16, 360×640,
24 fps): wall time and peak memory of the process, medians of ``--runs``.

    .venv/bin/python bench/bench_run.py [--story examples/moon-rabbit.ko.txt] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def one_run(story: Path) -> tuple[float, float]:
    with tempfile.TemporaryDirectory(prefix="tale-bench-") as tmp:
        env = {**os.environ, "TALE_HOME": tmp}
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "shared.cli.main", "run", str(story), "--quiet"],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
        if status != 0:
            raise SystemExit(f"tale run failed with status {status}")
        return elapsed, usage.ru_maxrss / 1024  # KiB → MiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--story", type=Path, default=ROOT / "examples" / "moon-rabbit.ko.txt")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results = [one_run(args.story) for _ in range(args.runs)]
    walls = [w for w, _ in results]
    peaks = [m for _, m in results]
    print(f"tale run {args.story.name} (8 shots × 8 s, 360×640, 24 fps) on {os.cpu_count()} cores")
    print(
        f"wall time   median {statistics.median(walls):6.2f} s  (runs: "
        + ", ".join(f"{w:.2f}" for w in walls)
        + ")"
    )
    print(f"peak memory median {statistics.median(peaks):6.1f} MiB (max RSS of the process)")


if __name__ == "__main__":
    main()
