"""Tale store port: a unit of work over one tale's aggregate, plus plain reads.

Every change goes through ``unit``: the adapter loads the tale and the shots asked for in one
transaction (Firestore transaction, SQLite ``BEGIN IMMEDIATE``, a lock in the fake), the
domain decides on the ``TaleAggregate``, and the adapter saves what changed before the
transaction ends. The operations below (transitions, shot claims, the fan-in, markers) are
written once, here, in terms of that; adapters implement only loading, saving and reads.

``around`` is an instrumentation hook (the chaos harness): every unit of work runs inside
``around("store.<operation>", key)``, so a crash can be injected before it loads or after it
saved, whatever the adapter.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterable
from contextlib import AbstractContextManager, nullcontext
from typing import TypeVar

from schemas.plan import StoryPlan
from schemas.story import StoryOptions, StorySubmission
from shared.domain import shots as shot_rules
from shared.domain.aggregate import FanIn, TaleAggregate
from shared.domain.music import MusicTrack
from shared.domain.tale import ShotRecord, TaleEvent, TaleRecord, TaleState

__all__ = ["ALL_SHOTS", "FanIn", "TaleStore"]

T = TypeVar("T")
ALL_SHOTS = None
"""``shots=ALL_SHOTS``: the unit of work loads every shot of the tale."""


class TaleStore(ABC):
    on_change: Callable[[TaleRecord], None] | None = None
    """Called with the tale after every unit of work that may change its user-facing fields,
    on repeated calls too, so a retried handler re-syncs a copy whose first write failed."""
    around: Callable[[str, str], AbstractContextManager[None]] | None = None

    # --- primitives: what an adapter implements ---------------------------------------------
    @abstractmethod
    def _run_unit(
        self,
        tale_id: str,
        shots: Collection[int] | None,
        decide: Callable[[TaleAggregate], T],
        with_plan: bool = False,
    ) -> T:
        """Load the tale and ``shots`` (``None``: all) — and the storyboard with
        ``with_plan`` — in one transaction, call ``decide`` on the aggregate, save what it
        changed (the plan too when ``plan_changed``), commit; ``decide``'s result. Raises
        ``TaleNotFound`` for an unknown tale. ``decide`` may be called again when the
        transaction is retried, so it must not have effects of its own."""

    @abstractmethod
    def _create(self, record: TaleRecord, submission: StorySubmission) -> bool: ...

    @abstractmethod
    def _save_plan(self, tale_id: str, plan: StoryPlan) -> StoryPlan: ...

    @abstractmethod
    def find(self, tale_id: str) -> TaleRecord | None: ...

    @abstractmethod
    def list_tales(
        self,
        *,
        owner: str | None = None,
        states: Iterable[TaleState] | None = None,
        limit: int = 100,
    ) -> list[TaleRecord]:
        """Newest first."""

    @abstractmethod
    def submission(self, tale_id: str) -> StorySubmission:
        """The submission, its story text unsealed (a key unwrap: KMS on GCP)."""

    @abstractmethod
    def options(self, tale_id: str) -> StoryOptions:
        """The submission's options alone: read without unsealing the story."""

    @abstractmethod
    def plan(self, tale_id: str) -> StoryPlan | None: ...

    @abstractmethod
    def record_character(self, tale_id: str, name: str, image_path: str) -> None: ...

    @abstractmethod
    def characters(self, tale_id: str) -> dict[str, str]:
        """Character name → blob path of its reference image."""

    @abstractmethod
    def shots(self, tale_id: str) -> list[ShotRecord]: ...

    @abstractmethod
    def shot(self, tale_id: str, index: int) -> ShotRecord | None:
        """One shot (one document read, where ``shots`` reads them all)."""

    @abstractmethod
    def log(self, tale_id: str, stage: str, message: str, level: str = "info") -> None: ...

    @abstractmethod
    def events(self, tale_id: str) -> list[TaleEvent]: ...

    # --- the unit of work ------------------------------------------------------------------
    def unit(
        self,
        op: str,
        key: str,
        tale_id: str,
        decide: Callable[[TaleAggregate], T],
        *,
        shots: Collection[int] | None = (),
        mirror: bool = False,
        with_plan: bool = False,
    ) -> T:
        """Run ``decide`` on the tale's aggregate in one transaction (see the module doc)."""
        with self.around(f"store.{op}", key) if self.around else nullcontext():
            result = self._run_unit(tale_id, shots, decide, with_plan)
        if mirror:
            self._mirror(tale_id)
        return result

    def _mirror(self, tale_id: str) -> None:
        if self.on_change is not None:
            tale = self.find(tale_id)
            if tale is not None:
                self.on_change(tale)

    # --- tales -------------------------------------------------------------------------------
    def create(self, record: TaleRecord, submission: StorySubmission) -> bool:
        """Store a new tale; False (and no change) if the id exists already."""
        with self.around("store.create", record.tale_id) if self.around else nullcontext():
            created = self._create(record, submission)
        self._mirror(record.tale_id)
        return created

    def transition(
        self,
        tale_id: str,
        sources: Iterable[TaleState],
        target: TaleState,
        *,
        stage: str,
        error_reason: str | None = None,
    ) -> bool:
        """Compare-and-set: move to ``target`` only if the state is one of ``sources``.

        True when this call made the change. Raises ``IllegalTransition`` when the state
        machine forbids source → target, ``TaleNotFound`` for an unknown id. Moving to failed
        records ``stage`` as the failing stage and ``error_reason``.
        """
        allowed = frozenset(sources)
        return self.unit(
            "transition",
            f"{tale_id}:{target}",
            tale_id,
            lambda agg: agg.transition(allowed, target, stage=stage, error_reason=error_reason),
            mirror=True,
        )

    def update(
        self,
        tale_id: str,
        *,
        stage: str | None = None,
        progress: int | None = None,
        title: str | None = None,
        outputs: dict[str, str] | None = None,
    ) -> None:
        """Change non-state fields; progress never goes backwards; outputs are merged."""
        self.unit(
            "update",
            tale_id,
            tale_id,
            lambda agg: agg.update(stage=stage, progress_=progress, title=title, outputs=outputs),
            mirror=True,
        )

    def save_plan(self, tale_id: str, plan: StoryPlan) -> StoryPlan:
        """First writer wins: returns the stored plan (an earlier one if it exists); sets the
        tale's shot count and language from the plan that wins."""
        with self.around("store.save_plan", tale_id) if self.around else nullcontext():
            return self._save_plan(tale_id, plan)

    def replace_plan(self, tale_id: str, plan: StoryPlan, expected_version: int) -> int:
        """Replace the storyboard edited from ``expected_version`` (compare-and-set on the
        tale's ``plan_version``); the new version. Raises ``PlanVersionMismatch``."""
        return self.unit(
            "replace_plan",
            tale_id,
            tale_id,
            lambda agg: agg.replace_plan(plan, expected_version),
            mirror=True,
            with_plan=True,
        )

    def start_revision(
        self,
        tale_id: str,
        indexes: list[int],
        *,
        plan: StoryPlan | None = None,
        renarrated: frozenset[int] = frozenset(),
    ) -> int:
        """Start the next revision (``TaleAggregate.start_revision``), with the storyboard
        ``plan`` edited for it, in one unit of work; the revision number."""

        def decide(agg: TaleAggregate) -> int:
            if plan is not None:
                agg.replace_plan(plan, agg.tale.plan_version)
            return agg.start_revision(indexes, set(renarrated))

        return self.unit(
            "start_revision",
            tale_id,
            tale_id,
            decide,
            shots=ALL_SHOTS,
            mirror=True,
            with_plan=plan is not None,
        )

    def set_music(self, tale_id: str, track: MusicTrack | None) -> MusicTrack | None:
        """Record the tale's background music (None: remove it) if its state allows
        (``TaleAggregate.set_music``, else ``MusicLocked``); the track it replaced."""
        return self.unit("set_music", tale_id, tale_id, lambda agg: agg.set_music(track))

    # --- markers (in the tale aggregate; names from ``shared.domain.markers``) ---------------
    def claim(self, tale_id: str, name: str, claimant: str) -> str:
        """Claim the tale's ``name`` for ``claimant`` unless someone holds it; the holder."""
        return self.unit("claim", name, tale_id, lambda agg: agg.claim(name, claimant))

    def mark(self, tale_id: str, name: str) -> bool:
        """Record the tale's one-time marker ``name``; True the first time."""
        return self.unit("mark", name, tale_id, lambda agg: agg.mark(name))

    def marked(self, tale_id: str, name: str) -> bool:
        tale = self.find(tale_id)
        return tale is not None and name in tale.markers

    def next_retry_round(self, tale_id: str) -> int:
        """Count an operator's retry of the tale; its round number (1, 2, …)."""
        return self.unit("retry_round", tale_id, tale_id, lambda agg: agg.next_retry_round())

    # --- shots -------------------------------------------------------------------------------
    def init_shots(self, tale_id: str, count: int, *, voices: bool = False) -> None:
        """Create pending shot records 0..count-1 (attempt 1); existing ones are kept.
        ``voices``: the fan-in also waits for every shot's narration."""
        self.unit(
            "init_shots",
            tale_id,
            tale_id,
            lambda agg: agg.add_shots(count, voices=voices),
            shots=range(count),
        )

    def record_voice(self, tale_id: str, index: int, voice_path: str) -> None:
        """Record shot ``index``'s voiced narration (``""``: nothing to voice), once."""
        self._shot_op(
            "record_voice",
            tale_id,
            index,
            0,
            lambda s, now: shot_rules.voice(s, voice_path, now),
            must_exist=True,
        )

    def claim_shot(
        self,
        tale_id: str,
        index: int,
        attempt: int,
        *,
        claimant: str = "",
        lease_s: float | None = None,
    ) -> tuple[ShotRecord, bool]:
        """Claim a shot attempt before any paid call (``shared.domain.shots.claim``).

        Returns the record and whether *this* call made the claim, recording ``claimant``
        (the message id) on it. An attempt other than the shot's current one returns the
        current record and False.
        """

        def decide(agg: TaleAggregate) -> tuple[ShotRecord, bool]:
            current = agg.shot(index)
            claimed = agg.put_shot(shot_rules.claim(current, attempt, claimant, agg.now, lease_s))
            return (claimed, True) if claimed is not None else (current, False)

        return self.unit(
            "claim_shot", f"{tale_id}:{index}:{attempt}", tale_id, decide, shots=(index,)
        )

    def _shot_op(
        self,
        op: str,
        tale_id: str,
        index: int,
        attempt: int,
        change: Callable[[ShotRecord, float], ShotRecord | None],
        *,
        must_exist: bool = False,
    ) -> ShotRecord | None:
        """Apply a shot rule to the loaded shot; the shot afterwards (a missing shot is left
        alone, or raises ``TaleNotFound`` with ``must_exist``)."""

        def decide(agg: TaleAggregate) -> ShotRecord | None:
            current = agg.shots.get(index)
            if current is None:
                if must_exist:
                    agg.shot(index)
                return None
            agg.put_shot(change(current, agg.now))
            return agg.shots[index]

        return self.unit(op, f"{tale_id}:{index}:{attempt}", tale_id, decide, shots=(index,))

    def take_over_shot(
        self, tale_id: str, index: int, attempt: int, holder: str, claimant: str
    ) -> bool:
        """Move an unstarted claim from ``holder`` to ``claimant``; True when this call did
        (``shared.domain.shots.take_over``)."""

        def decide(agg: TaleAggregate) -> bool:
            current = agg.shot(index)
            return (
                agg.put_shot(shot_rules.take_over(current, attempt, holder, claimant, agg.now))
                is not None
            )

        return self.unit(
            "take_over_shot", f"{tale_id}:{index}:{attempt}", tale_id, decide, shots=(index,)
        )

    def release_claim(self, tale_id: str, index: int, attempt: int, claimant: str) -> None:
        """Undo an unstarted claim held by ``claimant``: the provider answered with an error,
        so nothing was started and the attempt may be tried again."""
        self._shot_op(
            "release_claim",
            tale_id,
            index,
            attempt,
            lambda s, now: shot_rules.release(s, attempt, claimant, now),
        )

    def mark_shot_started(self, tale_id: str, index: int, attempt: int, operation_id: str) -> None:
        """Record the provider's operation id right after it exists (counts ``starts``)."""
        self._shot_op(
            "mark_shot_started",
            tale_id,
            index,
            attempt,
            lambda s, now: shot_rules.start(s, attempt, operation_id, now),
        )

    def finish_shot(self, tale_id: str, index: int, attempt: int, clip_path: str) -> None:
        self._shot_op(
            "finish_shot",
            tale_id,
            index,
            attempt,
            lambda s, now: shot_rules.finish(s, attempt, clip_path, now),
        )

    def fail_shot(self, tale_id: str, index: int, attempt: int, error: str) -> None:
        self._shot_op(
            "fail_shot",
            tale_id,
            index,
            attempt,
            lambda s, now: shot_rules.fail(s, attempt, error, now),
        )

    def retry_shot(self, tale_id: str, index: int, attempt: int) -> int:
        """Start a new attempt if ``attempt`` is still current; return the current attempt."""
        shot = self._shot_op(
            "retry_shot",
            tale_id,
            index,
            attempt,
            lambda s, now: shot_rules.retry(s, attempt, now),
            must_exist=True,
        )
        assert shot is not None
        return shot.attempt

    def fan_in(self, tale_id: str, index: int, attempt: int, key: str) -> FanIn:
        """Count the rendered shots; when all are rendered and the tale is rendering, move it
        to stitching and remember ``key`` as the fan-in key — in one unit of work that reads
        one document (the tale keeps the count)."""
        return self.unit("fan_in", key, tale_id, lambda agg: agg.fan_in(key), mirror=True)
