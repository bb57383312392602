"""Application services used by the CLI (and, later, the HTTP API): submit, approve, cancel."""

from __future__ import annotations

import secrets
import time

from schemas.events import CharactersRequested, TaleFinished, TaleSubmitted
from schemas.story import StorySubmission
from shared.domain.errors import IllegalTransition, InvalidStory, TaleNotFound
from shared.domain.tale import TERMINAL, TaleRecord, TaleState
from shared.ports.bus import EventBus
from shared.ports.store import TaleStore


def new_tale_id() -> str:
    return f"tale-{secrets.token_hex(5)}"


def check_submission(submission: StorySubmission, max_chars: int) -> None:
    if len(submission.text) > max_chars:
        raise InvalidStory(
            f"the story has {len(submission.text):,} characters; the limit is {max_chars:,}"
        )


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
    store.create(
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
        raise IllegalTransition(f"tale {tale_id} is {tale.state}, not awaiting approval")
    if moved or not store.shots(tale_id):
        bus.publish(CharactersRequested(tale_id=tale_id))


def cancel(tale_id: str, *, store: TaleStore, bus: EventBus) -> None:
    tale = store.find(tale_id)
    if tale is None:
        raise TaleNotFound(tale_id)
    sources = [s for s in TaleState if s not in TERMINAL]
    if not store.transition(tale_id, sources, TaleState.CANCELLED, stage="cancelled"):
        raise IllegalTransition(f"tale {tale_id} is already {tale.state}")
    bus.publish(TaleFinished(tale_id=tale_id, outcome="cancelled"))
