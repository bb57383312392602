"""Scenario B's narration in the GPU worker, on the CPU: a tiny random Bark laid out as
``suno/bark-small`` (tokenizer, generation config, voice presets) loaded by the real loading
code, a scenario-B container (its narrator is deferred to the worker), real WAVs decoded back.

Covers: each assigned shot's narration voiced once in the tale's voice, written where
``narrate_shot`` looks for it, announced (``narration.requested``), audited and recorded as
usage; ``narrate_shot`` then records and counts it; a re-run speaks nothing again; a worker
without a speech model records the narration as not voiced (the tale is not held up); a
task with only narration left still has work.
"""

from __future__ import annotations

import hashlib
import io
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from schemas.events import NarrationRequested
from schemas.story import StoryOptions
from shared.bootstrap import Container
from shared.config import Settings
from shared.domain.errors import PermanentError
from shared.domain.tale import TaleState
from shared.pubsub_message import Envelope
from shared.stages.narrate import narrate_shot, voice_path
from tests.conftest import make_plan, make_record, make_submission
from tests.worker.tiny_models import require_model_libraries, save_bark
from worker.tale_worker.run import has_work, run_task
from worker.tale_worker.speech import Spoken

pytestmark = pytest.mark.slow

FPS = 8
TALE = "tale-00000b"


@pytest.fixture(scope="session")
def tiny_bark(tmp_path_factory: pytest.TempPathFactory) -> Any:
    require_model_libraries()
    from worker.tale_worker.speech import load_speech_pipeline

    weights = save_bark(tmp_path_factory.mktemp("voice") / "tiny-bark")
    return load_speech_pipeline(weights, "cpu")


class ShortSpeech:
    """The real Bark pipeline, asked for at most ``cap`` seconds (a random model never stops
    on its own), counting its calls."""

    def __init__(self, inner: Any, cap: float = 0.3) -> None:
        self.inner = inner
        self.name = inner.name
        self.cap = cap
        self.calls: list[tuple[str, str, float]] = []

    def speak(self, text: str, preset: str, seed: int, max_seconds: float) -> Spoken:
        self.calls.append((text, preset, max_seconds))
        return self.inner.speak(text, preset, seed, min(max_seconds, self.cap))  # type: ignore[no-any-return]


class StillVideo:
    """A video model stand-in (this file is about the voice): grey frames at once."""

    name = "still-video"
    image_to_video = False
    native_fps = FPS

    def size_for(self, aspect_ratio: str) -> tuple[int, int]:
        return 16, 32

    def render(self, prompt: str, **kw: Any) -> list[np.ndarray]:
        return [np.full((32, 16, 3), 128, np.uint8)] * 9


class AuditLog:
    def __init__(self) -> None:
        self.records: list[tuple[str, str]] = []

    def record(self, *, actor: str, tale_id: str, model: str, prompt_sha256: str) -> None:
        self.records.append((model, prompt_sha256))


class ScenarioB(Container):
    """The local stores with scenario B's narrator (deferred to the worker) and an audit."""

    def __init__(self, home: Path) -> None:
        super().__init__(Settings(home=home, scenario="B"))
        self.audit_log = AuditLog()

    @property
    def audit(self) -> AuditLog:  # type: ignore[override]
        return self.audit_log


def narrated_tale(c: Container, shots: int = 2, voice: str = "") -> None:
    store = c.store
    options = StoryOptions(voice=voice)
    store.create(make_record(TALE, shots=shots), make_submission(shots=shots, options=options))
    store.save_plan(TALE, make_plan(shots))
    store.transition(TALE, [TaleState.SUBMITTED], TaleState.PLANNING, stage="planning")
    store.transition(TALE, [TaleState.PLANNING], TaleState.RENDERING, stage="characters")
    store.init_shots(TALE, shots, voices=True)


def announced(c: Container) -> list[NarrationRequested]:
    published = c.bus.published("narration.requested")  # type: ignore[attr-defined]
    return [NarrationRequested.model_validate_json(data) for _, _, data in published]


def wav_of(c: Container, path: str) -> tuple[int, int, int, int]:
    with wave.open(io.BytesIO(c.blobs.get_bytes(path)), "rb") as w:
        return w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()


def test_the_worker_voices_each_shot_once_and_narrate_shot_records_it(
    tiny_bark: Any, tmp_path: Path
) -> None:
    c = ScenarioB(tmp_path / "home")
    narrated_tale(c)
    speech = ShortSpeech(tiny_bark)

    report = run_task(c, TALE, 0, 1, StillVideo(), None, fps=FPS, speech=speech)

    assert report.voiced == [0, 1] and report.rendered == [0, 1]
    # The tale's language (en) and default voice (Bark's narrator, en_speaker_6); a line may
    # run 1.25× its 4-second shot (the mixer's bound).
    assert speech.calls == [
        ("line 0", "v2/en_speaker_6", 5.0),
        ("line 1", "v2/en_speaker_6", 5.0),
    ]
    for index in (0, 1):
        channels, width, rate, frames = wav_of(c, voice_path(TALE, index))
        assert (channels, width, rate) == (1, 2, 24_000)
        assert 0 < frames <= 0.35 * 24_000
    assert [e.key for e in announced(c)] == [f"{TALE}:narration:0", f"{TALE}:narration:1"]
    usage = {u.key: u for u in c.usage.for_tale(TALE)}
    assert usage["voice:0"].provider == "self-hosted" and usage["voice:0"].model == "tiny-bark"
    assert usage["voice:0"].units["gpu_seconds"] > 0
    assert usage["voice:0"].units["characters"] == 6
    line_hashes = {hashlib.sha256(f"line {i}".encode()).hexdigest() for i in (0, 1)}
    assert {sha for model, sha in c.audit_log.records if model == "tiny-bark"} == line_hashes

    # narrate_shot receives the announcements: the voices are recorded and counted.
    for n, event in enumerate(announced(c)):
        envelope = Envelope(topic="narration.requested", message_id=f"m{n}", data=b"")
        narrate_shot(event, c.store, c.voices, c.blobs, c.bus, envelope, c.usage)
    shots = c.store.shots(TALE)
    assert [s.voice_path for s in shots] == [voice_path(TALE, 0), voice_path(TALE, 1)]

    again = run_task(c, TALE, 0, 1, StillVideo(), None, fps=FPS, speech=speech)
    assert again.voiced == [] and len(speech.calls) == 2
    assert not has_work(c, TALE, 0, 1)


def test_the_chosen_voice_reads_a_korean_tale(tiny_bark: Any, tmp_path: Path) -> None:
    c = ScenarioB(tmp_path / "home")
    store = c.store
    options = StoryOptions(voice="ko_speaker_0")
    store.create(make_record(TALE, shots=1), make_submission(shots=1, options=options))
    plan = make_plan(1)
    korean = plan.shots[0].model_copy(update={"narration": "달이 뜬 밤, 토끼가 왔다."})
    store.save_plan(TALE, plan.model_copy(update={"language": "ko", "shots": [korean]}))
    store.transition(TALE, [TaleState.SUBMITTED], TaleState.PLANNING, stage="planning")
    store.transition(TALE, [TaleState.PLANNING], TaleState.RENDERING, stage="characters")
    store.init_shots(TALE, 1, voices=True)
    speech = ShortSpeech(tiny_bark)
    run_task(c, TALE, 0, 1, StillVideo(), None, fps=FPS, speech=speech)
    assert speech.calls == [("달이 뜬 밤, 토끼가 왔다.", "v2/ko_speaker_0", 5.0)]
    assert wav_of(c, voice_path(TALE, 0))[3] > 0


def test_a_task_killed_after_speaking_announces_the_voice_without_speaking_again(
    tiny_bark: Any, tmp_path: Path
) -> None:
    c = ScenarioB(tmp_path / "home")
    narrated_tale(c, shots=1)
    c.blobs.put_bytes(voice_path(TALE, 0), b"RIFF earlier run", "audio/wav")
    assert has_work(c, TALE, 0, 1)
    speech = ShortSpeech(tiny_bark)
    run_task(c, TALE, 0, 1, StillVideo(), None, fps=FPS, speech=speech)
    assert speech.calls == [] and [e.shot_index for e in announced(c)] == [0]


def test_only_narration_left_is_still_work_and_voice_none_is_not(tmp_path: Path) -> None:
    c = ScenarioB(tmp_path / "home")
    narrated_tale(c, shots=1)
    run_task(c, TALE, 0, 1, StillVideo(), None, fps=FPS)  # renders, records "not voiced"
    assert not has_work(c, TALE, 0, 1)
    other = ScenarioB(tmp_path / "other")
    narrated_tale(other, shots=1, voice="none")
    report = run_task(other, TALE, 0, 1, StillVideo(), None, fps=FPS)
    assert report.voiced == [] and announced(other) == []


def test_without_a_speech_model_the_narration_is_recorded_as_not_voiced(tmp_path: Path) -> None:
    c = ScenarioB(tmp_path / "home")
    narrated_tale(c)
    report = run_task(c, TALE, 0, 1, StillVideo(), None, fps=FPS)
    assert report.voiced == [0, 1]
    assert [s.voice_path for s in c.store.shots(TALE)] == ["", ""]
    assert [e.shot_index for e in announced(c)] == [0, 1]
    events = " ".join(e.message for e in c.store.events(TALE))
    assert "narration not voiced" in events and "TALE_GPU_VOICE_WEIGHTS" in events


def test_an_offline_container_leaves_narration_to_narrate_shot(tmp_path: Path) -> None:
    c = Container(Settings(home=tmp_path / "home"))
    narrated_tale(c)
    report = run_task(c, TALE, 0, 1, StillVideo(), None, fps=FPS)
    assert report.voiced == [] and announced(c) == []


def test_an_unknown_preset_is_refused(tiny_bark: Any) -> None:
    with pytest.raises(PermanentError, match="no voice preset"):
        tiny_bark.speak("line", "v2/xx_speaker_9", 1, 0.2)


def test_a_wav_is_clipped_never_wrapped() -> None:
    from worker.tale_worker.speech import to_wav

    wav = to_wav(np.array([2.0, -2.0, 0.5, np.nan], np.float32), 24_000)
    with wave.open(io.BytesIO(wav), "rb") as w:
        samples = np.frombuffer(w.readframes(4), "<i2")
    assert samples.tolist() == [32767, -32767, 16383, 0]
