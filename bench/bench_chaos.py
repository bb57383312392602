"""Chaos at scale: many users' tales under every kind of fault, then the invariants.

    .venv/bin/python bench/bench_chaos.py [--tales 500] [--seed 7] [--concurrency 4]

Prints the summary (tales by outcome, faults by kind, each invariant) and the timing; exits 1
when an invariant fails. ``--scale`` multiplies every fault probability (``FaultPlan.scaled``).
"""

from __future__ import annotations

import argparse
import logging
import resource
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console

from shared.chaos.faults import FaultPlan
from shared.chaos.run import run_chaos
from shared.chaos.summary import summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tales", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--scale", type=float, default=1.0, help="fault probabilities × this")
    parser.add_argument("--restarts", type=int, default=None, help="runtime kills (default 3)")
    parser.add_argument("--deadline", type=float, default=1800.0, help="seconds")
    parser.add_argument("--home", type=Path, default=None, help="default: a temporary folder")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # every injected fault logs a retry

    plan = FaultPlan.default().scaled(args.scale)
    if args.restarts is not None:
        plan = FaultPlan(**{**plan.__dict__, "restarts": args.restarts})
    console = Console()
    with tempfile.TemporaryDirectory(prefix="tale-bench-chaos-") as tmp:
        home = args.home or Path(tmp) / "home"
        started = time.perf_counter()
        report = run_chaos(
            args.tales,
            args.seed,
            home,
            plan,
            concurrency=args.concurrency,
            deadline_s=args.deadline,
        )
        wall = time.perf_counter() - started
    console.print(summary(report))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    console.print(
        f"wall {wall:.1f} s · {args.tales / wall:.1f} tales/s · "
        f"{report.deliveries / wall:.0f} deliveries/s · peak memory {rss:.0f} MiB"
    )
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
