"""Small hand-written fakes of the ports, for stage unit tests.

``InMemoryTaleStore`` also runs in the store contract suite, so it cannot drift from the
real adapters.
"""

from __future__ import annotations

import copy
import io
import threading
import time
import wave
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

from schemas.events import Event
from schemas.plan import Character, StoryPlan
from schemas.story import StoryOptions, StorySubmission
from shared.domain.aggregate import TaleAggregate
from shared.domain.errors import NotStarted, PermanentError, TaleNotFound, TransientError
from shared.domain.tale import ShotRecord, TaleEvent, TaleRecord, TaleState
from shared.ports.blobs import BlobNotFound, BlobStore
from shared.ports.bus import EventBus
from shared.ports.claims import ClaimKey, Claims
from shared.ports.generators import (
    ImageGenerator,
    Recovery,
    VideoGenerator,
    VideoPoll,
    VideoRequest,
)
from shared.ports.notifier import Notification, Notifier
from shared.ports.store import TaleStore
from shared.ports.voices import Speech, VoiceGenerator

T = TypeVar("T")


class FakeBus(EventBus):
    def __init__(self) -> None:
        self.published: list[Event] = []

    def publish(self, event: Event) -> str:
        self.published.append(event)
        return str(len(self.published))

    def of(self, kind: type[Event]) -> list[Event]:
        return [e for e in self.published if isinstance(e, kind)]


class MemoryBlobs(BlobStore):
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put_bytes(self, path: str, data: bytes, content_type: str) -> None:
        self.objects[path] = data

    def put_file(self, path: str, source: Path, content_type: str) -> None:
        self.objects[path] = source.read_bytes()

    def get_bytes(self, path: str) -> bytes:
        if path not in self.objects:
            raise BlobNotFound(path)
        return self.objects[path]

    def download(self, path: str, dest: Path) -> Path:
        dest.write_bytes(self.get_bytes(path))
        return dest

    def exists(self, path: str) -> bool:
        return path in self.objects

    def delete(self, path: str) -> bool:
        return self.objects.pop(path, None) is not None

    def list_paths(self, prefix: str) -> list[str]:
        return sorted(p for p in self.objects if p.startswith(prefix))

    def uri(self, path: str) -> str:
        return f"memory://{path}"

    def signed_url(self, path: str, expires_s: int = 3600) -> str:
        return f"memory://{path}?expires={expires_s}"


class FakeImages(ImageGenerator):
    def __init__(self) -> None:
        self.drawn: list[str] = []

    def character_reference(
        self, character: Character, plan: StoryPlan, *, tale_id: str = ""
    ) -> bytes:
        self.drawn.append(character.name)
        return b"\x89PNG fake " + character.name.encode()


class FakeVideos(VideoGenerator):
    """An operation API: ``start`` returns an id; the clip appears after ``polls_needed`` polls."""

    def __init__(
        self,
        blobs: BlobStore,
        *,
        paid: bool = True,
        polls_needed: int = 0,
        refuse: Iterable[int] = (),
        fail_first: Iterable[int] = (),
        throttle_starts: int = 0,
        recoverable: bool = False,
        lose_answers: int = 0,
    ) -> None:
        """``recoverable``: ``recover`` finds an attempt's generation by its output location
        (as Veo's per-attempt ``storageUri``), else it proves nothing (the port's default).
        ``lose_answers``: that many starts run but their answer is lost (a timeout)."""
        self.blobs = blobs
        self.paid = paid
        self.recoverable = recoverable
        self.lose_answers = lose_answers
        self.polls_needed = polls_needed
        self.refuse = set(refuse)
        self.fail_first = set(fail_first)
        self.started: list[tuple[int, int]] = []
        self.throttle_starts = throttle_starts
        self._ops: dict[str, list[object]] = {}

    def start(self, request: VideoRequest) -> str:
        if self.throttle_starts:
            self.throttle_starts -= 1
            raise NotStarted("429 RESOURCE_EXHAUSTED: quota exceeded")
        key = (request.shot.index, request.attempt)
        self.started.append(key)
        op = f"op-{request.shot.index}-{request.attempt}-{len(self.started)}"
        self._ops[op] = [request, 0]
        if self.lose_answers:
            self.lose_answers -= 1
            raise TransientError("deadline exceeded waiting for the answer")
        return op

    def recover(self, request: VideoRequest, claimed_at: float, now: float) -> Recovery:
        if not self.recoverable:
            return super().recover(request, claimed_at, now)
        for op, state in self._ops.items():
            found = state[0]
            assert isinstance(found, VideoRequest)
            if (found.shot.index, found.attempt) == (request.shot.index, request.attempt):
                return Recovery(operation_id=op)
        return Recovery(nothing_ran=now - claimed_at >= self.max_latency_s)

    def poll(self, operation_id: str) -> VideoPoll:
        state = self._ops[operation_id]
        request = state[0]
        assert isinstance(request, VideoRequest)
        state[1] = int(state[1]) + 1  # type: ignore[call-overload]
        if int(state[1]) <= self.polls_needed:  # type: ignore[call-overload]
            return VideoPoll(done=False)
        if request.shot.index in self.refuse:
            return VideoPoll(done=True, error="blocked by safety filter", refused=True)
        if request.shot.index in self.fail_first and request.attempt == 1:
            return VideoPoll(done=True, error="internal error")
        self.blobs.put_bytes(request.output_path, b"clip", "video/mp4")
        return VideoPoll(done=True, clip_path=request.output_path)


class FakeVoices(VoiceGenerator):
    """A narrator that records what it spoke; ``fail`` raises for those texts."""

    provider = "fake-voice"
    model = "fake-voice-1"

    def __init__(self, *, deferred: bool = False, fail: Iterable[str] = ()) -> None:
        self.deferred = deferred
        self.fail = set(fail)
        self.spoken: list[tuple[str, str, str]] = []

    def voices(self, language: str) -> tuple[str, ...]:
        return (f"{language}-calm", f"{language}-bright")

    def synthesize(self, text: str, language: str, voice: str, *, tale_id: str = "") -> Speech:
        if text in self.fail:
            raise PermanentError(f"refused: {text}")
        self.spoken.append((text, language, voice or self.voices(language)[0]))
        frames = 16_000 * len(text) // 20
        out = io.BytesIO()
        with wave.open(out, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(16_000)
            w.writeframes(b"\x00\x00" * frames)
        seconds = frames / 16_000
        return Speech(out.getvalue(), seconds, {"characters": float(len(text))})


class FakeNotifier(Notifier):
    def __init__(self) -> None:
        self.sent: list[Notification] = []

    def send(self, notification: Notification) -> str:
        self.sent.append(notification)
        return f"fake://{notification.tale_id}/{notification.outcome}"


@dataclass
class _Tale:
    record: TaleRecord
    submission: StorySubmission
    plan: StoryPlan | None = None
    characters: dict[str, str] = field(default_factory=dict)
    shots: dict[int, ShotRecord] = field(default_factory=dict)


class InMemoryTaleStore(TaleStore):
    """The store port in a dict; a unit of work holds one lock and works on copies, so a
    decision that raises changes nothing (as a rolled-back transaction)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._tales: dict[str, _Tale] = {}
        self._events: list[TaleEvent] = []
        self._lock = threading.RLock()
        self.clock = clock

    def _t(self, tale_id: str) -> _Tale:
        if tale_id not in self._tales:
            raise TaleNotFound(tale_id)
        return self._tales[tale_id]

    def _run_unit(
        self,
        tale_id: str,
        shots: Collection[int] | None,
        decide: Callable[[TaleAggregate], T],
        with_plan: bool = False,
    ) -> T:
        with self._lock:
            t = self._t(tale_id)
            wanted = t.shots.keys() if shots is None else set(shots) & t.shots.keys()
            loaded = {i: replace(t.shots[i]) for i in wanted}
            agg = TaleAggregate(copy.deepcopy(t.record), loaded, self.clock())
            agg.plan = t.plan if with_plan else None
            result = decide(agg)
            t.record = agg.tale
            if agg.plan_changed:
                t.plan = agg.plan
            for i in agg.changed_shots:
                t.shots[i] = agg.shots[i]
            for line in agg.log:
                self.log(tale_id, line.stage, line.message, line.level)
            return result

    def _create(self, record: TaleRecord, submission: StorySubmission) -> bool:
        with self._lock:
            if record.tale_id in self._tales:
                return False
            self._tales[record.tale_id] = _Tale(copy.deepcopy(record), submission)
            return True

    def find(self, tale_id: str) -> TaleRecord | None:
        with self._lock:
            t = self._tales.get(tale_id)
            return copy.deepcopy(t.record) if t else None

    def list_tales(
        self,
        *,
        owner: str | None = None,
        states: Iterable[TaleState] | None = None,
        limit: int = 100,
    ) -> list[TaleRecord]:
        wanted = set(states) if states is not None else None
        with self._lock:
            rows = [
                copy.deepcopy(t.record)
                for t in self._tales.values()
                if (owner is None or t.record.owner == owner)
                and (wanted is None or t.record.state in wanted)
            ]
        return sorted(rows, key=lambda r: (-r.created_at, r.tale_id))[:limit]

    def submission(self, tale_id: str) -> StorySubmission:
        return self._t(tale_id).submission

    def options(self, tale_id: str) -> StoryOptions:
        return self._t(tale_id).submission.options

    def _save_plan(self, tale_id: str, plan: StoryPlan) -> StoryPlan:
        with self._lock:
            t = self._t(tale_id)
            if t.plan is None:
                t.plan = plan
                t.record.shot_count = len(plan.shots)
                t.record.language = plan.language
                t.record.plan_version = 1
            return t.plan

    def plan(self, tale_id: str) -> StoryPlan | None:
        t = self._tales.get(tale_id)
        return t.plan if t else None

    def record_character(self, tale_id: str, name: str, image_path: str) -> None:
        with self._lock:
            self._t(tale_id).characters[name] = image_path

    def characters(self, tale_id: str) -> dict[str, str]:
        return dict(self._t(tale_id).characters)

    def shots(self, tale_id: str) -> list[ShotRecord]:
        with self._lock:
            return [replace(s) for _, s in sorted(self._t(tale_id).shots.items())]

    def shot(self, tale_id: str, index: int) -> ShotRecord | None:
        with self._lock:
            found = self._t(tale_id).shots.get(index)
            return replace(found) if found else None

    def log(self, tale_id: str, stage: str, message: str, level: str = "info") -> None:
        with self._lock:
            self._events.append(TaleEvent(tale_id, self.clock(), stage, message, level))

    def events(self, tale_id: str) -> list[TaleEvent]:
        return [e for e in self._events if e.tale_id == tale_id]


class InMemoryClaims(Claims):
    """The claims port in dicts, one lock for atomicity."""

    def __init__(self) -> None:
        self._claims: dict[str, str] = {}
        self._counters: dict[str, int] = {}
        self._lock = threading.Lock()

    def claim_once(self, key: ClaimKey) -> bool:
        with self._lock:
            if key.value in self._claims:
                return False
            self._claims[key.value] = ""
            return True

    def claim(self, key: ClaimKey, claimant: str) -> str:
        with self._lock:
            return self._claims.setdefault(key.value, claimant)

    def bump(self, key: ClaimKey) -> int:
        with self._lock:
            self._counters[key.value] = self._counters.get(key.value, 0) + 1
            return self._counters[key.value]

    def marked(self, key: ClaimKey) -> bool:
        return key.value in self._claims
