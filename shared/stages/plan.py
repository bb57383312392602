"""Stage ``plan_story`` (trigger: ``tale.submitted``): the story becomes a plan.

Idempotent on the tale id: the first message claims the work (a duplicate publish drops
itself, so the paid planner is not called twice at once), the first stored plan wins, and a
redelivery after the plan exists does not call the planner again. With the approval gate on,
the tale waits in ``awaiting_approval`` until the owner approves (which publishes
``characters.requested``).
"""

from __future__ import annotations

from schemas.events import CharactersRequested, TaleSubmitted
from shared.domain import markers
from shared.domain.tale import TaleState
from shared.ports.bus import EventBus
from shared.ports.generators import Planner
from shared.ports.store import TaleStore
from shared.pubsub_message import Envelope
from shared.stages.common import require_tale


def plan_story(
    event: TaleSubmitted, store: TaleStore, planner: Planner, bus: EventBus, envelope: Envelope
) -> None:
    tale_id = event.tale_id
    tale = require_tale(store, tale_id)
    if tale.state.terminal:
        return
    if (
        store.claim(event.tale_id, markers.handling(event.key), envelope.message_id)
        != envelope.message_id
    ):
        return  # a duplicate: the holder's delivery plans (or is redelivered until it does)
    store.transition(tale_id, {TaleState.SUBMITTED}, TaleState.PLANNING, stage="planning")
    if require_tale(store, tale_id).state is TaleState.PLANNING:
        submission = store.submission(tale_id)
        plan = store.plan(tale_id)
        if plan is None:
            plan = store.save_plan(tale_id, planner.plan(submission, tale_id=tale_id))
            store.log(
                tale_id,
                "planning",
                f"planned “{plan.title}”: {len(plan.scenes)} scenes, "
                f"{len(plan.shots)} shots, characters: "
                f"{', '.join(c.name for c in plan.characters) or 'none'}",
            )
        store.update(tale_id, title=plan.title)
        if submission.options.approval_required:
            store.transition(
                tale_id,
                {TaleState.PLANNING},
                TaleState.AWAITING_APPROVAL,
                stage="awaiting approval",
            )
            return
        store.transition(tale_id, {TaleState.PLANNING}, TaleState.RENDERING, stage="characters")
    tale = require_tale(store, tale_id)
    if tale.state is TaleState.RENDERING and not store.shots(tale_id):
        bus.publish(CharactersRequested(tale_id=tale_id))
