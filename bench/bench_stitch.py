"""Stitching N H.264 clips into one MP4: our stitcher (stream copy) versus moviepy's
``concatenate_videoclips`` + ``write_videofile`` (what popular open-source story-video
generators do), wall time and peak memory, medians of ``--runs``; and the same with the
soundtrack: ours (``final_cut``: the clips stream-copied, each shot's espeak-ng narration
placed at its start at -14 LUFS, AAC, a mov_text caption track) against moviepy doing the same
job (the clips concatenated, the narrations composited at the same times with
``CompositeAudioClip``, the file written with libx264 and AAC).

Ours runs the stitch stage as it runs in production: ``narrate_shot`` has already prepared each
shot's narration (``shared.media.narration.prepare``: fitted, levelled, AAC-encoded with
silence around it), so ``ours+sound`` splices packets; that preparation is timed once, per
shot, and reported on its own line (it runs in the shots' stages, beside one another, not at
the end). ``ours+mix`` is the final cut from the voices alone (what a tale with music or clip
sound gets: decoded, fitted, mixed, measured, normalised, encoded there).

    .venv/bin/python bench/bench_stitch.py [--runs 3] [--clips 8] [--seconds 8] [--size 720x1280]
        [--no-soundtrack]

moviepy is not a dependency of Tale; install it for this benchmark only, without its
dependencies (moviepy 2.2 pins Pillow below 12, and pip would downgrade the project's; it runs
this job with the newer one):
``.venv/bin/pip install --no-deps 'moviepy>=2' decorator imageio imageio-ffmpeg proglog
python-dotenv tqdm``. The contenders with sound need espeak-ng (``install.sh`` installs it).

The input clips (a moving gradient, 24 fps, portrait 720×1280 by default) are written once
into a temporary folder by the project's own encoder (``shared.media.encode.write_h264``, as
every offline clip is), so they share codec parameters and ours takes its stream-copy path.
Each run starts every contender in a fresh interpreter
(``bench_stitch.py --one ours|moviepy --clip-dir DIR --out FILE``), interleaved and in
alternating order, and measures:
- ``stitch``: the stitch call itself, timed inside the child (no interpreter start or imports);
- ``process``: the child's whole wall time, interpreter start and imports included;
- ``max RSS``: the child's peak resident memory (``os.wait4``: the largest single process of
  its tree, ffmpeg helpers included once reaped);
- ``tree RSS``: the peak of the summed resident memory of the child and all its descendants
  (moviepy runs one ffmpeg reader per clip and one writer beside Python), sampled every 20 ms.
Both outputs are then decoded with PyAV (every frame counted) to check they hold the whole video;
with the soundtrack, their audio is decoded too (its length against the video's, and the
loudness by FFmpeg's ebur128). The narrations (one English sentence a shot, 2-4 s) are spoken
once by espeak-ng before the runs; neither contender's time includes them.
moviepy re-encodes with its defaults (libx264, preset medium, ffmpeg's own threads); a smooth
gradient is cheap to encode, so its time here is a lower bound for real footage.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

CONTENDERS = ("ours", "moviepy")
SOUND_CONTENDERS = ("ours+sound", "ours+mix", "moviepy+sound")
LEAD_S = 0.15  # where a shot's narration starts (shared.media.soundtrack.LEAD_S)
LINES = (
    "On a windy cape stood a white lighthouse.",
    "An old keeper named Tobin lived there.",
    "Every evening he climbed the hundred steps.",
    "He lit the great lamp for the ships at sea.",
    "One night a small red fox crept in from the rain.",
    "Tobin wrapped her in a warm wool scarf.",
    "The fox curled up by the stove and slept.",
    "In the morning the sea was calm and silver.",
)
INSTALL = (
    ".venv/bin/pip install --no-deps 'moviepy>=2' decorator imageio imageio-ffmpeg proglog "
    "python-dotenv tqdm"
)
PAGE = os.sysconf("SC_PAGE_SIZE")


# --- inputs ----------------------------------------------------------------------------------
def _gradient_frames(index: int, frames: int, width: int, height: int) -> Iterator[np.ndarray]:
    """A diagonal colour gradient scrolling down 4 px a frame (clip ``index`` has its own hue):
    cheap to draw (each frame is a slice of one precomputed image) and not a flat colour."""
    step = 4
    tall = height + step * frames
    y = np.arange(tall, dtype=np.float32)[:, None]
    x = np.arange(width, dtype=np.float32)[None, :]
    base = np.empty((tall, width, 3), np.uint8)
    base[..., 0] = (128 + 110 * np.sin(y / 97 + index)).astype(np.uint8)
    base[..., 1] = (128 + 110 * np.sin((x + y) / 151 + 2 * index)).astype(np.uint8)
    base[..., 2] = (128 + 110 * np.cos(x / 73 - y / 211 + 3 * index)).astype(np.uint8)
    for k in range(frames):
        top = tall - height - step * k  # the image moves down: the window moves up
        yield base[top : top + height]


def _write_clip(index: int, path: Path, seconds: float, fps: int, width: int, height: int) -> Path:
    from shared.media.encode import write_h264

    frames = round(seconds * fps)
    write_h264(
        _gradient_frames(index, frames, width, height), path, fps=fps, width=width, height=height
    )
    return path


def make_clips(
    folder: Path, count: int, seconds: float, fps: int, width: int, height: int
) -> list[Path]:
    """``count`` clips written in parallel (one x264 thread each, one process per core)."""
    paths = [folder / f"shot{i:02d}.mp4" for i in range(count)]
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        futures = [
            pool.submit(_write_clip, i, p, seconds, fps, width, height) for i, p in enumerate(paths)
        ]
        return [f.result() for f in futures]


def make_voices(folder: Path, count: int) -> list[Path]:
    """One spoken sentence per clip (espeak-ng, as the embedded default voices narration)."""
    paths = []
    for i in range(count):
        path = folder / f"shot{i:02d}.wav"
        subprocess.run(
            ["espeak-ng", "-v", "en-us", "-s", "165", "-w", str(path), "--stdin"],
            input=LINES[i % len(LINES)].encode(),
            check=True,
            capture_output=True,
        )
        paths.append(path)
    return paths


# --- contenders (each in its own interpreter) -------------------------------------------------
def stitch_ours(clips: list[Path], out: Path) -> str:
    from shared.media.stitch import stitch

    return stitch(clips, out).method


def stitch_moviepy(clips: list[Path], out: Path) -> str:
    from moviepy import (  # type: ignore[import-untyped, import-not-found, unused-ignore]
        VideoFileClip,
        concatenate_videoclips,
    )

    sources = [VideoFileClip(str(p), audio=False) for p in clips]
    try:
        final = concatenate_videoclips(sources)
        final.write_videofile(str(out), codec="libx264", audio=False, logger=None)
        final.close()
    finally:
        for clip in sources:
            clip.close()
    return "re-encode (libx264, preset medium)"


def sound_ours(clips: list[Path], voices: list[Path], out: Path, prepared: list[Path]) -> str:
    from shared.media.final_cut import ShotInput, final_cut

    shots = [
        ShotInput(clip, LINES[i % len(LINES)], voice, prepared[i] if prepared else None)
        for i, (clip, voice) in enumerate(zip(clips, voices, strict=True))
    ]
    with tempfile.TemporaryDirectory(prefix="tale-bench-cut-") as work:
        cut = final_cut(shots, out, Path(work), language="en", captions="soft")
    sound = "AAC spliced" if cut.soundtrack.samples is None else "mixed, AAC"
    return f"{cut.video.method}, {sound}, mov_text"


def prepare_voices(voices: list[Path], folder: Path, seconds: float) -> list[float]:
    """Each shot's narration prepared as ``narrate_shot`` leaves it; seconds per shot."""
    from shared.media.narration import prepare

    took = []
    for i, voice in enumerate(voices):
        started = time.perf_counter()
        prepare(voice, seconds, i, folder / f"{voice.stem}.m4a")
        took.append(time.perf_counter() - started)
    return took


def sound_moviepy(clips: list[Path], voices: list[Path], out: Path) -> str:
    from moviepy import (  # type: ignore[import-untyped, import-not-found, unused-ignore]
        AudioFileClip,
        CompositeAudioClip,
        VideoFileClip,
        concatenate_videoclips,
    )

    sources = [VideoFileClip(str(p), audio=False) for p in clips]
    starts = [sum(c.duration for c in sources[:i]) + LEAD_S for i in range(len(sources))]
    spoken = [AudioFileClip(str(v)).with_start(t) for v, t in zip(voices, starts, strict=True)]
    try:
        final = concatenate_videoclips(sources)
        final = final.with_audio(CompositeAudioClip(spoken).with_duration(final.duration))
        final.write_videofile(str(out), codec="libx264", audio_codec="aac", logger=None)
        final.close()
    finally:
        for clip in [*sources, *spoken]:
            clip.close()
    return "re-encode (libx264 medium), AAC"


def _import(contender: str) -> None:
    if contender.startswith("ours"):
        import shared.media.final_cut
        import shared.media.stitch  # noqa: F401
    else:
        import moviepy  # type: ignore[import-untyped, import-not-found, unused-ignore]  # noqa: F401


def one(contender: str, clip_dir: Path, out: Path) -> None:
    """The child: stitch every ``*.mp4`` of ``clip_dir`` in name order (with the narrations
    in ``clip_dir/../voices`` and ``../prepared`` for the contenders with sound); print JSON."""
    clips = sorted(clip_dir.glob("*.mp4"))
    voices = sorted((clip_dir.parent / "voices").glob("*.wav"))
    prepared = sorted((clip_dir.parent / "prepared").glob("*.m4a"))
    _import(contender)  # imports are not part of the stitch time (the process time has them)
    started = time.perf_counter()
    if contender == "ours+sound":
        method = sound_ours(clips, voices, out, prepared)
    elif contender == "ours+mix":
        method = sound_ours(clips, voices, out, [])
    elif contender == "moviepy+sound":
        method = sound_moviepy(clips, voices, out)
    else:
        method = (stitch_ours if contender == "ours" else stitch_moviepy)(clips, out)
    print(json.dumps({"stitch_s": time.perf_counter() - started, "method": method}))


# --- measuring ------------------------------------------------------------------------------
def _tree_rss(root: int) -> int:
    """Summed resident bytes of ``root`` and all its live descendants (from /proc)."""
    parents: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rpartition(")")[2].split()[1])
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        children = [c for c, p in parents.items() if p == pid and c not in tree]
        tree.update(children)
        frontier.extend(children)
    total = 0
    for pid in tree:
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * PAGE
        except OSError:
            continue
    return total


def measure(contender: str, clip_dir: Path, out: Path) -> dict[str, Any]:
    """Run one contender in a fresh interpreter: its JSON line plus process wall time, max RSS
    and peak tree RSS (MiB)."""
    out.unlink(missing_ok=True)
    cmd = [
        sys.executable,
        __file__,
        "--one",
        contender,
        "--clip-dir",
        str(clip_dir),
        "--out",
        str(out),
    ]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            done.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{contender} failed with exit code {proc.returncode}")
    result: dict[str, Any] = json.loads(output.decode().strip().splitlines()[-1])
    result.update(
        process_s=elapsed,
        max_rss_mib=usage.ru_maxrss / 1024,  # KiB → MiB
        tree_rss_mib=peak / 2**20,
        size_mib=out.stat().st_size / 2**20,
    )
    return result


def decode_audio(path: Path) -> tuple[float, float]:
    """(seconds of decoded audio, integrated loudness in LUFS by FFmpeg's ebur128)."""
    from shared.media.audio import RATE, decode_audio, measure

    samples = decode_audio(path)
    if samples is None:
        return 0.0, -70.0
    return samples.shape[1] / RATE, measure(samples).integrated


def decode(path: Path) -> tuple[int, float, int, int]:
    """(frames decoded, seconds of video from the frames' timestamps, width, height)."""
    import av

    with av.open(str(path)) as box:
        stream = box.streams.video[0]
        stream.thread_type = "AUTO"
        frames, first, last = 0, None, 0.0
        width = height = 0
        for frame in box.decode(stream):
            frames += 1
            t = float(frame.time or 0.0)
            first = t if first is None else min(first, t)
            if t >= last:
                last = t
            width, height = frame.width, frame.height
        rate = stream.average_rate
        step = 1 / float(rate) if rate else 0.0
        return frames, last - (first or 0.0) + step, width, height


# --- the report ------------------------------------------------------------------------------
def _med(rows: list[dict[str, Any]], key: str) -> float:
    return statistics.median(float(r[key]) for r in rows)


def report(
    args: argparse.Namespace, results: dict[str, list[dict[str, Any]]], gen_s: float
) -> None:
    width, height = args.width, args.height
    total = args.clips * args.seconds
    print(
        f"stitch {args.clips} clips × {args.seconds:g} s, {width}×{height}, {args.fps} fps H.264 "
        f"({total:g} s of video) on {os.cpu_count()} cores; medians of {args.runs} runs, "
        "each contender in a fresh interpreter"
    )
    print(f"(inputs written once by shared.media.encode.write_h264 in {gen_s:.1f} s)")
    head = (
        f"{'contender':<15}{'method':<36}{'stitch':>10}{'process':>10}"
        f"{'max RSS':>11}{'tree RSS':>11}{'output':>10}"
    )
    print(head)
    print("-" * len(head))
    for name, rows in results.items():
        print(
            f"{name:<15}{rows[0]['method']:<36}"
            f"{_med(rows, 'stitch_s'):>8.2f} s{_med(rows, 'process_s'):>8.2f} s"
            f"{_med(rows, 'max_rss_mib'):>7.0f} MiB{_med(rows, 'tree_rss_mib'):>7.0f} MiB"
            f"{_med(rows, 'size_mib'):>6.1f} MiB"
        )
    for name, rows in results.items():
        print(
            f"  {name} runs: stitch "
            + ", ".join(f"{r['stitch_s']:.2f}" for r in rows)
            + " s; max RSS "
            + ", ".join(f"{r['max_rss_mib']:.0f}" for r in rows)
            + " MiB"
        )
    pairs = (("ours", "moviepy"), ("ours+sound", "moviepy+sound"), ("ours+mix", "moviepy+sound"))
    for mine, other in pairs:
        if mine not in results:
            continue
        ours, theirs = results[mine], results[other]
        print(
            f"{other} / {mine}: stitch {_med(theirs, 'stitch_s') / _med(ours, 'stitch_s'):.0f}×, "
            f"process {_med(theirs, 'process_s') / _med(ours, 'process_s'):.1f}×, "
            f"max RSS {_med(theirs, 'max_rss_mib') / _med(ours, 'max_rss_mib'):.1f}×, "
            f"tree RSS {_med(theirs, 'tree_rss_mib') / _med(ours, 'tree_rss_mib'):.1f}×"
        )


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--clips", type=int, default=8, help="how many clips")
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each clip")
    parser.add_argument("--size", default="720x1280", help="WIDTHxHEIGHT (even numbers)")
    parser.add_argument("--fps", type=int, default=24)
    parser.add_argument(
        "--no-soundtrack",
        dest="soundtrack",
        action="store_false",
        help="only the video (no narration, no audio)",
    )
    parser.add_argument("--one", choices=CONTENDERS + SOUND_CONTENDERS, help=argparse.SUPPRESS)
    parser.add_argument("--clip-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.width, args.height = (int(v) for v in args.size.lower().split("x"))
    return args


def main() -> int:
    args = parse()
    if args.one:
        one(args.one, args.clip_dir, args.out)
        return 0
    try:
        import moviepy  # type: ignore[import-untyped, import-not-found, unused-ignore]  # noqa: F401
    except ImportError:
        print(f"moviepy is not installed; for this benchmark only: {INSTALL}", file=sys.stderr)
        return 2
    contenders = CONTENDERS + (SOUND_CONTENDERS if args.soundtrack else ())
    with tempfile.TemporaryDirectory(prefix="tale-bench-stitch-") as tmp:
        clip_dir, out_dir = Path(tmp) / "clips", Path(tmp) / "out"
        clip_dir.mkdir()
        out_dir.mkdir()
        started = time.perf_counter()
        make_clips(clip_dir, args.clips, args.seconds, args.fps, args.width, args.height)
        prep: list[float] = []
        if args.soundtrack:
            (Path(tmp) / "voices").mkdir()
            (Path(tmp) / "prepared").mkdir()
            voices = make_voices(Path(tmp) / "voices", args.clips)
            prep = prepare_voices(voices, Path(tmp) / "prepared", args.seconds)
        gen_s = time.perf_counter() - started
        results: dict[str, list[dict[str, Any]]] = {c: [] for c in contenders}
        for run in range(args.runs):
            order = contenders if run % 2 == 0 else contenders[::-1]
            for contender in order:
                results[contender].append(
                    measure(contender, clip_dir, out_dir / f"{contender}.mp4")
                )
        report(args, results, gen_s)
        if prep:
            print(
                f"narrations prepared by narrate_shot (once, before the runs): "
                f"{statistics.median(prep):.3f} s a shot (median), {sum(prep):.2f} s for all "
                f"{len(prep)} one after another"
            )
        ok = check(args, contenders, out_dir)
    return 0 if ok else 1


def check(args: argparse.Namespace, contenders: tuple[str, ...], out_dir: Path) -> bool:
    """Decode every output: all frames there, and the audio as long as the video (50 ms)."""
    expected = round(args.seconds * args.fps) * args.clips
    print(f"decoded with PyAV (expected {expected} frames, {args.clips * args.seconds:g} s):")
    ok = True
    for contender in contenders:
        frames, seconds, width, height = decode(out_dir / f"{contender}.mp4")
        good = frames == expected and (width, height) == (args.width, args.height)
        sound = ""
        if contender in SOUND_CONTENDERS:
            audio_s, lufs = decode_audio(out_dir / f"{contender}.mp4")
            good = good and abs(audio_s - seconds) <= 0.05
            sound = f", audio {audio_s:.3f} s at {lufs:.1f} LUFS"
        ok = ok and good
        print(
            f"  {contender:<14} {frames} frames, {seconds:.2f} s, {width}×{height}{sound}"
            f"  {'ok' if good else 'MISMATCH'}"
        )
    return ok


if __name__ == "__main__":
    sys.exit(main())
