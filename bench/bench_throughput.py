"""Throughput of the local runtime: tales per minute with instant generators (the
orchestration's own ceiling), at concurrency 1, 2, 4 and 8, medians of ``--runs``.

    .venv/bin/python bench/bench_throughput.py [--tales 40] [--runs 3] [--levels 1,2,4,8]

Each run starts every concurrency level in a fresh interpreter
(``bench_throughput.py --one C``), interleaved and in rotating order. The child builds a
temporary home (the embedded default: SQLite bus, store, ledger, records; filesystem blobs),
replaces the three generators with instant ones, submits ``--tales`` tales of
``examples/lighthouse-fox.en.txt`` (8 shots × 8 s, 9:16) at once with ``service.submit``, and
runs a ``LocalRuntime`` until the bus is idle (every tale terminal and its ``tale.finished``
notified and settled). Every tale must have completed.

The instant generators do no generation work: the planner returns the offline planner's plan
computed once before the clock starts, the image generator returns one tiny PNG, and the video
generator stores pre-encoded real H.264 clips (``shared.chaos.clips``: one flat colour per shot,
32 px tall at 4 fps, encoded once), so everything else — messages, SQLite state, encryption,
claims, fan-in, the real stitch (stream copy), poster and storyboard, e-mail — runs as usual.

Reported: wall time from the first submit to an idle bus (in the child; no interpreter start),
tales per minute, messages delivered and per second, CPU/wall (the process's CPU time over the
same span, every thread: how many of the cores it kept busy) and the child's peak RSS
(``os.wait4``).
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from schemas.plan import Character, StoryPlan
from schemas.story import StorySubmission
from shared.ports.blobs import BlobStore
from shared.ports.generators import (
    ImageGenerator,
    Planner,
    VideoGenerator,
    VideoPoll,
    VideoRequest,
)

ROOT = Path(__file__).resolve().parent.parent
STORY = ROOT / "examples" / "lighthouse-fox.en.txt"
_OP_PREFIX = "instant/"
SHOTS, SECONDS = 8, 8


# --- instant generators -----------------------------------------------------------------------
class InstantPlanner(Planner):
    """The offline planner's plan for each distinct submission, computed once (``warm``)."""

    def __init__(self) -> None:
        from shared.providers.offline.planner import OfflinePlanner

        self._offline = OfflinePlanner()
        self._plans: dict[str, StoryPlan] = {}

    def warm(self, submission: StorySubmission) -> None:
        self._plans[submission.model_dump_json()] = self._offline.plan(submission)

    def plan(self, submission: StorySubmission, *, tale_id: str = "") -> StoryPlan:
        key = submission.model_dump_json()
        if key not in self._plans:  # not warmed: plan now (the timings then include it)
            self.warm(submission)
        return self._plans[key]


class InstantImages(ImageGenerator):
    """One 16×16 PNG for every character."""

    def __init__(self) -> None:
        from PIL import Image

        buffer = io.BytesIO()
        Image.new("RGB", (16, 16), (200, 120, 60)).save(buffer, format="PNG")
        self._png = buffer.getvalue()

    def character_reference(
        self, character: Character, plan: StoryPlan, *, tale_id: str = ""
    ) -> bytes:
        return self._png


class InstantVideos(VideoGenerator):
    """Stores a pre-encoded real clip of the shot's length at once; ``poll`` is done at once."""

    paid = False
    provider = "instant"
    model = "pre-encoded-clip"

    def __init__(self, blobs: BlobStore) -> None:
        self.blobs = blobs

    @staticmethod
    def clip(index: int, seconds: float, aspect_ratio: str) -> bytes:
        from shared.chaos.clips import clip_bytes

        return clip_bytes(index, seconds, aspect_ratio)  # cached per (shot, shape)

    def start(self, request: VideoRequest) -> str:
        shot, plan = request.shot, request.plan
        data = self.clip(shot.index, float(shot.duration_s), plan.aspect_ratio)
        self.blobs.put_bytes(request.output_path, data, "video/mp4")
        return _OP_PREFIX + request.output_path

    def poll(self, operation_id: str) -> VideoPoll:
        path = operation_id.removeprefix(_OP_PREFIX)
        if self.blobs.exists(path):
            return VideoPoll(done=True, clip_path=path)
        return VideoPoll(done=True, error="the instant clip is missing")


# --- one level, in a fresh interpreter --------------------------------------------------------
def one(concurrency: int, tales: int) -> dict[str, Any]:
    from shared import bootstrap, service
    from shared.adapters.local.blobs import FilesystemBlobStore
    from shared.config import Settings
    from shared.domain.tale import TaleState
    from shared.media.probe import probe
    from shared.registry import FUNCTIONS
    from shared.runtime.local import LocalRuntime

    logging.disable(logging.WARNING)
    submission = StorySubmission(text=STORY.read_text(), shot_count=SHOTS, shot_seconds=SECONDS)
    with tempfile.TemporaryDirectory(prefix="tale-bench-throughput-") as tmp:
        settings = Settings(
            home=Path(tmp),
            concurrency=concurrency,
            scenario="offline",
            gcp_project=None,
            supabase_url=None,
            supabase_service_key=None,
        )
        blobs = FilesystemBlobStore(Path(tmp) / "blobs")
        planner = InstantPlanner()
        container = bootstrap.configure(
            settings,
            planner=planner,
            images=InstantImages(),
            videos=InstantVideos(blobs),
            blobs=blobs,
        )
        # Warm up outside the clock: the plan, the clips and the functions' modules.
        plan = planner.plan(submission)
        for shot in plan.shots:
            InstantVideos.clip(shot.index, float(shot.duration_s), plan.aspect_ratio)
        for spec in FUNCTIONS:
            if not spec.is_http:
                importlib.import_module(spec.module)
        store, bus = container.store, container.bus
        with LocalRuntime(container) as runtime:
            started, cpu = time.perf_counter(), time.process_time()
            ids = [
                service.submit(
                    submission,
                    owner="bench",
                    store=store,
                    bus=bus,
                    max_chars=settings.max_story_chars,
                ).tale_id
                for _ in range(tales)
            ]
            stats = runtime.run(timeout=1800)
            wall = time.perf_counter() - started
            cpu = time.process_time() - cpu  # every thread of the process
        states = [store.find(t) for t in ids]
        completed = sum(1 for t in states if t is not None and t.state is TaleState.COMPLETED)
        first = states[0]
        final = None
        if first is not None and "video" in first.outputs:
            final = probe(container.blobs.download(first.outputs["video"], Path(tmp) / "f.mp4"))
        return {
            "wall_s": wall,
            "cpu_s": cpu,
            "tales": tales,
            "completed": completed,
            "delivered": stats.delivered,
            "retried": stats.retried,
            "dead_lettered": stats.dead_lettered,
            "video_s": final.duration if final else 0.0,
            "video_frames": final.frames if final else 0,
        }


def measure(concurrency: int, tales: int) -> dict[str, Any]:
    """One level in a fresh interpreter: its JSON line plus the child's peak RSS (MiB)."""
    cmd = [sys.executable, __file__, "--one", str(concurrency), "--tales", str(tales)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"concurrency {concurrency} failed with exit code {proc.returncode}")
    result: dict[str, Any] = json.loads(output.decode().strip().splitlines()[-1])
    result["max_rss_mib"] = usage.ru_maxrss / 1024  # KiB → MiB
    return result


# --- the report -------------------------------------------------------------------------------
def _med(rows: list[dict[str, Any]], key: str) -> float:
    return statistics.median(float(r[key]) for r in rows)


def report(args: argparse.Namespace, results: dict[int, list[dict[str, Any]]]) -> bool:
    print(
        f"{args.tales} tales ({SHOTS} shots × {SECONDS} s each) submitted at once, instant "
        f"generators, on {os.cpu_count()} cores; medians of {args.runs} runs, each level in a "
        "fresh interpreter"
    )
    head = (
        f"{'concurrency':>11}{'wall':>10}{'tales/min':>11}{'messages':>10}"
        f"{'msgs/s':>9}{'CPU/wall':>10}{'peak RSS':>11}{'completed':>11}"
    )
    print(head)
    print("-" * len(head))
    ok = True
    for level, rows in results.items():
        done = min(int(r["completed"]) for r in rows)
        ok = ok and all(
            r["completed"] == r["tales"]
            and r["dead_lettered"] == 0
            and abs(float(r["video_s"]) - SHOTS * SECONDS) < 0.5
            for r in rows
        )
        wall = _med(rows, "wall_s")
        print(
            f"{level:>11}{wall:>8.1f} s{_med(rows, 'tales') * 60 / wall:>11.1f}"
            f"{_med(rows, 'delivered'):>10.0f}{_med(rows, 'delivered') / wall:>9.0f}"
            f"{statistics.median(r['cpu_s'] / r['wall_s'] for r in rows):>10.2f}"
            f"{_med(rows, 'max_rss_mib'):>7.0f} MiB{done:>6}/{args.tales}"
        )
    base = _med(results[min(results)], "wall_s")
    print(
        "speed-up over concurrency "
        + str(min(results))
        + ": "
        + ", ".join(f"{c}: {base / _med(rows, 'wall_s'):.2f}×" for c, rows in results.items())
    )
    for level, rows in results.items():
        print(
            f"  concurrency {level} runs: "
            + ", ".join(f"{r['wall_s']:.1f}" for r in rows)
            + " s; retried "
            + ", ".join(str(r["retried"]) for r in rows)
            + f"; first tale's video {rows[0]['video_frames']} frames, {rows[0]['video_s']:.1f} s"
        )
    print(
        f"all tales completed, none dead-lettered, videos {SHOTS * SECONDS} s"
        if ok
        else "NOT every tale completed (or a video is short): see the table"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tales", type=int, default=40)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--levels", default="1,2,4,8", help="concurrency levels, comma-separated")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.tales)))
        return 0
    levels = [int(v) for v in args.levels.split(",")]
    results: dict[int, list[dict[str, Any]]] = {c: [] for c in levels}
    for run in range(args.runs):
        shift = run % len(levels)
        for level in levels[shift:] + levels[:shift]:
            results[level].append(measure(level, args.tales))
    return 0 if report(args, results) else 1


if __name__ == "__main__":
    sys.exit(main())
