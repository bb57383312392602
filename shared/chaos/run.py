"""A seeded chaos run: many users' tales through the local runtime under injected faults.

``run_chaos`` builds a home whose adapters inject faults (``shared.chaos.faults``), creates
users with profiles and this month's grant in the local ledger, reserves and submits each
tale as the API does (``tale_cost``, ``ledger.reserve``, ``service.submit``; the API may die
at the reservation, leaving no tale), runs the runtime — killing it and starting a new one on
the same home a seeded number of times — until the bus is idle or a deadline passes, sweeps
the orphan reservations as the sweep does once their grace period has passed, and then checks
the invariants (``shared.chaos.invariants``).
"""

from __future__ import annotations

import re
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from schemas.story import AspectRatio, StorySubmission, Style
from shared import bootstrap, service
from shared.adapters.local.blobs import FilesystemBlobStore
from shared.adapters.local.bus import BusPolicy
from shared.adapters.local.store import SqliteTaleStore
from shared.bootstrap import Container
from shared.chaos.faults import (
    Chaos,
    ChaosBus,
    ChaosRuntime,
    ChaosVideos,
    ChaosVoices,
    CrashingBlobs,
    CrashingLedger,
    FaultPlan,
    InjectedCrash,
    VirtualClock,
    crashing,
)
from shared.chaos.invariants import INVARIANTS
from shared.chaos.world import ChaosWorld, RevisionSpec, TaleSpec
from shared.config import Settings
from shared.domain.credits import period_of, tale_cost
from shared.domain.errors import IllegalTransition, Refused, WrongState
from shared.domain.tale import TaleRecord
from shared.ports.keys import KeyWrapper
from shared.ports.ledger import InsufficientCredits, Plan
from shared.ports.records import public_view
from shared.ports.store import TaleStore
from shared.registry import DEAD_LETTER_TOPIC, subscriptions
from shared.usecases.return_orphans import ORPHAN_GRACE_S, return_orphans
from shared.usecases.revise_tale import ReviseTale, ShotChange, revise_tale

STORIES: tuple[str, ...] = (
    "Mina walked to the sea at dawn. Mina found a fox asleep in the dunes. "
    "The fox woke and followed Mina home. Mina and the fox shared bread by the fire.",
    "Old Tomas lit the lighthouse lamp. A storm rolled in from the west. "
    "Tomas saw a small boat fighting the waves. The light of Tomas guided it safely home.",
    "Jun planted a seed in a cracked pot. Every morning Jun gave it water. "
    "One day a red flower opened for Jun. His grandmother smiled at Jun from the window.",
    "달토끼는 밤마다 떡을 빚었다. 어느 날 달토끼에게 지구의 노래가 들려왔다. "
    "달토끼는 구름을 타고 내려갔다. 달토끼는 소녀와 함께 보름달을 바라보았다.",
    "작은 고양이가 비 오는 골목을 걸었다. 빵집 아저씨가 문을 열어 주었다. "
    "고양이는 따뜻한 오븐 옆에서 잠들었다. 아침이 오자 무지개가 떴다.",
)
ASPECTS: tuple[AspectRatio, ...] = ("9:16", "16:9", "1:1")
StoreFactory = Callable[[KeyWrapper, Callable[[TaleRecord], None]], TaleStore]
PLANS: tuple[Plan, ...] = ("free", "free", "pro", "business")
SHOT_SECONDS = 4


@dataclass(frozen=True)
class InvariantResult:
    name: str
    title: str
    violations: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.violations


@dataclass
class ChaosReport:
    seed: int
    tales: int
    concurrency: int
    outcomes: Counter[str]
    faults: Counter[str]
    crash_points: Counter[str]
    invariants: list[InvariantResult]
    tale_outcomes: dict[str, str] = field(default_factory=dict)
    """Tale id → its outcome (state, and the failing stage for a failed tale)."""
    failure_reasons: Counter[str] = field(default_factory=Counter)
    """Why tales failed (numbers and quoted details elided)."""
    elapsed_s: float = 0.0
    """Wall time of the run (submissions and runtimes), without the checks."""
    check_s: float = 0.0
    """Wall time of the invariant checks (they decode every video)."""
    deliveries: int = 0
    dead_lettered: int = 0
    runtimes: int = 1
    paid_starts: int = 0

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.invariants)

    def fingerprint(self) -> dict[str, Any]:
        """Everything but the timing: equal for two runs of one seed on one worker."""
        return {
            "outcomes": dict(sorted(self.outcomes.items())),
            "faults": dict(sorted(self.faults.items())),
            "crash_points": dict(sorted(self.crash_points.items())),
            "tale_outcomes": dict(sorted(self.tale_outcomes.items())),
            "failure_reasons": dict(sorted(self.failure_reasons.items())),
            "invariants": {r.name: r.violations for r in self.invariants},
            "deliveries": self.deliveries,
            "dead_lettered": self.dead_lettered,
            "runtimes": self.runtimes,
            "paid_starts": self.paid_starts,
        }

    def to_json(self) -> dict[str, Any]:
        """The report for programs (``tale chaos --json``): the fingerprint with the run's
        parameters, each invariant with its title and violations, and the timings."""
        doc = self.fingerprint()
        doc["invariants"] = [
            {"name": r.name, "title": r.title, "ok": r.ok, "violations": list(r.violations)}
            for r in self.invariants
        ]
        return {
            "seed": self.seed,
            "tales": self.tales,
            "concurrency": self.concurrency,
            "ok": self.ok,
            **doc,
            "elapsed_s": round(self.elapsed_s, 3),
            "check_s": round(self.check_s, 3),
        }


def chaos_settings(home: Path, concurrency: int) -> Settings:
    """The embedded default, fast: one poll per delivery (slow operations hand over), no
    wall-clock sweep (a stuck tale must show up as one), nothing from the cloud."""
    return Settings(
        home=home,
        concurrency=concurrency,
        max_delivery_attempts=5,
        retry_min_backoff_s=0.5,
        retry_max_backoff_s=10.0,
        shot_poll_budget_s=0.001,
        shot_poll_interval_s=1.0,
        sweep_interval_s=1e9,
        offline_height=64,
        offline_fps=4,
        scenario="offline",
        gcp_project=None,
        supabase_url=None,
        supabase_service_key=None,
    )


def open_world(
    home: Path,
    chaos: Chaos,
    *,
    concurrency: int = 4,
    store_factory: StoreFactory | None = None,
) -> ChaosWorld:
    """A fresh home whose bus, tale store, blob store, ledger and video provider inject the
    faults of ``chaos``; the rest (planner, images, notifier, keys) is the embedded default.
    ``store_factory(keys, on_change)`` builds another tale store (the Firestore emulator's)."""
    home = home.resolve()
    settings = chaos_settings(home, concurrency)
    base = Container(settings)
    records = base.records

    def mirror(tale: Any) -> None:
        records.upsert(public_view(tale))

    policy = BusPolicy(
        settings.max_delivery_attempts,
        settings.retry_min_backoff_s,
        settings.retry_max_backoff_s,
        settings.ack_deadline_s,
        DEAD_LETTER_TOPIC,
    )
    bus = ChaosBus(home / "bus.db", subscriptions(), policy, chaos, VirtualClock())
    if store_factory is None:
        store: TaleStore = SqliteTaleStore(home / "state.db", keys=base.keys, on_change=mirror)
    else:
        store = store_factory(base.keys, mirror)
    crashing(store, chaos)
    blobs = CrashingBlobs(home / "blobs", chaos)
    ledger = CrashingLedger(home / "ledger.db", chaos)
    # The provider writes its clips with its own credentials (no crash points of ours).
    videos = ChaosVideos(FilesystemBlobStore(home / "blobs"), chaos)
    voices = ChaosVoices(chaos)
    container = Container(
        settings,
        store=store,
        bus=bus,
        blobs=blobs,
        ledger=ledger,
        videos=videos,
        voices=voices,
        keys=base.keys,
        records=records,
    )

    def cancel(tale_id: str) -> None:  # the owner, through the API, while a handler works
        try:
            service.cancel(tale_id, store=store, bus=bus)
        except IllegalTransition:
            return
        chaos.count("owner cancelled")

    chaos.on_cancel = cancel
    return ChaosWorld(home, settings, container, chaos, store, bus, ledger, blobs, videos)


def _user_id(world: ChaosWorld) -> str:
    return str(uuid.UUID(int=world.chaos.random.getrandbits(128), version=4))


def add_users(world: ChaosWorld, count: int) -> list[str]:
    """Users with a profile on a random plan and this month's grant (the sign-up webhook)."""
    rnd, ledger, settings = world.chaos.random, world.ledger, world.settings
    users = []
    for _ in range(count):
        user = _user_id(world)
        plan = rnd.choice(PLANS)
        ledger.ensure_profile(user, f"{user[:8]}@chaos.test", plan)
        credits = settings.monthly_credits(plan)
        ledger.grant_monthly(user, period_of(time.time()), credits)
        world.grants[user] = credits
        users.append(user)
    return users


def submit_tale(
    world: ChaosWorld,
    owner: str,
    submission: StorySubmission,
    *,
    tale_id: str | None = None,
    cancel_at: int | None = None,
    poison: bool = False,
) -> TaleSpec:
    """Reserve and submit one tale as ``POST /v1/tales`` does; a short balance is a 402 (the
    tale is not created), and the API may die at the reservation (crash points of the
    ``api`` function: the tale is not created, and a reservation made is an orphan).
    ``cancel_at``: the owner cancels it at that crash-point visit of its handlers;
    ``poison``: a malformed message for it is published too."""
    tale_id = tale_id or f"tale-{world.chaos.random.getrandbits(48):012x}"
    shots, seconds = submission.shot_count, submission.shot_seconds
    cost = tale_cost(shots, seconds)
    aspect = submission.aspect_ratio
    try:
        with world.chaos.submitting(tale_id):
            world.ledger.reserve(owner, tale_id, cost)
    except (InsufficientCredits, InjectedCrash) as exc:
        lost = isinstance(exc, InjectedCrash)  # no retry: the client gave up
        spec = TaleSpec(tale_id, owner, shots, seconds, aspect, cost, submitted=False, lost=lost)
        world.tales.append(spec)
        return spec
    service.submit(
        submission,
        owner=owner,
        store=world.store,
        bus=world.bus,
        max_chars=world.settings.max_story_chars,
        tale_id=tale_id,
    )
    spec = TaleSpec(tale_id, owner, shots, seconds, aspect, cost)
    world.tales.append(spec)
    if cancel_at is not None:
        world.chaos.cancel_at[tale_id] = cancel_at
    if poison:  # a message no handler can read: retried, then dead-lettered
        world.chaos.count("poison message")
        world.bus.publish_raw(
            "shot.requested",
            b'{"tale_id": "' + tale_id.encode() + b'"}',
            {"tale_id": tale_id, "type": "shot.requested", "key": f"{tale_id}:poison"},
        )
    return spec


def submit_tales(world: ChaosWorld, count: int, users: list[str]) -> None:
    """``count`` tales of random owners, stories, shapes (1–4 shots of 4 s) and styles."""
    rnd, plan = world.chaos.random, world.chaos.plan
    for _ in range(count):
        owner = rnd.choice(users)
        tale_id = f"tale-{rnd.getrandbits(48):012x}"
        shots = rnd.randint(1, 4)
        submission = StorySubmission(
            text=rnd.choice(STORIES),
            style=rnd.choice(list(Style)),
            aspect_ratio=rnd.choice(ASPECTS),
            shot_count=shots,
            shot_seconds=SHOT_SECONDS,
        )
        # A crash-point visit over the tale's whole life (about 25 + 20 a shot of them).
        cancel_at = rnd.randint(1, 25 + 20 * shots) if rnd.random() < plan.cancel else None
        poison = rnd.random() < plan.poison
        submit_tale(world, owner, submission, tale_id=tale_id, cancel_at=cancel_at, poison=poison)


def revise_tales(world: ChaosWorld) -> int:
    """The owners revise a seeded fraction (``plan.revise``) of the tales that finished with a
    video, as ``POST /v1/tales/{id}/revisions`` does (admitted and charged per revision):
    one or two shots, some with a new prompt or narration. Returns how many started."""
    rnd, started = world.chaos.random, 0
    for spec in world.submitted():
        tale = world.store.find(spec.tale_id)
        if tale is None or "video" not in tale.outputs or rnd.random() >= world.chaos.plan.revise:
            continue
        numbers = rnd.sample(range(1, spec.shots + 1), k=min(spec.shots, rnd.randint(1, 2)))
        changes = tuple(
            ShotChange(
                n,
                prompt=f"revised shot {n}" if rnd.random() < 0.5 else None,
                narration=f"A new line for shot {n}." if rnd.random() < 0.3 else None,
            )
            for n in numbers
        )
        try:
            with world.chaos.outside():
                revised = revise_tale(
                    ReviseTale(spec.tale_id, spec.owner, changes),
                    store=world.store,
                    bus=world.bus,
                    claims=world.container.claims,
                    ledger=world.ledger,
                    settings=world.settings,
                )
        except (Refused, WrongState):
            world.chaos.count("revision refused")
            continue
        world.revisions.setdefault(spec.tale_id, []).append(
            RevisionSpec(revised.revision, revised.credits)
        )
        world.chaos.count("revision")
        started += 1
    return started


@contextmanager
def installed(container: Container) -> Iterator[None]:
    """Make ``container`` the process's container (the entry points use it), then restore."""
    previous = bootstrap._container
    bootstrap._container = container
    try:
        yield
    finally:
        bootstrap._container = previous


def drive(
    world: ChaosWorld,
    *,
    deadline_s: float = 300.0,
    kills: list[int] | None = None,
) -> None:
    """Run the runtime until the bus is idle or ``deadline_s`` passes. ``kills``: the
    ordinals (counted over the whole run) of the deliveries during which a runtime dies;
    after each, a new runtime starts on the same home and recovers."""
    pending = sorted(kills or [])
    start = time.monotonic()
    world.deadline_s = deadline_s
    with installed(world.container):
        while True:
            left = deadline_s - (time.monotonic() - start)
            kill_at = max(1, pending[0] - world.delivered) if pending else None
            runtime = ChaosRuntime(world.container, world.chaos, kill_at=kill_at)
            world.runtimes += 1
            try:
                with runtime:
                    idle = runtime.serve(timeout=max(0.001, left))
            except TimeoutError:
                world.deadline_hit = True
                idle = True
            world.delivered += runtime.stats.delivered
            world.dead_lettered += runtime.stats.dead_lettered
            if idle:
                break
            pending.pop(0)
    world.elapsed_s += time.monotonic() - start


def return_orphans_later(world: ChaosWorld) -> int:
    """The sweep once the orphans' grace period has passed (``ORPHAN_GRACE_S``): the credits
    reserved for tales the API never created are returned. How many were."""
    later = time.time() + ORPHAN_GRACE_S + 1
    returned = return_orphans(store=world.store, bus=world.bus, ledger=world.ledger, now=later)
    if returned:
        world.chaos.count("orphan returned", len(returned))
    return len(returned)


def outcome_of(world: ChaosWorld, spec: TaleSpec) -> str:
    if spec.lost:
        return "lost at submission"
    if not spec.submitted:
        return "refused (402)"
    tale = world.store.find(spec.tale_id)
    if tale is None:
        return "missing"
    if tale.error_stage and tale.state.value == "failed":
        return f"failed at {tale.error_stage}"
    return tale.state.value


def check(world: ChaosWorld) -> list[InvariantResult]:
    return [InvariantResult(i.name, i.title, tuple(i.check(world))) for i in INVARIANTS]


def reason_kind(reason: str) -> str:
    """A failure reason without its numbers and quoted details (for grouping)."""
    return re.sub(r"'[^']*'", "…", re.sub(r"\d+", "N", reason))[:160]


def report(world: ChaosWorld, seed: int) -> ChaosReport:
    outcomes = {spec.tale_id: outcome_of(world, spec) for spec in world.tales}
    failed = [world.store.find(spec.tale_id) for spec in world.submitted()]
    reasons = Counter(
        reason_kind(t.error_reason or "") for t in failed if t and t.state.value == "failed"
    )
    checking = time.monotonic()
    invariants = check(world)
    return ChaosReport(
        seed=seed,
        tales=len(world.tales),
        concurrency=world.settings.concurrency,
        outcomes=Counter(o.split(" at ")[0] for o in outcomes.values()),
        faults=Counter(world.chaos.counts),
        crash_points=Counter(world.chaos.crash_points),
        invariants=invariants,
        tale_outcomes=outcomes,
        failure_reasons=reasons,
        elapsed_s=world.elapsed_s,
        check_s=time.monotonic() - checking,
        deliveries=world.delivered,
        dead_lettered=world.dead_lettered,
        runtimes=world.runtimes,
        paid_starts=sum(world.videos.starts.values()),
    )


def run_chaos(
    tales: int,
    seed: int,
    home: Path,
    plan: FaultPlan,
    *,
    concurrency: int = 4,
    deadline_s: float = 300.0,
    store_factory: StoreFactory | None = None,
) -> ChaosReport:
    """Submit ``tales`` tales of many users under the faults of ``plan``, run them to the
    end (the runtime killed a seeded number of times, 1 to ``plan.restarts``, during seeded
    deliveries), check the invariants. ``home`` must be a new or empty folder.
    ``store_factory`` runs the same chaos on another tale store (the Firestore emulator's)."""
    if home.exists() and (not home.is_dir() or any(home.iterdir())):
        raise ValueError(f"{home} must be a new or empty folder")
    started = time.monotonic()
    chaos = Chaos(seed, plan)
    world = open_world(home, chaos, concurrency=concurrency, store_factory=store_factory)
    users = add_users(world, max(2, tales // 3))
    submit_tales(world, tales, users)
    estimate = sum(8 + 3 * t.shots for t in world.submitted()) or 1
    count = min(chaos.random.randint(1, plan.restarts), estimate - 1) if plan.restarts else 0
    kills = sorted(chaos.random.sample(range(1, estimate), count)) if count else []
    drive(world, deadline_s=deadline_s, kills=kills)
    if plan.revise and revise_tales(world):
        drive(world, deadline_s=max(1.0, deadline_s - (time.monotonic() - started)))
    return_orphans_later(world)
    world.elapsed_s = time.monotonic() - started
    return report(world, seed)
