"""The tale state machine, its records and how progress is computed."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from shared.domain.errors import IllegalTransition
from shared.domain.music import MusicTrack


class TaleState(StrEnum):
    SUBMITTED = "submitted"
    PLANNING = "planning"
    AWAITING_APPROVAL = "awaiting_approval"
    RENDERING = "rendering"
    STITCHING = "stitching"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL


TERMINAL = frozenset({TaleState.COMPLETED, TaleState.FAILED, TaleState.CANCELLED})

_FORWARD: dict[TaleState, frozenset[TaleState]] = {
    TaleState.SUBMITTED: frozenset({TaleState.PLANNING}),
    TaleState.PLANNING: frozenset({TaleState.AWAITING_APPROVAL, TaleState.RENDERING}),
    TaleState.AWAITING_APPROVAL: frozenset({TaleState.RENDERING}),
    TaleState.RENDERING: frozenset({TaleState.STITCHING}),
    TaleState.STITCHING: frozenset({TaleState.COMPLETED}),
}


#: A tale with a finished cut may be revised: chosen shots render again and it is
#: re-stitched (``shared.domain.aggregate.TaleAggregate.start_revision``), the one way out of
#: a terminal state besides an operator's retry.
REVISABLE = frozenset({TaleState.COMPLETED, TaleState.FAILED, TaleState.CANCELLED})

#: An operator may retry a failed tale from its last good stage (``tale retry``).
RETRY_TARGETS = frozenset({TaleState.PLANNING, TaleState.RENDERING, TaleState.STITCHING})

#: States before the first cut is stitched: a track set now is mixed into it.
BEFORE_STITCHING = frozenset(
    {TaleState.SUBMITTED, TaleState.PLANNING, TaleState.AWAITING_APPROVAL, TaleState.RENDERING}
)


def allowed(source: TaleState, target: TaleState) -> bool:
    """Forward along the pipeline, to failed / cancelled from any non-terminal state, or
    from failed back to the stage a retry resumes."""
    if source is TaleState.FAILED:
        return target in RETRY_TARGETS
    if source.terminal:
        return False
    if target in (TaleState.FAILED, TaleState.CANCELLED):
        return True
    return target in _FORWARD.get(source, frozenset())


def check_transition(source: TaleState, target: TaleState) -> None:
    if not allowed(source, target):
        raise IllegalTransition(f"a tale cannot go from {source} to {target}")


def music_may_change(state: TaleState, has_video: bool) -> bool:
    """Whether a tale's music may be set or removed now: before its cut is stitched (it is
    mixed in then), or once it has a finished video that a revision could re-stitch with it.
    Never while stitching (the cut being made reads it), nor in a tale that failed or was
    cancelled before it had a video (nothing will be stitched again)."""
    return state in BEFORE_STITCHING or (state in REVISABLE and has_video)


# Progress at the start of each state; rendering spans 15..90 by finished work.
_BASE_PROGRESS = {
    TaleState.SUBMITTED: 0,
    TaleState.PLANNING: 5,
    TaleState.AWAITING_APPROVAL: 10,
    TaleState.RENDERING: 15,
    TaleState.STITCHING: 90,
    TaleState.COMPLETED: 100,
}
_CHARACTER_SHARE = 5
_SHOT_SHARE = 70


def progress(
    state: TaleState,
    *,
    characters_done: bool = False,
    shots_done: int = 0,
    shot_count: int = 0,
    previous: int = 0,
) -> int:
    """Progress in percent, never going backwards (a failed tale keeps what it reached)."""
    if state in (TaleState.FAILED, TaleState.CANCELLED):
        return previous
    value = _BASE_PROGRESS[state]
    if state is TaleState.RENDERING:
        value += _CHARACTER_SHARE if characters_done else 0
        if shot_count:
            value += (_SHOT_SHARE * shots_done) // shot_count
    return max(value, previous)


@dataclass
class TaleRecord:
    """What the tale store keeps about one tale (the submission is stored beside it)."""

    tale_id: str
    owner: str
    state: TaleState
    stage: str
    progress: int
    title: str = ""
    language: str = "en"
    shot_count: int = 0
    error_stage: str | None = None
    error_reason: str | None = None
    outputs: dict[str, str] = field(default_factory=dict)
    fan_in_key: str | None = None
    created_at: float = 0.0
    updated_at: float = 0.0
    rendered: int = 0
    """How many of its shots are rendered (kept by the aggregate: the fan-in reads one
    document, not every shot)."""
    markers: dict[str, str] = field(default_factory=dict)
    """The tale's claims and one-time markers (``shared.domain.markers``): name → holder."""
    retries: int = 0
    """How many times an operator retried the failed tale."""
    voiced: int = 0
    """How many of its shots have their narration voiced (or nothing to voice)."""
    voices_expected: bool = False
    """The fan-in waits for every shot's narration too (set when narration is requested)."""
    revision: int = 0
    """0 for the first cut; n while (and after) the n-th revision renders."""
    plan_version: int = 0
    """0 before planning; 1 for the planned storyboard; one more for each accepted edit (the
    storyboard's ``ETag``)."""
    music: MusicTrack | None = None
    """The owner's background music (``shared.domain.music``); None: no music."""


class ShotStatus(StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"
    STARTED = "started"
    RENDERED = "rendered"
    FAILED = "failed"


@dataclass
class ShotRecord:
    """One shot's current attempt: its claim, the provider operation and the finished clip."""

    tale_id: str
    index: int
    attempt: int
    status: ShotStatus
    operation_id: str | None = None
    clip_path: str | None = None
    error: str | None = None
    starts: int = 0
    updated_at: float = 0.0
    claimant: str | None = None
    """Message id of the delivery that holds the claim (a redelivery keeps the message id)."""
    claimed_at: float | None = None
    voice_path: str | None = None
    """Blob path of the shot's voiced narration (WAV); ``""`` when there is nothing to voice;
    ``None`` until voiced. Kept across attempts: the picture and the voice are independent."""


@dataclass(frozen=True)
class TaleEvent:
    """One line of a tale's event log (what the owner and operators read)."""

    tale_id: str
    at: float
    stage: str
    message: str
    level: str = "info"
