"""Fault injection into the real local adapters.

Everything is driven by one seed and a ``FaultPlan`` (a probability per kind of fault), and
every injected fault is counted by kind:

- **bus** (``ChaosBus``, a ``SqliteEventBus``): a publish becomes two messages (duplicate),
  becomes available later (delay), or the runtime leases due deliveries out of order
  (reorder);
- **crash points** (``crashing`` around any tale store's units of work, ``CrashingBlobs``,
  ``CrashingLedger``, ``ChaosBus``, ``ChaosVideos``): the handler dies with ``InjectedCrash``
  just *before* or just *after* an
  effect — claiming a shot, recording its operation, finishing it, a state transition, the
  fan-in, a blob write, a publish, a provider call, a settlement. "After" means the effect
  happened and the handler died before its delivery was acked: exactly what at-least-once
  delivery must survive. The API's submission has its own (``Chaos.submitting``): dying
  just after the reservation leaves credits reserved for a tale never created, which the
  sweep must return;
- **provider** (``ChaosVideos``, paid): a start refused (``NotStarted``), a start whose
  answer was lost (``TransientError`` — the generation did start), an invalid request
  (``PermanentError``), a poll that errs, an operation that fails (a new attempt), one that
  the safety filter refuses, one that takes longer than the poll budget (hand-overs);
  otherwise a real tiny H.264 clip. Every paid start is logged per (tale, shot, attempt);
- **the process** (``ChaosRuntime``): the runtime dies during a delivery — that delivery at a
  seeded crash point, every other in-flight delivery at its next one, nothing more acked —
  and a new runtime on the same home recovers (``LocalRuntime.recover``);
- **the owner** cancels a tale while a handler is working on it.

Determinism: the run-level draws (users, tales, kill points) come from one
``random.Random(seed)``. Each fault decision draws from its own stream, seeded by the seed,
the decision's site, its logical key (tale, shot, attempt, topic, path — never a message id or
a time) and how often that decision was taken before, so a decision does not depend on which
thread got there first. The bus runs on a ``VirtualClock`` that jumps to the next due
delivery when the runtime is idle, so backoffs and delays cost no wall time and the delivery
order does not depend on the machine's speed. With one worker the whole run is reproducible.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, TypeVar

from schemas.events import Event
from shared.adapters.local.blobs import FilesystemBlobStore
from shared.adapters.local.bus import BusPolicy, Delivery, SqliteEventBus
from shared.adapters.local.ledger import SqliteLedger
from shared.bootstrap import Container
from shared.domain.errors import NotStarted, PermanentError, TransientError
from shared.ports.blobs import BlobStore
from shared.ports.generators import Recovery, VideoGenerator, VideoPoll, VideoRequest
from shared.ports.store import TaleStore
from shared.ports.voices import Speech, VoiceGenerator
from shared.runtime.local import LocalRuntime

When = Literal["before", "after"]
S = TypeVar("S", bound=TaleStore)
WHEN: tuple[When, ...] = ("before", "after")

#: Every crash point the wrappers offer, by the effect it surrounds.
SITES: tuple[str, ...] = (
    "store.create",
    "store.claim",
    "store.mark",
    "store.update",
    "store.save_plan",
    "store.transition",
    "store.init_shots",
    "store.claim_shot",
    "store.release_claim",
    "store.mark_shot_started",
    "store.finish_shot",
    "store.fail_shot",
    "store.retry_shot",
    "store.retry_round",
    "store.fan_in",
    "blobs.put_bytes",
    "blobs.put_file",
    "bus.publish",
    "videos.start",
    "videos.poll",
    "voices.synthesize",
    "store.record_voice",
    "store.take_over_shot",
    "store.replace_plan",
    "ledger.reserve",
    "ledger.settle",
    "ledger.refund",
)


class InjectedCrash(Exception):
    """A crash injected by the chaos harness. An ordinary ``Exception`` (not a
    ``BaseException``) so that the runtime nacks the delivery and it is redelivered."""


#: The ``FaultPlan`` fields that are probabilities.
PROBABILITIES: tuple[str, ...] = (
    "duplicate",
    "delay",
    "reorder",
    "crash",
    "ack_lost",
    "not_started",
    "start_lost",
    "invalid",
    "poll_error",
    "op_failed",
    "refused",
    "slow",
    "cancel",
    "poison",
    "revise",
)


@dataclass(frozen=True)
class FaultPlan:
    """How often each fault happens (probabilities per opportunity) and which are forced."""

    duplicate: float = 0.0
    """A publish becomes two messages (a re-publish after a lost reply)."""
    delay: float = 0.0
    """A publish becomes available up to ``max_delay_s`` (virtual) seconds later."""
    max_delay_s: float = 3.0
    reorder: float = 0.0
    """A lease takes the due deliveries in shuffled order (from a window beyond the oldest)."""
    reorder_window: int = 4
    crash: float = 0.0
    """Per crash point visit (before and after each effect): the handler dies there."""
    ack_lost: float = 0.0
    """A handler finishes but its ack is lost: the delivery comes again."""
    not_started: float = 0.0
    """The provider refuses a start (429): nothing started, the claim is released."""
    start_lost: float = 0.0
    """The start request times out although the generation started (ambiguous)."""
    invalid: float = 0.0
    """The provider rejects the request as invalid (permanent)."""
    poll_error: float = 0.0
    """A poll fails (503): the next delivery polls again."""
    op_failed: float = 0.0
    """The operation ends with an error: the shot is tried again as a new attempt."""
    refused: float = 0.0
    """The operation ends refused by the safety filter: the tale fails."""
    slow: float = 0.0
    """The operation needs 1–3 more polls than the poll budget allows (hand-overs)."""
    cancel: float = 0.0
    """The owner cancels the tale while a handler works on it (fraction of tales)."""
    poison: float = 0.0
    """A malformed message for the tale is published (fraction of tales): dead-lettered."""
    revise: float = 0.0
    """The owner revises a finished tale (fraction of tales finished with a video): one or
    two shots render again, some with a new prompt or narration, under the same faults."""
    failed_attempts: int = 0
    """The operations of every shot's first this-many attempts end with an error."""
    restarts: int = 0
    """The runtime is killed (and a new one started on the home) up to this many times."""
    crash_at: tuple[tuple[str, str, When], ...] = ()
    """Forced crashes: (function, site, when) — the first visit of each crashes."""
    duplicate_topics: frozenset[str] = frozenset()
    """Every publish on these topics is duplicated."""
    cancel_during: tuple[tuple[str, str, When], ...] = ()
    """Forced cancels: the owner cancels the tale when a handler first reaches the point
    (function, site, when)."""

    @classmethod
    def none(cls) -> FaultPlan:
        return cls()

    @classmethod
    def default(cls) -> FaultPlan:
        """The mix of ``tale chaos``: every kind of fault, often enough to meet each other."""
        return cls(
            duplicate=0.15,
            delay=0.15,
            reorder=0.3,
            crash=0.012,
            ack_lost=0.04,
            not_started=0.08,
            start_lost=0.02,
            invalid=0.01,
            poll_error=0.06,
            op_failed=0.06,
            refused=0.02,
            slow=0.15,
            cancel=0.06,
            poison=0.04,
            revise=0.3,
            restarts=3,
        )

    def scaled(self, factor: float) -> FaultPlan:
        """Every probability times ``factor`` (restarts and forced faults unchanged)."""
        return replace(self, **{n: min(1.0, getattr(self, n) * factor) for n in PROBABILITIES})


class VirtualClock:
    """The bus's clock: starts at the wall clock and moves only when told (``advance``)."""

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += max(0.0, seconds)


@dataclass
class _Context:
    """The delivery a worker thread is handling."""

    stage: str
    tale_id: str | None
    visits: int = 0
    die_at: int | None = None
    on_die: Callable[[], None] | None = None


class Chaos:
    """The seeded source of every fault decision, and the counts of what was injected."""

    def __init__(self, seed: int, plan: FaultPlan) -> None:
        self.seed = seed
        self.plan = plan
        self.random = random.Random(seed)
        """Run-level draws (users, tales, kill points), in program order."""
        self.counts: Counter[str] = Counter()
        """Injected faults by kind."""
        self.crash_points: Counter[str] = Counter()
        """Injected crashes by ``function/site:when``."""
        self.visited: Counter[tuple[str, str, When]] = Counter()
        """Crash points reached, injected or not, by (function, site, when)."""
        self.killing = False
        """Set while a killed runtime winds down: every crash point in a delivery raises."""
        self.cancel_at: dict[str, int] = {}
        """Tale → the crash-point visit (counted per tale) at which its owner cancels."""
        self.on_cancel: Callable[[str], None] | None = None
        self._seen: Counter[str] = Counter()
        self._fired: set[tuple[str, ...]] = set()
        self._tale_visits: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._local = threading.local()

    # --- decisions -----------------------------------------------------------------------
    def stream(self, *key: object) -> random.Random:
        """The random stream of one decision: the seed, its key and its occurrence."""
        name = "|".join(str(k) for k in key)
        with self._lock:
            n = self._seen[name]
            self._seen[name] += 1
        return random.Random(f"{self.seed}|{name}|{n}")

    def chance(self, p: float, *key: object) -> bool:
        return p > 0 and self.stream(*key).random() < p

    def count(self, kind: str, n: int = 1) -> None:
        with self._lock:
            self.counts[kind] += n

    # --- the delivery being handled ------------------------------------------------------
    @contextmanager
    def delivering(
        self,
        delivery: Delivery,
        *,
        die_at: int | None = None,
        on_die: Callable[[], None] | None = None,
    ) -> Iterator[_Context]:
        ctx = _Context(delivery.subscription, delivery.attributes.get("tale_id"), 0, die_at, on_die)
        previous = getattr(self._local, "ctx", None)
        self._local.ctx = ctx
        try:
            yield ctx
        finally:
            self._local.ctx = previous

    @contextmanager
    def submitting(self, tale_id: str) -> Iterator[_Context]:
        """The API starting a tale (function ``api``): its crash points are the process
        dying between the request's effects — after the credits are reserved and before the
        tale is created, the reservation is left with no tale (an orphan, which the sweep
        returns)."""
        previous = getattr(self._local, "ctx", None)
        ctx = _Context("api", tale_id)
        self._local.ctx = ctx
        try:
            yield ctx
        finally:
            self._local.ctx = previous

    @contextmanager
    def outside(self) -> Iterator[None]:
        """Run code that is not part of the delivery (a concurrent API call): no faults."""
        previous = getattr(self._local, "ctx", None)
        self._local.ctx = None
        try:
            yield
        finally:
            self._local.ctx = previous

    def current(self) -> _Context | None:
        ctx: _Context | None = getattr(self._local, "ctx", None)
        return ctx

    # --- crash points --------------------------------------------------------------------
    def point(self, site: str, when: When, key: str) -> None:
        """A crash point: may raise ``InjectedCrash`` (only inside a delivery)."""
        ctx = self.current()
        if ctx is None:
            return
        if self.killing:
            raise InjectedCrash(f"the process was killed ({when} {site})")
        ctx.visits += 1
        point = (ctx.stage, site, when)
        with self._lock:
            self.visited[point] += 1
        if ctx.die_at is not None and ctx.visits == ctx.die_at and ctx.on_die is not None:
            ctx.on_die()
            raise InjectedCrash(f"the process was killed ({when} {site})")
        if ctx.tale_id is not None and ctx.tale_id in self.cancel_at:
            self._maybe_cancel(ctx.tale_id)
        if (
            ctx.tale_id is not None
            and point in self.plan.cancel_during
            and self._first("cancel", point)
        ):
            self._cancel(ctx.tale_id)
        forced = point in self.plan.crash_at and self._first("crash", point)
        if forced or self.chance(self.plan.crash, "crash", *point, key):
            with self._lock:
                self.counts[f"crash {when}"] += 1
                self.crash_points[f"{ctx.stage}/{site}:{when}"] += 1
            raise InjectedCrash(f"injected crash {when} {site} ({key})")

    def _first(self, kind: str, point: tuple[str, str, When]) -> bool:
        """True the first time a forced fault of this kind reaches this point."""
        with self._lock:
            first = (kind, *point) not in self._fired
            self._fired.add((kind, *point))
        return first

    def _maybe_cancel(self, tale_id: str) -> None:
        with self._lock:
            self._tale_visits[tale_id] += 1
            due = self._tale_visits[tale_id] == self.cancel_at[tale_id]
        if due:
            self._cancel(tale_id)

    def _cancel(self, tale_id: str) -> None:
        if self.on_cancel is not None:
            with self.outside():
                self.on_cancel(tale_id)

    @contextmanager
    def around(self, site: str, key: str) -> Iterator[None]:
        """Crash points just before and just after the effect in the ``with`` block."""
        self.point(site, "before", key)
        yield
        self.point(site, "after", key)


# --- the bus ------------------------------------------------------------------------------
class ChaosBus(SqliteEventBus):
    """The local bus with duplicated, delayed and reordered messages, crash points around
    ``publish`` and a virtual clock that jumps over idle waits."""

    def __init__(
        self,
        path: Path,
        subscriptions: Mapping[str, list[str]],
        policy: BusPolicy,
        chaos: Chaos,
        clock: VirtualClock,
    ) -> None:
        super().__init__(path, subscriptions, policy, clock=clock)
        self.chaos = chaos
        self.virtual = clock

    def publish(self, event: Event) -> str:
        with self.chaos.around("bus.publish", f"{event.TYPE}:{event.key}"):
            return super().publish(event)

    def publish_raw(self, topic: str, data: bytes, attributes: Mapping[str, str]) -> str:
        chaos, plan = self.chaos, self.chaos.plan
        key = (topic, attributes.get("key", ""))
        message_id = super().publish_raw(topic, data, attributes)
        if topic in plan.duplicate_topics or chaos.chance(plan.duplicate, "duplicate", *key):
            chaos.count("duplicate")
            super().publish_raw(topic, data, attributes)
        if plan.delay > 0:
            stream = chaos.stream("delay", *key)
            if stream.random() < plan.delay:
                chaos.count("delay")
                later = self.clock() + stream.uniform(0.1, plan.max_delay_s)
                with self.db.transaction() as db:
                    db.execute(
                        "UPDATE deliveries SET available_at=? WHERE message_id=?",
                        (later, message_id),
                    )
        return message_id

    def lease(self, limit: int) -> list[Delivery]:
        """``SqliteEventBus.lease`` that may take the due deliveries out of order."""
        if limit <= 0:
            return []
        plan = self.chaos.plan
        now = self.clock()
        window = limit + (plan.reorder_window if plan.reorder > 0 else 0)
        with self.db.transaction() as db:
            rows = db.execute(
                "SELECT d.message_id, d.subscription, d.attempts, m.topic, m.data, m.attributes, "
                "m.published_at FROM deliveries d JOIN messages m USING (message_id) "
                "WHERE (d.state='pending' AND d.available_at<=?) "
                "OR (d.state='leased' AND d.lease_until<=?) ORDER BY m.seq LIMIT ?",
                (now, now, window),
            ).fetchall()
            if len(rows) > 1 and plan.reorder > 0:
                order = [
                    f"{r['subscription']}:{json.loads(r['attributes']).get('key', '')}"
                    for r in rows
                ]
                stream = self.chaos.stream("reorder", *order)
                if stream.random() < plan.reorder:
                    shuffled = list(rows)
                    stream.shuffle(shuffled)
                    if shuffled[:limit] != rows[:limit]:
                        self.chaos.count("reorder")
                    rows = shuffled
            out = []
            for r in rows[:limit]:
                db.execute(
                    "UPDATE deliveries SET state='leased', attempts=attempts+1, "
                    "lease_until=? WHERE message_id=? AND subscription=?",
                    (now + self.policy.ack_deadline_s, r["message_id"], r["subscription"]),
                )
                out.append(
                    Delivery(
                        r["message_id"],
                        r["subscription"],
                        r["topic"],
                        r["data"],
                        json.loads(r["attributes"]),
                        r["attempts"] + 1,
                        r["published_at"],
                    )
                )
            return out

    def next_due_in(self) -> float | None:
        """As the real bus, except that an idle wait is skipped: with nothing leased, the
        virtual clock jumps to the next due delivery (the runtime calls this only when it has
        nothing in flight)."""
        due = super().next_due_in()
        if due is None or due <= 0:
            return due
        leased = self.db.read("SELECT COUNT(*) AS n FROM deliveries WHERE state='leased'")
        if int(leased[0]["n"]) == 0:
            self.virtual.advance(due)
            return 1e-6
        return due


# --- crash points around the tale store, the blob store and the ledger -------------------
def crashing(store: S, chaos: Chaos) -> S:
    """Crash points around every unit of work of ``store`` (before it loads, after it saved),
    whatever the adapter: the store port runs each one inside its ``around`` hook."""
    store.around = chaos.around
    return store


class CrashingBlobs(FilesystemBlobStore):
    """The filesystem blob store with crash points around every write."""

    def __init__(self, root: Path, chaos: Chaos) -> None:
        super().__init__(root)
        self.chaos = chaos

    def put_bytes(self, path: str, data: bytes, content_type: str) -> None:
        with self.chaos.around("blobs.put_bytes", path):
            super().put_bytes(path, data, content_type)

    def put_file(self, path: str, source: Path, content_type: str) -> None:
        with self.chaos.around("blobs.put_file", path):
            super().put_file(path, source, content_type)


class CrashingLedger(SqliteLedger):
    """The SQLite ledger with crash points around reserve (the API's admission), settle and
    refund."""

    def __init__(self, path: Path, chaos: Chaos) -> None:
        super().__init__(path)
        self.chaos = chaos

    def reserve(self, user_id: str, tale_id: str, amount: int) -> bool:
        with self.chaos.around("ledger.reserve", tale_id):
            return super().reserve(user_id, tale_id, amount)

    def settle(self, tale_id: str, cost: int | None = None) -> bool:
        with self.chaos.around("ledger.settle", tale_id):
            return super().settle(tale_id, cost)

    def refund(self, tale_id: str) -> bool:
        with self.chaos.around("ledger.refund", tale_id):
            return super().refund(tale_id)


# --- the provider -------------------------------------------------------------------------
Fate = Literal["ok", "failed", "refused"]


@dataclass
class _Operation:
    request: VideoRequest
    fate: Fate
    extra_polls: int
    polls: int = 0


class ChaosVideos(VideoGenerator):
    """A paid video provider that fails like one, with real tiny clips otherwise.

    ``starts`` counts every paid start per (tale, shot index, attempt): more than one for an
    attempt is a generation paid twice.
    """

    paid = True
    provider = "chaos"
    model = "chaos-clip"

    def __init__(self, blobs: BlobStore, chaos: Chaos, *, height: int = 32) -> None:
        self.blobs = blobs
        self.chaos = chaos
        self.height = height
        self.starts: Counter[tuple[str, int, int]] = Counter()
        self._ops: dict[str, _Operation] = {}
        self._by_attempt: dict[tuple[str, int, int], str] = {}
        self._lock = threading.Lock()

    def start(self, request: VideoRequest) -> str:
        chaos, plan = self.chaos, self.chaos.plan
        key = (request.tale_id, request.shot.index, request.attempt)
        name = ":".join(str(k) for k in key)
        with chaos.around("videos.start", name):
            if chaos.chance(plan.not_started, "not_started", name):
                chaos.count("provider not started")
                raise NotStarted("429 RESOURCE_EXHAUSTED: quota exceeded (injected)")
            if chaos.chance(plan.invalid, "invalid", name):
                chaos.count("provider invalid")
                raise PermanentError("400 INVALID_ARGUMENT: the request was rejected (injected)")
            fate, extra = self._fate(name, request.attempt)
            with self._lock:  # the paid generation starts here
                self.starts[key] += 1
                operation_id = f"chaos/{name}/{sum(self.starts.values())}"
                self._ops[operation_id] = _Operation(request, fate, extra)
                self._by_attempt[key] = operation_id
            if chaos.chance(plan.start_lost, "start_lost", name):
                chaos.count("provider start lost")
                raise TransientError("deadline exceeded waiting for the provider (injected)")
        return operation_id

    def recover(self, request: VideoRequest, claimed_at: float, now: float) -> Recovery:
        """The provider knows every generation it started (as Veo's per-attempt output
        location tells): a started one is polled again, and an attempt it never started
        has provably not run (``max_latency_s`` is 0: the simulated start is synchronous)."""
        key = (request.tale_id, request.shot.index, request.attempt)
        with self._lock:
            operation_id = self._by_attempt.get(key)
        if operation_id is not None:
            self.chaos.count("provider start recovered")
            return Recovery(operation_id=operation_id)
        return Recovery(nothing_ran=now - claimed_at >= self.max_latency_s)

    def _fate(self, name: str, attempt: int) -> tuple[Fate, int]:
        chaos, plan = self.chaos, self.chaos.plan
        stream = chaos.stream("fate", name)
        r = stream.random()
        extra = 0
        if stream.random() < plan.slow:
            chaos.count("provider slow")
            extra = stream.randint(1, 3)
        if attempt <= plan.failed_attempts:
            chaos.count("provider failed")
            return "failed", extra
        if r < plan.refused:
            chaos.count("provider refused")
            return "refused", extra
        if r < plan.refused + plan.op_failed:
            chaos.count("provider failed")
            return "failed", extra
        return "ok", extra

    def poll(self, operation_id: str) -> VideoPoll:
        chaos = self.chaos
        with chaos.around("videos.poll", operation_id):
            with self._lock:
                op = self._ops.get(operation_id)
            if op is None:
                return VideoPoll(done=True, error=f"unknown operation {operation_id!r}")
            if chaos.chance(chaos.plan.poll_error, "poll_error", operation_id):
                chaos.count("provider poll error")
                raise TransientError("503 UNAVAILABLE while polling (injected)")
            with self._lock:
                op.polls += 1
                polls = op.polls
            if polls <= op.extra_polls:
                return VideoPoll(done=False)
            if op.fate == "refused":
                return VideoPoll(
                    done=True, error="blocked by the safety filter (injected)", refused=True
                )
            if op.fate == "failed":
                return VideoPoll(done=True, error="internal error in the generation (injected)")
            return self._clip(op.request)

    def _clip(self, request: VideoRequest) -> VideoPoll:
        from shared.chaos.clips import clip_bytes

        shot = request.shot
        if not self.blobs.exists(request.output_path):
            data = clip_bytes(
                shot.index, float(shot.duration_s), request.plan.aspect_ratio, height=self.height
            )
            self.blobs.put_bytes(request.output_path, data, "video/mp4")
        return VideoPoll(
            done=True,
            clip_path=request.output_path,
            units={"video_seconds": float(shot.duration_s)},
        )


class ChaosVoices(VoiceGenerator):
    """A paid voice with a crash point around each synthesis; the speech is a short tone
    (the chaos run checks the pipeline, not the voice)."""

    provider = "chaos"
    model = "chaos-voice"

    def __init__(self, chaos: Chaos) -> None:
        self.chaos = chaos
        self.spoken: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    def voices(self, language: str) -> tuple[str, ...]:
        return ("tone",)

    def synthesize(self, text: str, language: str, voice: str, *, tale_id: str = "") -> Speech:
        with self.chaos.around("voices.synthesize", f"{tale_id}:{text[:20]}"):
            with self._lock:
                self.spoken[(tale_id, text)] += 1
            return Speech(_tone_wav(0.5), 0.5, {"characters": float(len(text))})


def _tone_wav(seconds: float, rate: int = 16000) -> bytes:
    import io
    import math
    import struct
    import wave

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        frames = int(seconds * rate)
        wav.writeframes(
            b"".join(
                struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * n / rate)))
                for n in range(frames)
            )
        )
    return buffer.getvalue()


# --- the process --------------------------------------------------------------------------
class ChaosRuntime(LocalRuntime):
    """The local runtime, run under ``Chaos``: deliveries are handled inside the chaos
    context, an ack may be lost, and the process may be killed during its ``kill_at``-th
    delivery (then it acks nothing more and ``run`` returns; ``killed`` is set)."""

    def __init__(self, container: Container, chaos: Chaos, *, kill_at: int | None = None) -> None:
        super().__init__(container)
        self.chaos = chaos
        self.kill_at = kill_at
        self.killed = threading.Event()
        self.stop = threading.Event()
        self._ordinal = 0
        self._ordinal_lock = threading.Lock()

    def deliver(self, delivery: Delivery) -> None:
        with self._ordinal_lock:
            self._ordinal += 1
            ordinal = self._ordinal
        die_at = None
        if ordinal == self.kill_at:
            die_at = self.chaos.stream("kill", ordinal).randint(1, 8)
        with self.chaos.delivering(delivery, die_at=die_at, on_die=self._die):
            super().deliver(delivery)
        if die_at is not None and not self.killed.is_set():
            self._die()  # after all its effects, before its ack
            return
        key = delivery.attributes.get("key", "")
        if self.chaos.chance(self.chaos.plan.ack_lost, "ack_lost", delivery.subscription, key):
            self.chaos.count("ack lost")
            raise InjectedCrash(f"the ack of {delivery.subscription} {key} was lost")

    def _die(self) -> None:
        self.chaos.count("runtime killed")
        self.chaos.killing = True
        self.killed.set()
        self.stop.set()

    def _settle(self, delivery: Delivery, future: Any) -> None:
        if self.killed.is_set():
            return  # a dead process acks nothing: its leases are released by the next one
        super()._settle(delivery, future)

    def serve(self, timeout: float) -> bool:
        """Deliver until the bus is idle (True) or this runtime is killed (False)."""

        def idle() -> None:
            if self.bus.outstanding() == 0:
                self.stop.set()

        try:
            self.run(timeout=timeout, stop=self.stop, on_tick=idle, tick_s=0.0)
        finally:
            self.chaos.killing = False
        return not self.killed.is_set()
