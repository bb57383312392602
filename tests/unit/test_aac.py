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
    seams = [task.keep_from for task in aac.plan(np.ones((2, total), np.float32), parts)[1:]]
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


def narration_like() -> np.ndarray:
    """Bursts of voiced sound (a tone with harmonics and noise, sharp onsets) between
    stretches of exact silence, as narration-only soundtracks are."""
    rng = np.random.default_rng(3)
    x = np.zeros(round(SECONDS * RATE), np.float32)
    for start in (0.0, 3.0, 9.5, 17.2, 23.0):
        a, b = round(start * RATE), round(min(SECONDS, start + 1.8) * RATE)
        t = np.arange(b - a) / RATE
        burst = 0.2 * np.sin(2 * np.pi * 180 * t) + 0.1 * np.sin(2 * np.pi * 540 * t)
        x[a:b] = burst + 0.03 * rng.standard_normal(b - a)
    return np.stack([x, x])


def test_silence_is_not_encoded_but_decodes_as_silence(tmp_path: Path) -> None:
    x = narration_like()
    total = x.shape[1]
    tasks = aac.plan(x, 2)
    encoded = sum(task.end - task.begin for task in tasks)
    assert encoded < 0.5 * total  # 9 s of sound in 25 s
    assert all(
        not np.any(x[:, a.keep_to : b.keep_from]) for a, b in itertools.pairwise(tasks)
    )  # what no encoder contributes is silence
    one = decode_audio(write(aac.encode(x, whole=True), tmp_path / "one.m4a"), 2)
    mine = decode_audio(write(aac.encode(x), tmp_path / "mine.m4a"), 2)
    assert one is not None and mine is not None and one.shape == mine.shape
    one, mine = one[:, :total], mine[:, :total]
    assert rms(mine - x) < 1.05 * rms(one - x)
    for task in tasks:  # around every place where repeated silence meets an encoder's output
        for edge in (task.keep_from, task.keep_to):
            if 0 < edge < total:
                near = slice(max(0, edge - 8 * aac.FRAME), min(total, edge + 8 * aac.FRAME))
                assert (
                    rms(mine[:, near] - x[:, near]) <= 1.25 * rms(one[:, near] - x[:, near]) + 1e-6
                )
    gap = slice(round(5.5 * RATE), round(9.0 * RATE))  # well inside a silence
    assert float(np.abs(mine[:, gap]).max()) < 1e-4


def test_all_silence_is_one_packet_repeated(tmp_path: Path) -> None:
    x = np.zeros((2, round(2.5 * RATE)), np.float32)
    packets = aac.encode(x)
    assert len({bytes(p) for p in packets}) == 1
    assert [p.pts for p in packets] == list(range(-aac.FRAME, x.shape[1], aac.FRAME))
    out = decode_audio(write(packets, tmp_path / "quiet.m4a"), 2)
    assert out is not None and 0 <= out.shape[1] - x.shape[1] < aac.FRAME
    assert float(np.abs(out).max()) < 1e-6
