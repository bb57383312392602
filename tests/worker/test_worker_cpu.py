"""The GPU worker end to end on the CPU: tiny random CogVideoX and Wan pipelines laid out as
the real repositories are (CogVideoX's slow T5 tokenizer: ``spiece.model`` and no
``tokenizer.json``), loaded by the real loading code, the embedded default container, real
H.264 clips decoded back with PyAV.

Covers: two tasks splitting a 2-shot plan (clips, ``shot.rendered`` events, usage with
``gpu_seconds``, the character reference drawn by task 0, audit records that hold hashes and
no prompt), a re-run that renders nothing, a task killed half way whose retry renders only
the missing shot, an image-to-video model started from the reference image, a Wan model,
the model table's sizes and the weights it must match, the ``python -m worker.tale_worker``
entry point (which names its execution for the dispatcher), and weights copied from a
``gs://`` prefix.
"""

from __future__ import annotations

import hashlib
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import pytest
from PIL import Image

from schemas.events import ShotRendered
from shared.bootstrap import Container
from shared.config import Settings
from shared.domain.tale import TaleState
from shared.providers.selfhosted.gpu_job import read_record
from shared.providers.selfhosted.video_models import MODELS
from tests.conftest import make_plan, make_record, make_submission
from tests.gcs_emulator import GcsEmulator, gcs_emulator
from tests.worker.tiny_models import require_model_libraries, save, save_wan
from worker.tale_worker.clips import clip_path, video_prompt
from worker.tale_worker.run import run_task

__all__ = ["gcs_emulator"]

pytestmark = pytest.mark.slow

FPS = 8
STEPS = 2


# --- fixtures and fakes ---------------------------------------------------------------------
@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_model_libraries()
    return save(tmp_path_factory.mktemp("weights") / "tiny-cogvideox")


@pytest.fixture(scope="session")
def tiny_video(tiny_weights: Path) -> Any:
    from worker.tale_worker.pipelines import load_video_pipeline

    return load_video_pipeline(tiny_weights, "cogvideox", "cpu", steps=STEPS)


class FakeAudit:
    def __init__(self) -> None:
        self.records: list[dict[str, str]] = []

    def record(self, *, actor: str, tale_id: str, model: str, prompt_sha256: str) -> None:
        self.records.append(
            {"actor": actor, "tale_id": tale_id, "model": model, "sha": prompt_sha256}
        )


class AuditedContainer(Container):
    """The embedded container with an audit log (the port is being added beside this)."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.fake_audit = FakeAudit()

    @property
    def audit(self) -> FakeAudit:
        return self.fake_audit


class FakeImages:
    name = "fake-image-model"

    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def render(self, prompt: str, width: int, height: int, seed: int) -> Image.Image:
        self.calls.append((width, height))
        return Image.new("RGB", (width, height), (200, 40 + seed % 100, 40))


class Spy:
    """Counts renders and keeps their first frames; the ``fail_on``-th call raises (a task
    killed after the earlier shots were written)."""

    def __init__(self, inner: Any, fail_on: int | None = None) -> None:
        self.inner = inner
        self.fail_on = fail_on
        self.calls = 0
        self.first_frames: list[Image.Image | None] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def render(self, prompt: str, **kw: Any) -> Any:
        self.calls += 1
        if self.calls == self.fail_on:
            raise RuntimeError("the task was killed")
        self.first_frames.append(kw["first_frame"])
        return self.inner.render(prompt, **kw)


def rendering_tale(container: Container, tale_id: str, shots: int = 2) -> None:
    store = container.store
    store.create(make_record(tale_id, shots=shots), make_submission(shots=shots))
    store.save_plan(tale_id, make_plan(shots))
    store.transition(tale_id, [TaleState.SUBMITTED], TaleState.PLANNING, stage="planning")
    store.transition(tale_id, [TaleState.PLANNING], TaleState.RENDERING, stage="characters")
    store.init_shots(tale_id, shots)


@pytest.fixture
def container(tmp_path: Path) -> Iterator[AuditedContainer]:
    yield AuditedContainer(Settings(home=tmp_path / "home"))


def decoded(container: Container, path: str, tmp: Path) -> tuple[int, float, int, int]:
    """(frames, duration in seconds, width, height) of a clip, by decoding every frame."""
    local = container.blobs.download(path, tmp / path.replace("/", "_"))
    with av.open(str(local)) as box:
        stream = box.streams.video[0]
        frames = list(box.decode(stream))
        rate = Fraction(stream.average_rate or FPS)
    return len(frames), float(len(frames) / rate), frames[0].width, frames[0].height


def rendered_keys(container: Container) -> list[str]:
    published = container.bus.published("shot.rendered")  # type: ignore[attr-defined]
    return [ShotRendered.model_validate_json(data).key for _, _, data in published]


# --- tests ----------------------------------------------------------------------------------
def test_two_tasks_render_a_tale_and_a_rerun_renders_nothing(
    container: AuditedContainer,
    tiny_video: Any,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.INFO)
    tale = "tale-000001"
    rendering_tale(container, tale)
    video, images = Spy(tiny_video), FakeImages()

    first = run_task(container, tale, 0, 2, video, images, fps=FPS, reference_size=64)
    second = run_task(container, tale, 1, 2, video, images, fps=FPS, reference_size=64)

    assert (first.assigned, first.rendered, first.characters) == ([0], [0], ["Mina"])
    assert (second.assigned, second.rendered, second.characters) == ([1], [1], [])
    assert images.calls == [(64, 64)]  # the reference, drawn once by task 0
    assert container.store.characters(tale) == {"Mina": f"tales/{tale}/characters/00.png"}
    assert container.blobs.exists(f"tales/{tale}/characters/00.png")
    for index in (0, 1):
        frames, duration, width, height = decoded(container, clip_path(tale, index, 1), tmp_path)
        assert frames == FPS * 4  # 9 model frames resampled to 4 s at 8 fps
        assert duration == pytest.approx(4.0, abs=0.5)
        assert (width, height) == (16, 32)  # 9:16 from the model's native 32×16
    assert sorted(rendered_keys(container)) == [f"{tale}:shot:0:1", f"{tale}:shot:1:1"]
    usage = container.usage.for_tale(tale)
    assert [u.key for u in usage] == ["shot:0:1", "shot:1:1"]
    assert {(u.provider, u.model) for u in usage} == {("self-hosted", "tiny-cogvideox")}
    assert all(u.units["gpu_seconds"] > 0 for u in usage)

    # Audit: one record per inference (the reference and two shots), hashes only.
    plan = make_plan(2)
    shot_hashes = {hashlib.sha256(video_prompt(plan, s).encode()).hexdigest() for s in plan.shots}
    audit = container.fake_audit.records
    assert [r["model"] for r in audit] == ["fake-image-model", "tiny-cogvideox", "tiny-cogvideox"]
    assert {r["sha"] for r in audit[1:]} == shot_hashes
    assert {(r["actor"], r["tale_id"]) for r in audit} == {("gpu-worker", tale)}
    # No prompt in the logs: ours, the libraries' (CogVideoX logs the part of a prompt cut
    # at max_sequence_length — 16 tokens here — on its own stderr handler) or the tale's.
    printed = caplog.text + "".join(capfd.readouterr())
    events = " ".join(e.message for e in container.store.events(tale))
    for shot in plan.shots:
        assert shot.prompt not in printed and shot.prompt not in events
        assert "Style:" not in printed

    again = run_task(container, tale, 0, 2, video, images, fps=FPS)
    assert (again.rendered, again.skipped, again.characters) == ([], [0], [])
    assert video.calls == 2 and images.calls == [(64, 64)]
    assert len(container.usage.for_tale(tale)) == 2


def test_a_killed_task_is_retried_without_redoing_finished_shots(
    container: AuditedContainer, tiny_video: Any, tmp_path: Path
) -> None:
    tale = "tale-000002"
    rendering_tale(container, tale)
    dying = Spy(tiny_video, fail_on=2)
    with pytest.raises(RuntimeError, match="killed"):
        run_task(container, tale, 0, 1, dying, None, fps=FPS)
    assert container.blobs.exists(clip_path(tale, 0, 1))
    assert not container.blobs.exists(clip_path(tale, 1, 1))
    assert [u.key for u in container.usage.for_tale(tale)] == ["shot:0:1"]

    retry = Spy(tiny_video)
    report = run_task(container, tale, 0, 1, retry, None, fps=FPS)
    assert (report.rendered, report.skipped) == ([1], [0])
    assert retry.calls == 1
    assert decoded(container, clip_path(tale, 1, 1), tmp_path)[0] == FPS * 4
    assert [u.key for u in container.usage.for_tale(tale)] == ["shot:0:1", "shot:1:1"]


def test_a_claimed_shot_is_finished_and_a_later_attempt_gets_its_own_clip(
    container: AuditedContainer, tiny_video: Any
) -> None:
    """As in production, where the shot stage claimed each shot before the job started."""
    tale = "tale-000003"
    rendering_tale(container, tale)
    store = container.store
    for index in (0, 1):
        store.claim_shot(tale, index, 1, claimant="m")
        store.mark_shot_started(tale, index, 1, f"gpu:{tale}:{index}:a1")
    store.fail_shot(tale, 1, 1, "the first execution died")
    assert store.retry_shot(tale, 1, 1) == 2
    store.claim_shot(tale, 1, 2, claimant="m")
    store.mark_shot_started(tale, 1, 2, f"gpu:{tale}:1:a2")

    report = run_task(container, tale, 0, 1, tiny_video, None, fps=FPS)
    assert report.rendered == [0, 1]
    shots = store.shots(tale)
    assert [(s.attempt, s.status.value, s.clip_path) for s in shots] == [
        (1, "rendered", clip_path(tale, 0, 1)),
        (2, "rendered", clip_path(tale, 1, 2)),
    ]
    assert sorted(rendered_keys(container)) == [f"{tale}:shot:0:1", f"{tale}:shot:1:2"]


def test_an_image_to_video_model_starts_from_the_character_reference(
    container: AuditedContainer, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    require_model_libraries()
    from worker.tale_worker.pipelines import detect_kind, load_video_pipeline

    weights = save(tmp_path_factory.mktemp("i2v") / "tiny-cogvideox-i2v", image_to_video=True)
    assert detect_kind(weights) == "cogvideox"
    loaded = load_video_pipeline(weights, "cogvideox", "cpu", steps=STEPS)
    assert loaded.image_to_video
    tale = "tale-000004"
    rendering_tale(container, tale)
    video = Spy(loaded)
    report = run_task(container, tale, 0, 1, video, FakeImages(), fps=FPS, reference_size=64)
    assert report.rendered == [0, 1]
    for first in video.first_frames:
        assert first is not None and first.getpixel((0, 0))[0] == 200  # the fake reference
    assert decoded(container, clip_path(tale, 1, 1), tmp_path)[0] == FPS * 4


def test_the_entry_point_runs_a_task_from_the_environment(
    tiny_weights: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from worker.tale_worker.__main__ import main

    home = tmp_path / "home"
    tale = "tale-000005"
    rendering_tale(Container(Settings(home=home)), tale)
    for name, value in {
        "TALE_HOME": str(home),
        "TALE_GPU_PIPELINE": "tiny-cogvideox",  # not in the model table: native sizes
        "TALE_GPU_ATTEMPT": "1",
        "CLOUD_RUN_EXECUTION": "tale-gpu-worker-abcde",
        "TALE_GPU_WEIGHTS": str(tiny_weights),
        "TALE_GPU_FPS": str(FPS),
        "TALE_GPU_STEPS": str(STEPS),
        "TALE_GPU_DEVICE": "cpu",
        "TALE_TALE_ID": tale,
        "CLOUD_RUN_TASK_INDEX": "1",
        "CLOUD_RUN_TASK_COUNT": "2",
    }.items():
        monkeypatch.setenv(name, value)
    assert main() == 0
    fresh = Container(Settings(home=home))
    assert fresh.blobs.exists(clip_path(tale, 1, 1))
    record = read_record(fresh.blobs, tale, 1)  # the dispatcher can find this execution
    assert record is not None and record.execution == "tale-gpu-worker-abcde"
    assert not fresh.blobs.exists(clip_path(tale, 0, 1))
    assert main() == 0  # nothing left: the models are not even loaded

    monkeypatch.setenv("TALE_TALE_ID", "tale-999999")
    assert main() == 1  # Cloud Run retries the task
    other = "tale-000006"
    rendering_tale(Container(Settings(home=home)), other)
    monkeypatch.setenv("TALE_TALE_ID", other)
    monkeypatch.setenv("TALE_GPU_PIPELINE", "wan2.1-t2v-1.3b")
    assert main() == 2  # the weights are not the configured model
    monkeypatch.delenv("TALE_TALE_ID")
    assert main() == 2


def test_weights_are_copied_from_cloud_storage_once(
    tiny_weights: Path, tmp_path: Path, gcs_emulator: GcsEmulator
) -> None:
    from worker.tale_worker.pipelines import load_video_pipeline
    from worker.tale_worker.weights import COMPLETE, local_weights

    client = gcs_emulator.client()
    bucket = client.bucket(gcs_emulator.new_bucket())
    files = [p for p in tiny_weights.rglob("*") if p.is_file()]
    for path in files:
        name = f"models/tiny-cogvideox/{path.relative_to(tiny_weights).as_posix()}"
        bucket.blob(name).upload_from_filename(str(path))
    source = f"gs://{bucket.name}/models/tiny-cogvideox"

    local = local_weights(source, tmp_path / "cache", client=client)
    assert local == tmp_path / "cache" / bucket.name / "models" / "tiny-cogvideox"
    assert (local / COMPLETE).is_file()
    copied = sorted(p.relative_to(local) for p in local.rglob("*") if p.name != COMPLETE)
    assert copied == sorted(p.relative_to(tiny_weights) for p in tiny_weights.rglob("*"))
    index = json.loads((local / "model_index.json").read_text())
    assert index["_class_name"] == "CogVideoXPipeline"
    assert load_video_pipeline(local, "cogvideox", "cpu", steps=STEPS).name == "tiny-cogvideox"

    class NoClient:
        def list_blobs(self, *a: object, **kw: object) -> None:
            raise AssertionError("the complete copy should have been reused")

    assert local_weights(source, tmp_path / "cache", client=NoClient()) == local


def test_the_cogvideox_tokenizer_is_the_slow_one_and_needs_sentencepiece(
    tiny_weights: Path,
) -> None:
    """As in zai-org/CogVideoX-5b: without sentencepiece the weights do not load."""
    files = sorted(p.name for p in (tiny_weights / "tokenizer").iterdir())
    assert files == ["special_tokens_map.json", "spiece.model", "tokenizer_config.json"]
    index = json.loads((tiny_weights / "model_index.json").read_text())
    assert index["tokenizer"] == ["transformers", "T5Tokenizer"]
    script = (
        "import sys; sys.modules['sentencepiece'] = None\n"
        "from transformers import T5Tokenizer\n"
        f"T5Tokenizer.from_pretrained({str(tiny_weights / 'tokenizer')!r})\n"
    )
    blocked = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert blocked.returncode != 0


def test_a_wan_model_renders_a_portrait_tale(
    container: AuditedContainer, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    require_model_libraries()
    from worker.tale_worker.pipelines import detect_kind, load_video_pipeline

    weights = save_wan(tmp_path_factory.mktemp("wan") / "tiny-wan")
    assert {"spiece.model", "tokenizer.json"} <= {p.name for p in (weights / "tokenizer").iterdir()}
    assert detect_kind(weights) == "wan"
    loaded = load_video_pipeline(weights, "wan", "cpu", steps=STEPS)
    assert not loaded.image_to_video and loaded.native_fps == 16
    loaded.native_size = (32, 16)  # the tiny model renders small
    tale = "tale-000007"
    rendering_tale(container, tale)
    report = run_task(container, tale, 0, 1, loaded, None, fps=FPS)
    assert report.rendered == [0, 1]
    frames, duration, width, height = decoded(container, clip_path(tale, 0, 1), tmp_path)
    assert (frames, width, height) == (FPS * 4, 16, 32)
    assert duration == pytest.approx(4.0, abs=0.5)


def test_the_model_table_sets_sizes_and_must_match_the_weights(
    tiny_weights: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    require_model_libraries()
    from worker.tale_worker.pipelines import load_video_pipeline
    from worker.tale_worker.wrappers import UnsupportedShape

    spec = MODELS["cogvideox-5b"]
    loaded = load_video_pipeline(tiny_weights, "cogvideox", "cpu", steps=STEPS, spec=spec)
    assert loaded.name == "cogvideox-5b" and loaded.size_for("16:9") == (720, 480)
    assert (loaded.model_frames(32), loaded.native_fps) == (49, 8)  # the card's only length
    with pytest.raises(UnsupportedShape, match="9:16"):
        loaded.size_for("9:16")
    with pytest.raises(ValueError, match="disagree"):
        load_video_pipeline(tiny_weights, "cogvideox", "cpu", spec=MODELS["cogvideox-5b-i2v"])
    wan = save_wan(tmp_path_factory.mktemp("wan-spec") / "tiny-wan")
    loaded = load_video_pipeline(wan, "wan", "cpu", spec=MODELS["wan2.1-t2v-1.3b"])
    assert loaded.size_for("9:16") == (480, 832) and loaded.max_frames == 81
    assert loaded.pipe.scheduler.config.flow_shift == 3.0
    with pytest.raises(ValueError, match="disagree"):
        load_video_pipeline(wan, "wan", "cpu", spec=MODELS["cogvideox-5b"])
