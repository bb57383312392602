"""Application services used by the CLI (and, later, the HTTP API): submit, approve, cancel."""

from __future__ import annotations

import secrets
import time

from schemas.events import (
    CharactersRequested,
    NarrationRequested,
    ShotRequested,
    StitchRequested,
    TaleFinished,
    TaleSubmitted,
)
from schemas.story import StorySubmission
from shared.config import Settings
from shared.domain import markers
from shared.domain.errors import InvalidStory, TaleNotFound, UnsupportedRequest, WrongState
from shared.domain.shots import MAX_SHOT_ATTEMPTS
from shared.domain.tale import TERMINAL, ShotRecord, ShotStatus, TaleRecord, TaleState
from shared.observability.events import tale_started
from shared.ports.bus import EventBus
from shared.ports.store import TaleStore


def new_tale_id() -> str:
    return f"tale-{secrets.token_hex(5)}"


def check_submission(submission: StorySubmission, max_chars: int) -> None:
    if len(submission.text) > max_chars:
        raise InvalidStory(
            f"the story has {len(submission.text):,} characters; the limit is {max_chars:,}"
        )


def check_renderable(submission: StorySubmission, settings: Settings) -> None:
    """``UnsupportedRequest`` (with what is supported) when the scenario's video model cannot
    render the submission's aspect ratio or shot length: refused before anything is paid."""
    from shared.providers.capabilities import check_renderable as renderable

    refused = renderable(settings, submission.aspect_ratio, submission.shot_seconds)
    if refused is not None:
        raise UnsupportedRequest(
            refused.reason, refused.supported_aspect_ratios, refused.supported_seconds
        )


def check_voice(submission: StorySubmission, settings: Settings) -> None:
    """``UnknownVoice`` (with the voices offered) when ``options.voice`` is not one of the
    scenario's voices for the story's language (empty and ``none`` always pass)."""
    from shared.providers.voice_options import check_voice as offered

    offered(settings, submission.resolved_language(), submission.options.voice)


def submit(
    submission: StorySubmission,
    *,
    owner: str,
    store: TaleStore,
    bus: EventBus,
    max_chars: int,
    tale_id: str | None = None,
) -> TaleRecord:
    """Create the tale and publish ``tale.submitted``. Idempotent on ``tale_id``."""
    check_submission(submission, max_chars)
    tale_id = tale_id or new_tale_id()
    now = time.time()
    created = store.create(
        TaleRecord(
            tale_id=tale_id,
            owner=owner,
            state=TaleState.SUBMITTED,
            stage="submitted",
            progress=0,
            language=submission.resolved_language(),
            shot_count=submission.shot_count,
            created_at=now,
            updated_at=now,
        ),
        submission,
    )
    if created:
        tale_started(tale_id, owner, submission.shot_count)  # a structured log record
    tale = store.find(tale_id)
    assert tale is not None
    if tale.state is TaleState.SUBMITTED:
        store.log(
            tale_id,
            "submitted",
            f"{len(submission.text):,} characters, "
            f"{submission.shot_count} shots × {submission.shot_seconds} s, "
            f"{submission.aspect_ratio}, {submission.style.value}",
        )
        bus.publish(TaleSubmitted(tale_id=tale_id))
    return tale


def approve(tale_id: str, *, store: TaleStore, bus: EventBus) -> None:
    """Approve the storyboard of a tale waiting for it (a repeated approval is harmless)."""
    tale = store.find(tale_id)
    if tale is None:
        raise TaleNotFound(tale_id)
    moved = store.transition(
        tale_id, {TaleState.AWAITING_APPROVAL}, TaleState.RENDERING, stage="characters"
    )
    if not moved and tale.state is not TaleState.RENDERING:
        raise WrongState(f"tale {tale_id} is {tale.state}, not awaiting approval")
    if moved or not store.shots(tale_id):
        bus.publish(CharactersRequested(tale_id=tale_id))


def regenerate_shot(tale_id: str, index: int, *, store: TaleStore, bus: EventBus) -> int:
    """Render shot ``index`` of a rendering tale again (a new attempt, at no extra charge, up
    to ``MAX_SHOT_ATTEMPTS`` attempts a shot); the attempt requested. Raises ``TaleNotFound``
    for an unknown tale or shot, ``WrongState`` when the tale is not rendering or the shot
    has used its attempts."""
    tale = store.find(tale_id)
    if tale is None or not 0 <= index < tale.shot_count:
        raise TaleNotFound(f"{tale_id} shot {index + 1}")
    if tale.state is not TaleState.RENDERING:
        raise WrongState(
            f"tale {tale_id} is {tale.state}; shots can be regenerated while it is rendering"
        )
    shot = store.shot(tale_id, index)
    if shot is None:
        raise TaleNotFound(f"{tale_id} shot {index + 1}")
    if shot.attempt >= MAX_SHOT_ATTEMPTS:
        raise WrongState(f"shot {index + 1} was already rendered {shot.attempt} times")
    attempt = store.retry_shot(tale_id, index, shot.attempt)
    bus.publish(ShotRequested(tale_id=tale_id, shot_index=index, attempt=attempt))
    return attempt


def cancel(tale_id: str, *, store: TaleStore, bus: EventBus) -> None:
    tale = store.find(tale_id)
    if tale is None:
        raise TaleNotFound(tale_id)
    sources = [s for s in TaleState if s not in TERMINAL]
    announcement = TaleFinished(tale_id=tale_id, outcome="cancelled", revision=tale.revision)
    if not store.transition(tale_id, sources, TaleState.CANCELLED, stage="cancelled"):
        current = store.find(tale_id)
        # A retried cancel whose first call died before announcing: announce now.
        if (
            current is None
            or current.state is not TaleState.CANCELLED
            or store.marked(tale_id, markers.notified(announcement.key))
        ):
            raise WrongState(f"tale {tale_id} is already {tale.state}")
    bus.publish(announcement)


def _resume_point(
    tale: TaleRecord, shots: list[ShotRecord], planned: bool
) -> tuple[TaleState, str]:
    """Where a retried tale resumes: its last good stage."""
    if not planned:
        return TaleState.PLANNING, "planning"
    if not shots:
        return TaleState.RENDERING, "characters"
    if all(
        s.status is ShotStatus.RENDERED and (s.voice_path is not None or not tale.voices_expected)
        for s in shots
    ):
        return TaleState.STITCHING, "stitching"
    return TaleState.RENDERING, "shots"


def retry(tale_id: str, *, store: TaleStore, bus: EventBus) -> TaleState:
    """Resume a failed tale from its last good stage (an operator's decision; the tale was
    refunded when it failed and is not charged again). Returns the stage it resumes at."""
    tale = store.find(tale_id)
    if tale is None:
        raise TaleNotFound(tale_id)
    if tale.state is not TaleState.FAILED:
        raise WrongState(f"tale {tale_id} is {tale.state}; only failed tales are retried")
    round_ = store.next_retry_round(tale_id)
    planned = store.plan(tale_id) is not None
    shots = store.shots(tale_id) if planned else []
    target, stage = _resume_point(tale, shots, planned)
    if not store.transition(tale_id, {TaleState.FAILED}, target, stage=stage):
        raise WrongState(f"tale {tale_id} changed while it was being retried")
    store.log(tale_id, stage, f"retried by an operator (round {round_}) from {stage}")
    if target is TaleState.PLANNING:
        bus.publish(TaleSubmitted(tale_id=tale_id, round=round_))
    elif target is TaleState.STITCHING:
        bus.publish(StitchRequested(tale_id=tale_id, round=round_, revision=tale.revision))
    elif not shots:
        bus.publish(CharactersRequested(tale_id=tale_id, round=round_))
    else:
        for shot in shots:
            if shot.status is not ShotStatus.RENDERED:
                attempt = store.retry_shot(tale_id, shot.index, shot.attempt)
                bus.publish(ShotRequested(tale_id=tale_id, shot_index=shot.index, attempt=attempt))
            if shot.voice_path is None and tale.voices_expected:
                bus.publish(
                    NarrationRequested(
                        tale_id=tale_id, shot_index=shot.index, revision=tale.revision
                    )
                )
    return target


DEFAULT_DEADLINES_S = {"submitted": 600, "planning": 900, "rendering": 3600, "stitching": 1200}


def sweep(
    *, store: TaleStore, bus: EventBus, now: float, deadlines_s: dict[str, int] | None = None
) -> list[tuple[str, str]]:
    """Fail tales that made no progress within their stage's deadline (they are refunded and
    their owners told); returns (tale id, state) of each. Safe to run often and twice."""
    from shared.stages.failure import fail_tale

    limits = deadlines_s or DEFAULT_DEADLINES_S
    stuck = []
    states = [TaleState(s) for s in limits]
    for tale in store.list_tales(states=states, limit=1000):
        limit = limits[tale.state.value]
        if now - tale.updated_at > limit:
            fail_tale(
                store,
                bus,
                tale.tale_id,
                tale.stage,
                f"no progress for {int(now - tale.updated_at) // 60} min "
                f"(the {tale.state} deadline is {limit // 60} min)",
            )
            stuck.append((tale.tale_id, tale.state.value))
    return stuck
