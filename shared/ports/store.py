"""Tale store port: execution state of every tale, its shots, claims and event log.

Every mutating method is atomic (one transaction) so that concurrent, redelivered handlers
cannot double-apply an effect. The GCP adapter implements each with a Firestore transaction,
the local one with a SQLite ``BEGIN IMMEDIATE`` transaction.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass

from schemas.plan import StoryPlan
from schemas.story import StorySubmission
from shared.domain.tale import ShotRecord, TaleEvent, TaleRecord, TaleState


@dataclass(frozen=True)
class FanIn:
    """Result of recording one shot's completion."""

    rendered: int
    total: int
    fan_in_key: str | None
    """The logical key of the completion that moved the tale to stitching, once set."""


class TaleStore(ABC):
    # --- tales -------------------------------------------------------------------------
    @abstractmethod
    def create(self, record: TaleRecord, submission: StorySubmission) -> bool:
        """Store a new tale; False (and no change) if the id exists already."""

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
    def submission(self, tale_id: str) -> StorySubmission: ...

    @abstractmethod
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

        Returns True when this call made the change. Raises ``IllegalTransition`` when the
        state machine forbids source → target, ``TaleNotFound`` for an unknown id.
        Moving to failed records ``stage`` as the failing stage and ``error_reason``.
        """

    @abstractmethod
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

    # --- plan and characters -------------------------------------------------------------
    @abstractmethod
    def save_plan(self, tale_id: str, plan: StoryPlan) -> StoryPlan:
        """First writer wins: returns the stored plan (an earlier one if it exists)."""

    @abstractmethod
    def plan(self, tale_id: str) -> StoryPlan | None: ...

    @abstractmethod
    def record_character(self, tale_id: str, name: str, image_path: str) -> None: ...

    @abstractmethod
    def characters(self, tale_id: str) -> dict[str, str]:
        """Character name → blob path of its reference image."""

    # --- shots ---------------------------------------------------------------------------
    @abstractmethod
    def init_shots(self, tale_id: str, count: int) -> None:
        """Create pending shot records 0..count-1 (attempt 1); existing ones are kept."""

    @abstractmethod
    def shots(self, tale_id: str) -> list[ShotRecord]: ...

    @abstractmethod
    def shot(self, tale_id: str, index: int) -> ShotRecord | None:
        """One shot (one document read, where ``shots`` reads them all)."""

    @abstractmethod
    def claim_shot(
        self,
        tale_id: str,
        index: int,
        attempt: int,
        *,
        claimant: str = "",
        lease_s: float | None = None,
    ) -> tuple[ShotRecord, bool]:
        """Claim a shot attempt before any paid call.

        Returns the record and whether *this* call made the claim (pending → claimed), recording
        ``claimant`` (the message id) on it. A claim
        that never recorded an operation id may be taken over after ``lease_s`` seconds (its
        holder is presumed dead); ``None`` never takes over (a paid call may be in flight).
        An attempt other than the shot's current one returns the current record and False.
        """

    @abstractmethod
    def release_claim(self, tale_id: str, index: int, attempt: int, claimant: str) -> None:
        """Undo an unstarted claim held by ``claimant``: the provider answered with an error,
        so nothing was started and the attempt may be tried again."""

    @abstractmethod
    def mark_shot_started(self, tale_id: str, index: int, attempt: int, operation_id: str) -> None:
        """Record the provider's operation id right after it exists (counts ``starts``)."""

    @abstractmethod
    def finish_shot(self, tale_id: str, index: int, attempt: int, clip_path: str) -> None: ...

    @abstractmethod
    def fail_shot(self, tale_id: str, index: int, attempt: int, error: str) -> None: ...

    @abstractmethod
    def retry_shot(self, tale_id: str, index: int, attempt: int) -> int:
        """Start a new attempt if ``attempt`` is still current; return the current attempt."""

    @abstractmethod
    def fan_in(self, tale_id: str, index: int, attempt: int, key: str) -> FanIn:
        """Count rendered shots; when all are rendered and the tale is rendering, move it to
        stitching and remember ``key`` as the fan-in key — all in one transaction."""

    # --- event log -----------------------------------------------------------------------
    @abstractmethod
    def log(self, tale_id: str, stage: str, message: str, level: str = "info") -> None: ...

    @abstractmethod
    def events(self, tale_id: str) -> list[TaleEvent]: ...

    @abstractmethod
    def claim_once(self, key: str) -> bool:
        """Record a one-time marker (e.g. ``notified:<tale>:<outcome>``); True the first time."""

    @abstractmethod
    def claim(self, key: str, claimant: str) -> str:
        """Claim a piece of work for ``claimant`` (a message id) unless someone holds it;
        return the holder. A duplicate message sees another holder and can drop itself (the
        holder's own delivery stays outstanding until it finishes); a redelivery of the
        holder's message sees itself and redoes the work."""

    @abstractmethod
    def bump(self, key: str) -> int:
        """Atomically add one to the counter ``key`` and return its new value (rate limits:
        the key names its time window)."""

    @abstractmethod
    def marked(self, key: str) -> bool:
        """Whether ``claim_once(key)`` has happened."""
