"""Revise a finished tale: render chosen shots again (optionally with new narration, prompt or
camera) and re-stitch, keeping every earlier cut.

1. the tale is the owner's and has a finished video (``WrongState`` otherwise), and has not
   used its revisions (``TooManyRevisions``, the setting ``max_revisions``);
2. the shots are checked against the storyboard (``InvalidRevision``) and the edited
   storyboard is validated with the planned storyboard's rules;
3. the revision is **admitted** by the ledger under its own key (``ledger_key``: the tale and
   the revision number): only the re-rendered seconds are charged, with the running-tale
   limit and the spending cap checked in the same transaction;
4. one unit of work starts the revision (``TaleStore.start_revision``): the shots get new
   attempts, re-narrated shots lose their voice, the fan-in starts over, the tale renders;
5. ``shot.requested`` (and ``narration.requested`` for re-narrated shots) are published with
   the revision's own logical keys.
A retried request finds the revision started (``WrongState``), or, with the same
``Idempotency-Key``, the same revision. A failed or cancelled revision is refunded by
``settle_credits``, which settles or refunds each revision on its own key.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import ValidationError

from schemas.events import NarrationRequested, ShotRequested
from schemas.plan import Camera, StoryPlan
from shared.config import Settings
from shared.costs import budget
from shared.domain.credits import SECONDS_PER_CREDIT, ledger_key, period_of
from shared.domain.errors import (
    InvalidRevision,
    TaleNotFound,
    TooManyRevisions,
    WrongState,
)
from shared.domain.reading import budget_of, reading_seconds
from shared.domain.tale import REVISABLE, TaleRecord
from shared.observability.events import credits_changed
from shared.ports import claims as keys
from shared.ports.bus import EventBus
from shared.ports.claims import Claims
from shared.ports.ledger import Ledger
from shared.ports.store import TaleStore


@dataclass(frozen=True)
class ShotChange:
    """One shot to render again (``number`` counts from 1), with what changes, if anything."""

    number: int
    narration: str | None = None
    prompt: str | None = None
    camera: Camera | None = None


@dataclass(frozen=True)
class ReviseTale:
    tale_id: str
    owner: str
    shots: tuple[ShotChange, ...]
    idempotency_key: str | None = None
    charge: bool = True
    """False for an operator's revision of an uncharged tale (``tale revise``)."""


@dataclass(frozen=True)
class Revised:
    tale: TaleRecord
    revision: int
    credits: int


def revise_tale(
    command: ReviseTale,
    *,
    store: TaleStore,
    bus: EventBus,
    claims: Claims,
    ledger: Ledger,
    settings: Settings,
    clock: Callable[[], float] = time.time,
) -> Revised:
    tale = store.find(command.tale_id)
    if tale is None or tale.owner != command.owner:
        raise TaleNotFound(command.tale_id)
    revision = _revision_number(command, tale, claims)
    if tale.revision >= revision:  # this request's revision started already (a retry)
        return Revised(tale, revision, 0)
    _check_revisable(tale, settings)
    plan = store.plan(tale.tale_id)
    if plan is None:
        raise WrongState(f"tale {tale.tale_id} has no storyboard")
    indexes, edited, renarrated = _apply(plan, command.shots)
    seconds = sum(plan.shots[i].duration_s for i in indexes)
    credits = max(1, math.ceil(seconds / SECONDS_PER_CREDIT))
    now = clock()
    key = ledger_key(tale.tale_id, revision)
    voice = store.options(tale.tale_id).voice
    expected = budget.estimate_revision(settings, edited, indexes, renarrated, voice)
    admitted = command.charge and ledger.admit(
        command.owner,
        key,
        credits=credits,
        estimate_usd=expected.usd,
        period=period_of(now),
        cap_usd=budget.cap_of(settings, command.owner),
        max_running=settings.api_max_running_tales,
    )
    if admitted:
        credits_changed("credits.reserved", key, credits)
    try:
        started = store.start_revision(
            tale.tale_id,
            indexes,
            plan=edited if edited != plan else None,
            renarrated=frozenset(renarrated),
        )
    except Exception:
        if admitted and ledger.refund(key):  # nothing started: the reservation goes back
            credits_changed("credits.refunded", key)
        raise
    _publish(bus, tale.tale_id, started, store, indexes, renarrated)
    revised = store.find(tale.tale_id)
    assert revised is not None
    return Revised(revised, started, credits if command.charge else 0)


def _revision_number(command: ReviseTale, tale: TaleRecord, claims: Claims) -> int:
    """The next revision, or the one an earlier request with the same key started."""
    wanted = tale.revision + 1
    if command.idempotency_key is None:
        return wanted
    held = claims.claim(
        keys.idempotency(command.owner, f"revise:{tale.tale_id}:{command.idempotency_key}"),
        str(wanted),
    )
    return int(held)


def _check_revisable(tale: TaleRecord, settings: Settings) -> None:
    if tale.state not in REVISABLE or "video" not in tale.outputs:
        raise WrongState(
            f"tale {tale.tale_id} is {tale.state}; a tale is revised once it has a finished video"
        )
    if tale.revision >= settings.max_revisions:
        raise TooManyRevisions(tale.tale_id, settings.max_revisions)


def _apply(
    plan: StoryPlan, changes: tuple[ShotChange, ...]
) -> tuple[list[int], StoryPlan, set[int]]:
    """The shots to render (indexes, in order), the storyboard with the changes, and the
    shots whose narration changed."""
    if not changes:
        raise InvalidRevision("name at least one shot to render again")
    numbers = [c.number for c in changes]
    if len(set(numbers)) != len(numbers):
        raise InvalidRevision("each shot may be named once")
    shots = list(plan.shots)
    renarrated: set[int] = set()
    for change in changes:
        index = change.number - 1
        if not 0 <= index < len(shots):
            raise InvalidRevision(f"the storyboard has no shot {change.number}")
        shot = shots[index]
        update: dict[str, object] = {}
        if change.narration is not None and change.narration != shot.narration:
            update["narration"] = change.narration
            renarrated.add(index)
        if change.prompt is not None:
            update["prompt"] = change.prompt
        if change.camera is not None:
            update["camera"] = change.camera
        shots[index] = shot.model_copy(update=update)
    try:  # the planned storyboard's own rules, run again on the edited one
        edited = StoryPlan.model_validate(
            {**plan.model_dump(), "shots": [s.model_dump() for s in shots]}
        )
    except ValidationError as exc:
        raise InvalidRevision(
            f"the revised storyboard is not valid: {exc.errors()[0]['msg']}"
        ) from exc
    for index in sorted(renarrated):  # a new line must be read within its shot, as planned
        shot = edited.shots[index]
        seconds = reading_seconds(shot.narration, edited.language)
        if seconds > shot.duration_s:
            pace = budget_of(edited.language)
            raise InvalidRevision(
                f"the narration of shot {index + 1} takes about {seconds:.1f} s to read aloud, "
                f"longer than the shot's {shot.duration_s} s: at most about "
                f"{pace.units_in(shot.duration_s)} {pace.unit}"
            )
    return sorted(c.number - 1 for c in changes), edited, renarrated


def _publish(
    bus: EventBus,
    tale_id: str,
    revision: int,
    store: TaleStore,
    indexes: list[int],
    renarrated: set[int],
) -> None:
    for index in indexes:
        shot = store.shot(tale_id, index)
        assert shot is not None
        bus.publish(ShotRequested(tale_id=tale_id, shot_index=index, attempt=shot.attempt))
    for index in sorted(renarrated):
        bus.publish(NarrationRequested(tale_id=tale_id, shot_index=index, revision=revision))
