"""Narration synthesis per default tale in the embedded default (espeak-ng):
`python bench/bench_voice.py [--runs 3]`.

Plans each example story with the offline planner (8 shots × 8 s, narration within the
reading budget), then voices every shot's narration with espeak-ng one after the other, as a
single narrate_shot worker would. Prints, per story, the median wall time of the 8 syntheses
(and per shot), the seconds of speech, the real-time factor, and how each line's speech
compares with its shot (the mixer speeds a line up by at most 1.25×); then the time
``narrate_shot`` spends preparing each voiced line for the final cut
(``shared.media.narration.prepare``: decoded, fitted, levelled to -14 LUFS, AAC-encoded).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    from schemas.story import StorySubmission
    from shared.domain.reading import reading_seconds
    from shared.media.narration import prepare
    from shared.providers.offline.planner import OfflinePlanner
    from shared.providers.offline.voices import EspeakVoices

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    voices = EspeakVoices()
    for story in ("moon-rabbit.ko.txt", "lighthouse-fox.en.txt"):
        text = (ROOT / "examples" / story).read_text(encoding="utf-8")
        plan = OfflinePlanner().plan(StorySubmission(text=text))
        lines = [(s.narration, s.duration_s) for s in plan.shots if s.narration.strip()]
        voices.synthesize("warm up", plan.language, "")
        walls: list[float] = []
        spoken: list[float] = []
        prepared: list[float] = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            said = [voices.synthesize(line, plan.language, "") for line, _ in lines]
            walls.append(time.perf_counter() - t0)
            spoken = [s.seconds for s in said]
            with tempfile.TemporaryDirectory(prefix="tale-bench-voice-") as tmp:
                for i, (speech_, (_, seconds)) in enumerate(zip(said, lines, strict=True)):
                    wav = Path(tmp) / f"{i}.wav"
                    wav.write_bytes(speech_.wav)
                    t1 = time.perf_counter()
                    prepare(wav, seconds, i, Path(tmp) / f"{i}.m4a")
                    prepared.append(time.perf_counter() - t1)
        wall = statistics.median(walls)
        speech = sum(spoken)
        ratios = [s / d for s, (_, d) in zip(spoken, lines, strict=True)]
        budget = sum(reading_seconds(line, plan.language) for line, _ in lines)
        print(
            f"{story}: {len(lines)} lines in {wall:.2f} s ({wall / len(lines) * 1000:.0f} ms a "
            f"line), {speech:.1f} s of speech (budget {budget:.1f} s), real-time factor "
            f"{wall / speech:.3f}; speech/shot {min(ratios):.2f}–{max(ratios):.2f}, "
            f"{sum(r > 1.0 for r in ratios)} over the shot, {sum(r > 1.25 for r in ratios)} "
            "over 1.25×"
        )
        print(
            f"  prepared for the final cut: {statistics.median(prepared) * 1000:.0f} ms a line "
            f"(median of {len(prepared)})"
        )


if __name__ == "__main__":
    main()
