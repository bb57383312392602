"""Fan-out: an 8-shot tale whose generator takes L seconds per shot, parallel vs sequential.

    .venv/bin/python bench/bench_fanout.py [--latency 2.0] [--runs 3]

Runs side by side in one process, interleaved, medians of ``--runs``:
- ``base``: concurrency 8 with no added latency — the cost of every other stage;
- ``parallel``: concurrency 8, L seconds per shot;
- ``sequential``: concurrency 1, L seconds per shot.
The budget is parallel ≤ 1.2 × (L + base).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from schemas.story import StorySubmission
from shared import bootstrap, service
from shared.config import Settings
from shared.domain.tale import TaleState
from shared.runtime.local import LocalRuntime

STORY = Path(__file__).resolve().parent.parent / "examples" / "lighthouse-fox.en.txt"


def one_run(latency: float, concurrency: int) -> float:
    with tempfile.TemporaryDirectory(prefix="tale-bench-") as tmp:
        settings = Settings(
            home=Path(tmp),
            offline_shot_delay_s=latency,
            concurrency=concurrency,
            offline_height=160,
            offline_fps=8,
        )
        container = bootstrap.configure(settings)
        submission = StorySubmission(text=STORY.read_text(), shot_count=8, shot_seconds=4)
        started = time.perf_counter()
        with LocalRuntime(container) as runtime:
            tale = service.submit(
                submission,
                owner="bench",
                store=container.store,
                bus=container.bus,
                max_chars=settings.max_story_chars,
            )
            runtime.run(timeout=600)
        elapsed = time.perf_counter() - started
        final = container.store.find(tale.tale_id)
        assert final is not None and final.state is TaleState.COMPLETED, final
        return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=2.0, help="seconds per shot (L)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    times: dict[str, list[float]] = {"base": [], "parallel": [], "sequential": []}
    for _ in range(args.runs):
        times["base"].append(one_run(0.0, 8))
        times["parallel"].append(one_run(args.latency, 8))
        times["sequential"].append(one_run(args.latency, 1))
    med = {k: statistics.median(v) for k, v in times.items()}
    bound = 1.2 * (args.latency + med["base"])
    print(f"8 shots, L = {args.latency:.2f} s per shot, medians of {args.runs} runs")
    print(f"{'other stages (base)':<24}{med['base']:8.2f} s")
    print(f"{'parallel (8 workers)':<24}{med['parallel']:8.2f} s")
    print(f"{'sequential (1 worker)':<24}{med['sequential']:8.2f} s")
    print(f"{'critical path L + base':<24}{args.latency + med['base']:8.2f} s")
    print(
        f"parallel / (L + base) = {med['parallel'] / (args.latency + med['base']):.2f} "
        f"(budget 1.20: {'met' if med['parallel'] <= bound else 'MISSED'})"
    )
    print(f"sequential / parallel = {med['sequential'] / med['parallel']:.1f}×")


if __name__ == "__main__":
    main()
