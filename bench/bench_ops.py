"""Cloud operations per tale, and what they cost: how the platform's work grows with shots.

    .venv/bin/python bench/bench_ops.py [--shots 4 8 16] [--seconds 8]

Runs one tale per shot count on the embedded default (offline generators, small frames) and
sums the operations its function invocations recorded (``shared.metering``): invocations,
messages, documents read and written, objects written, vCPU- and GiB-seconds. The counts are
exact for the run (no timing noise, one run each); the price column uses the price table
(``shared.costs``). A submission has at most 16 shots, so growth beyond that (say to 32) is
read from the per-shot slope the last column gives. Firestore figures are the embedded
store's rows, one per Firestore document in the same layout.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from schemas.story import StorySubmission
from shared import bootstrap, service
from shared.config import Settings
from shared.runtime.local import LocalRuntime

UNITS = (
    "invocations",
    "pubsub_messages",
    "firestore_reads",
    "firestore_writes",
    "firestore_deletes",
    "gcs_writes",
    "gcs_reads",
    "gcs_bytes_written",
    "vcpu_seconds",
    "gib_seconds",
)
STORY = " ".join(
    f"Mina walked to the sea on day {i}. A small fox followed her and they watched the waves."
    for i in range(40)
)


def run(shots: int, seconds: int) -> tuple[dict[str, Counter[str]], Any]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(home=Path(tmp), offline_height=160, offline_fps=8, concurrency=4)
        container = bootstrap.configure(settings)
        tale_id = service.submit(
            StorySubmission(text=STORY, shot_count=shots, shot_seconds=seconds),
            owner="bench",
            store=container.store,
            bus=container.bus,
            max_chars=20_000,
        ).tale_id
        with LocalRuntime(container) as runtime:
            runtime.run(timeout=600)
        by_function: dict[str, Counter[str]] = defaultdict(Counter)
        records = container.usage.for_tale(tale_id)
        for usage in records:
            if usage.provider == "gcp":
                by_function[usage.model].update(usage.units)
        return by_function, records


def price(records: Any) -> float | None:
    try:
        from shared.costs.model import price_usage
        from shared.costs.prices import load_prices
    except ImportError:
        return None
    table = load_prices(Settings().price_table)
    return float(price_usage([u for u in records if u.provider == "gcp"], table).total_usd)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, nargs="+", default=[4, 8, 16])
    parser.add_argument("--seconds", type=int, default=8)
    args = parser.parse_args()
    totals: dict[int, Counter[str]] = {}
    prices: dict[int, float | None] = {}
    for shots in args.shots:
        by_function, records = run(shots, args.seconds)
        totals[shots] = sum(by_function.values(), Counter())
        prices[shots] = price(records)
        print(f"\n{shots} shots — per function")
        print(f"{'function':<18}" + "".join(f"{u[:16]:>17}" for u in UNITS[:6]))
        for name, units in sorted(by_function.items()):
            print(f"{name:<18}" + "".join(f"{units[u]:>17.0f}" for u in UNITS[:6]))
    print("\nper tale" + "".join(f"{s:>14} shots" for s in args.shots) + "   per extra shot")
    first, last = args.shots[0], args.shots[-1]
    for unit in UNITS:
        row = "".join(f"{totals[s][unit]:>20.2f}" for s in args.shots)
        extra = (totals[last][unit] - totals[first][unit]) / max(last - first, 1)
        print(f"{unit:<18}{row}{extra:>18.2f}")
    if all(p is not None for p in prices.values()):
        row = "".join(f"{prices[s]:>20.6f}" for s in args.shots)
        print(f"{'platform USD':<18}{row}")


if __name__ == "__main__":
    main()
