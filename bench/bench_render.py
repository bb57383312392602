"""Placeholder-clip render and stitch speed: `python bench/bench_render.py`.

Renders one 8 s clip at 360×640 and at 720×1280 (24 fps) and prints frames/s
(end to end: drawing, compositing, x264 on one thread, muxing), then stitches
eight 8 s 360×640 clips by stream copy and prints the time.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    from shared.media.clips import ClipSpec, render_clip
    from shared.media.stitch import stitch

    def spec(width: int, height: int, shot: int) -> ClipSpec:
        return ClipSpec(
            width=width,
            height=height,
            fps=24,
            seconds=8.0,
            shot_number=shot,
            shot_total=8,
            title="달빛 아래의 여우 — The Fox Under the Moon",
            camera=("slow pan left", "dolly in", "static", "tilt up")[shot % 4],
            prompt="A small red fox sits on a snowy hill under a huge full moon, cinematic "
            "lighting, soft film grain, wide establishing shot, muted blue palette",
            narration="깊은 겨울 밤, 작은 여우는 언덕 위에 앉아 커다란 달을 올려다보았습니다.",
            characters=(("여우", None), ("달", None)),
            seed=shot,
        )

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for width, height in ((360, 640), (720, 1280)):
            s = spec(width, height, 1)
            frames = round(s.seconds * s.fps)
            t0 = time.perf_counter()
            render_clip(s, root / f"one_{width}.mp4")
            dt = time.perf_counter() - t0
            print(f"render {width}x{height}: {frames} frames in {dt:.2f} s = {frames / dt:.0f} fps")

        clips = []
        t0 = time.perf_counter()
        for shot in range(1, 9):
            clips.append(root / f"shot{shot}.mp4")
            render_clip(spec(360, 640, shot), clips[-1])
        print(f"render 8 clips 360x640: {time.perf_counter() - t0:.2f} s")
        t0 = time.perf_counter()
        report = stitch(clips, root / "tale.mp4")
        dt = time.perf_counter() - t0
        print(
            f"stitch 8 clips ({report.method}): {report.frames} frames, "
            f"{report.duration:.2f} s of video in {dt:.3f} s"
        )


if __name__ == "__main__":
    main()
