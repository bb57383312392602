"""narrate_shot with hand-written fakes: voiced once whatever is redelivered, nothing voiced
where there is nothing to say, the fan-in waits for the last voice, and a deferred narrator
(the GPU worker) is waited for."""

from __future__ import annotations

import io
import wave

import pytest

from schemas.events import NarrationRequested, ShotRendered, StitchRequested
from schemas.plan import StoryPlan
from schemas.story import StoryOptions
from shared.domain.errors import PermanentError
from shared.domain.tale import TaleState
from shared.ports.usage import Usage, UsageRecorder
from shared.pubsub_message import Envelope
from shared.stages.collect import collect_shots
from shared.stages.narrate import narrate_shot, narration_line, voice_path
from tests.conftest import make_plan, make_record, make_submission
from tests.fakes import FakeBus, FakeVoices, InMemoryTaleStore, MemoryBlobs

TALE = "tale-000001"


def message(n: int) -> Envelope:
    return Envelope(topic="narration.requested", message_id=f"message-{n}", data=b"")


class MemoryUsage(UsageRecorder):
    def __init__(self) -> None:
        self.records: list[Usage] = []

    def record(self, usage: Usage) -> None:
        self.records.append(usage)

    def for_tale(self, tale_id: str) -> list[Usage]:
        return [u for u in self.records if u.tale_id == tale_id]


class World:
    def __init__(self, shots: int = 3, *, voice: str = "", plan: StoryPlan | None = None) -> None:
        self.store, self.bus, self.blobs = InMemoryTaleStore(), FakeBus(), MemoryBlobs()
        self.voices = FakeVoices()
        self.usage = MemoryUsage()
        options = StoryOptions(voice=voice)
        self.store.create(make_record(), make_submission(shots=shots, options=options))
        self.store.save_plan(TALE, plan or make_plan(shots))
        self.store.transition(TALE, [TaleState.SUBMITTED], TaleState.PLANNING, stage="planning")
        self.store.transition(TALE, [TaleState.PLANNING], TaleState.RENDERING, stage="rendering")
        self.store.init_shots(TALE, shots, voices=True)

    def narrate(self, index: int, n: int = 1) -> None:
        narrate_shot(
            NarrationRequested(tale_id=TALE, shot_index=index),
            self.store,
            self.voices,
            self.blobs,
            self.bus,
            message(n),
            self.usage,
        )

    def render(self, index: int) -> None:
        path = f"tales/{TALE}/shots/{index:02d}-a1.mp4"
        self.store.claim_shot(TALE, index, 1, claimant="render")
        self.store.finish_shot(TALE, index, 1, path)
        collect_shots(
            ShotRendered(tale_id=TALE, shot_index=index, attempt=1, clip_path=path),
            self.store,
            self.bus,
        )

    def voice_of(self, index: int) -> str | None:
        shot = self.store.shot(TALE, index)
        assert shot is not None
        return shot.voice_path

    @property
    def stitches(self) -> int:
        return len(self.bus.of(StitchRequested))


def test_a_shot_is_voiced_once_and_recorded_at_its_location() -> None:
    world = World()
    world.narrate(0)
    assert world.voices.spoken == [("line 0", "en", "en-calm")]
    assert world.voice_of(0) == voice_path(TALE, 0) == f"tales/{TALE}/voice/00.wav"
    with wave.open(io.BytesIO(world.blobs.get_bytes(voice_path(TALE, 0))), "rb") as w:
        assert w.getnframes() > 0
    (usage,) = world.usage.records
    assert (usage.key, usage.provider, usage.units) == ("voice:0", "fake-voice", {"characters": 6})


def test_a_redelivery_does_not_speak_twice() -> None:
    world = World()
    world.narrate(1, n=1)
    world.narrate(1, n=1)  # the same message again
    world.narrate(1, n=2)  # a re-publish: a new message id, the same logical key
    assert world.voices.spoken == [("line 1", "en", "en-calm")]
    assert len(world.usage.records) == 1


def test_a_delivery_that_died_after_speaking_records_the_voice_without_speaking() -> None:
    world = World()
    world.blobs.put_bytes(voice_path(TALE, 2), b"RIFF earlier", "audio/wav")
    world.narrate(2)
    assert world.voices.spoken == []
    assert world.voice_of(2) == voice_path(TALE, 2)


def test_a_shot_without_narration_records_nothing_to_voice() -> None:
    plan = make_plan(2)
    silent = plan.shots[1].model_copy(update={"narration": "   "})
    plan = plan.model_copy(update={"shots": [plan.shots[0], silent]})
    world = World(2, plan=plan)
    world.narrate(1)
    assert world.voice_of(1) == ""
    assert world.voices.spoken == [] and world.blobs.objects == {}


def test_voice_none_records_nothing_to_voice() -> None:
    world = World(voice="none")
    for index in range(3):
        world.narrate(index)
    assert [world.voice_of(i) for i in range(3)] == ["", "", ""]
    assert world.voices.spoken == []


def test_the_chosen_voice_is_used() -> None:
    world = World(voice="en-bright")
    world.narrate(0)
    assert world.voices.spoken == [("line 0", "en", "en-bright")]


def test_the_fan_in_waits_for_the_last_voice() -> None:
    world = World(3)
    for index in range(3):
        world.render(index)
    world.narrate(0)
    world.narrate(1)
    assert world.stitches == 0
    assert world.store.find(TALE).state is TaleState.RENDERING  # type: ignore[union-attr]
    world.narrate(2)
    assert world.stitches == 1
    assert world.store.find(TALE).state is TaleState.STITCHING  # type: ignore[union-attr]
    world.narrate(0, n=8)  # an earlier voice redelivered requests nothing
    assert world.stitches == 1
    world.narrate(2, n=9)  # the last one redelivered publishes the same request again (the
    # publish may have been lost); stitching is keyed on it, so it runs once
    assert {e.key for e in world.bus.of(StitchRequested)} == {StitchRequested(tale_id=TALE).key}
    assert world.store.find(TALE).fan_in_key == NarrationRequested(tale_id=TALE, shot_index=2).key  # type: ignore[union-attr]


def test_the_fan_in_waits_for_the_last_picture_too() -> None:
    world = World(2)
    world.narrate(0)
    world.narrate(1)
    world.render(0)
    assert world.stitches == 0
    world.render(1)
    assert world.stitches == 1


def test_a_refused_narration_raises_and_records_nothing() -> None:
    world = World(1)
    world.voices.fail = {"line 0"}
    with pytest.raises(PermanentError, match="refused"):
        world.narrate(0)
    assert world.voice_of(0) is None


def test_a_deferred_narrator_is_waited_for_then_recorded() -> None:
    world = World(2)
    world.voices.deferred = True
    world.narrate(0)
    assert world.voice_of(0) is None and world.voices.spoken == []
    # The GPU worker voices the line where narrate_shot looks, then asks for the shot again.
    line = narration_line(world.store, TALE, 0, 0)
    assert line is not None and line.text == "line 0" and line.voice == ""
    world.blobs.put_bytes(line.path, b"RIFF worker", "audio/wav")
    world.narrate(0, n=2)
    assert world.voice_of(0) == line.path
    assert world.voices.spoken == []


def test_a_deferred_narrator_does_not_hold_up_a_shot_with_nothing_to_say() -> None:
    world = World(1, voice="none")
    world.voices.deferred = True
    world.narrate(0)
    assert world.voice_of(0) == ""
