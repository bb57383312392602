"""The worker's pure parts, without torch: frame fitting, sizes, frame counts, seeds, the
weights folder rules and the kind read from ``model_index.json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.conftest import make_plan
from worker.tale_worker.clips import clip_path, fit_frames, seed_for, sized, video_prompt
from worker.tale_worker.pipelines import detect_kind
from worker.tale_worker.weights import local_weights
from worker.tale_worker.wrappers import DiffusersVideo


def video(**kw: Any) -> DiffusersVideo:
    fields: dict[str, Any] = {
        "pipe": object(),
        "name": "CogVideoX-5b",
        "kind": "cogvideox",
        "image_to_video": False,
        "native_fps": 8,
        "native_size": (720, 480),
        "max_frames": 49,
        "steps": 50,
        "guidance": 6.0,
    }
    return DiffusersVideo(**(fields | kw))


def test_frames_are_resampled_evenly_to_the_clip_length() -> None:
    frames = [np.full((2, 2, 3), i, np.uint8) for i in range(9)]
    stretched = fit_frames(frames, 32)
    assert len(stretched) == 32
    values = [int(f[0, 0, 0]) for f in stretched]
    assert values[0] == 0 and values[-1] == 8 and values == sorted(values)
    assert {values.count(v) for v in range(9)} <= {3, 4}  # each frame held about as long
    assert [int(f[0, 0, 0]) for f in fit_frames(frames, 3)] == [0, 3, 6]
    with pytest.raises(ValueError):
        fit_frames([], 4)


def test_sizes_follow_the_plan_aspect_ratio_in_multiples_of_16() -> None:
    v = video()
    assert v.size_for("16:9") == (720, 480)
    assert v.size_for("9:16") == (480, 720)
    assert v.size_for("1:1") == (480, 480)
    assert video(native_size=(832, 480)).size_for("9:16") == (480, 832)


def test_frame_counts_are_one_more_than_a_multiple_of_four_and_capped() -> None:
    v = video()
    assert v.model_frames(32) == 33  # 4 s at 8 fps
    assert v.model_frames(48) == 49
    assert v.model_frames(64) == 49  # 8 s: the model's span, stretched later
    assert video(max_frames=81).model_frames(64) == 65
    assert v.model_frames(1) == 5


def test_a_wrong_size_frame_is_resized() -> None:
    frame = np.zeros((10, 20, 3), np.uint8)
    assert sized(frame, 20, 10) is frame
    assert sized(frame, 16, 32).shape == (32, 16, 3)


def test_seeds_prompts_and_paths_are_stable() -> None:
    assert seed_for("tale-000001", 0, 1) == seed_for("tale-000001", 0, 1)
    assert seed_for("tale-000001", 0, 1) != seed_for("tale-000001", 0, 2)
    assert 0 <= seed_for("x") < 2**32
    assert clip_path("tale-000001", 3, 2) == "tales/tale-000001/shots/03-a2.mp4"
    plan = make_plan(1)
    prompt = video_prompt(plan, plan.shots[0])
    assert prompt.startswith("Medium shot. shot 0 prompt. Style: ")


def test_the_kind_is_read_from_the_model_index(tmp_path: Path) -> None:
    for name, kind in [
        ("CogVideoXPipeline", "cogvideox"),
        ("CogVideoXImageToVideoPipeline", "cogvideox"),
        ("WanPipeline", "wan"),
        ("WanImageToVideoPipeline", "wan"),
    ]:
        (tmp_path / "model_index.json").write_text(json.dumps({"_class_name": name}))
        assert detect_kind(tmp_path) == kind
    (tmp_path / "model_index.json").write_text(json.dumps({"_class_name": "FluxPipeline"}))
    with pytest.raises(ValueError, match="FluxPipeline"):
        detect_kind(tmp_path)


def test_a_local_weights_folder_is_used_in_place(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"model_index\.json"):
        local_weights(str(tmp_path), tmp_path / "cache")
    (tmp_path / "model_index.json").write_text("{}")
    assert local_weights(str(tmp_path), tmp_path / "cache") == tmp_path


class Blob:
    def __init__(self, name: str) -> None:
        self.name = name

    def download_to_filename(self, filename: str) -> None:
        Path(filename).write_text(self.name)


class Listing:
    def __init__(self, *names: str) -> None:
        self.names = names

    def list_blobs(self, bucket: str, prefix: str | None = None) -> list[Blob]:
        return [Blob(n) for n in self.names if n.startswith(prefix or "")]


def test_a_gs_prefix_copy_refuses_objects_outside_it(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="outside"):
        local_weights("gs://b/m", tmp_path, client=Listing("m/../../etc/x"))
    with pytest.raises(FileNotFoundError, match="no objects"):
        local_weights("gs://b/m", tmp_path, client=Listing("other/model_index.json"))
    local = local_weights("gs://b/m/", tmp_path, client=Listing("m/a/b.json", "m/dir/"))
    assert (local / "a" / "b.json").read_text() == "m/a/b.json"
    assert not (local / "dir").exists()


def test_a_listed_model_renders_the_sizes_of_its_card_only() -> None:
    from worker.tale_worker.wrappers import UnsupportedShape

    v = video(sizes={"16:9": (720, 480)}, fixed_frames=True)
    assert v.size_for("16:9") == (720, 480)
    for ratio in ("9:16", "1:1"):
        with pytest.raises(UnsupportedShape, match=ratio):
            v.size_for(ratio)
    assert v.model_frames(32) == v.model_frames(64) == 49
    wan = video(sizes={"16:9": (832, 480), "9:16": (480, 832)}, max_frames=81)
    assert wan.size_for("9:16") == (480, 832) and wan.model_frames(64) == 65
