"""The soundtrack's AAC, encoded in spans on several cores and spliced: decoded, it is as
close to the input as one encoder's output is, at the seams too."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from shared.media import aac
from shared.media.audio import RATE, decode_audio

SECONDS = 25.0


def write(packets: list[Any], path: Path) -> Path:
    with av.open(str(path), "w", format="mp4") as box:
        stream = box.add_stream("aac", rate=RATE)
        aac.configure(stream)
        for packet in packets:
            packet.stream = stream
            box.mux(packet)
    return path


def signal(seam: int) -> np.ndarray:
    """A tone with noise, and a train of clicks across ``seam`` (onsets that make the
    encoder switch to short blocks exactly where the encoders meet)."""
    rng = np.random.default_rng(7)
    t = np.arange(round(SECONDS * RATE)) / RATE
    x = 0.25 * np.sin(2 * np.pi * 440 * t) + 0.02 * rng.standard_normal(t.size)
    for at in range(seam - 3 * aac.FRAME, seam + 3 * aac.FRAME, 700):
        x[at : at + 40] += 0.6 * np.hanning(40)
    return np.stack([x, 0.8 * x]).astype(np.float32)


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))


def test_spans_cover_the_whole_on_frame_boundaries() -> None:
    total = round(61.3 * RATE)
    for parts in (1, 2, 3, 4):
        ranges = aac.spans(total, parts)
        assert len(ranges) == parts
        assert ranges[0][0] == 0 and ranges[-1][1] == total
        assert all(a[1] == b[0] for a, b in itertools.pairwise(ranges))
        assert all(start % aac.FRAME == 0 for start, _ in ranges)
    # short soundtracks are not split below MIN_SPAN_S a span
    assert len(aac.spans(round(12 * RATE), 4)) == 1
    assert len(aac.spans(round(17 * RATE), 4)) == 2
    assert aac.spans(0, 2) == [(0, 0)] or aac.spans(0, 2) == []


@pytest.mark.parametrize("parts", [2, 3])
def test_spliced_encoders_decode_like_one(parts: int, tmp_path: Path) -> None:
    total = round(SECONDS * RATE)
    seams = [start for start, _ in aac.spans(total, parts)[1:]]
    assert len(seams) == parts - 1
    x = signal(seams[0])
    one = decode_audio(write(aac.encode(x, parts=1), tmp_path / "one.m4a"), 2)
    split_packets = aac.encode(x, parts=parts)
    split = decode_audio(write(split_packets, tmp_path / "split.m4a"), 2)
    assert one is not None and split is not None
    assert split.shape == one.shape  # priming trimmed, nothing lost or doubled
    assert 0 <= split.shape[1] - x.shape[1] < aac.FRAME  # the last frame is padded
    one, split = one[:, : x.shape[1]], split[:, : x.shape[1]]
    stamps = [int(p.pts or 0) for p in split_packets]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    assert stamps == list(range(-aac.FRAME, stamps[-1] + 1, aac.FRAME))
    codec = rms(one - x)
    assert codec < 0.02  # the codec itself is accurate here
    for seam in seams:
        near = slice(seam - 4 * aac.FRAME, seam + 4 * aac.FRAME)
        assert rms(split[:, near] - x[:, near]) < 1.25 * rms(one[:, near] - x[:, near])
    assert rms(split - x) < 1.05 * codec


def test_mono_is_written_to_both_channels(tmp_path: Path) -> None:
    t = np.arange(RATE * 3) / RATE
    mono = (0.3 * np.sin(2 * np.pi * 330 * t)).astype(np.float32)[None]
    out = decode_audio(write(aac.encode(mono), tmp_path / "mono.m4a"), 2)
    assert out is not None and out.shape[0] == 2
    out = out[:, : mono.shape[1]]
    assert rms(out[0] - out[1]) < 1e-3
    assert abs(rms(out[0]) - rms(mono)) < 0.01


def test_workers_are_the_usable_cores() -> None:
    assert 1 <= aac.workers() <= aac.MAX_WORKERS
