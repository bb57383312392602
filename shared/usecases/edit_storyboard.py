"""Edit a storyboard before approving it: the path of ``PATCH /v1/tales/{id}/storyboard`` and
``tale edit``.

1. the tale is the owner's (``TaleNotFound`` otherwise, as for an unknown tale), the edit
   says which version of the storyboard it was made on (``PlanVersionRequired``), the tale
   awaits approval (``WrongState``) and its storyboard is still at that version
   (``PlanVersionMismatch``: another tab edited it meanwhile);
2. the operations are applied, all or none, and the result is held to the planned
   storyboard's rules (``shared.domain.storyboard``: ``InvalidEdit``) and to what the
   scenario's video model renders (``UnsupportedRequest``);
3. the edited storyboard is estimated and costed (one credit per started 8 seconds); when it
   needs more than the tale holds, the ledger reserves the difference on the same tale, the
   month's spending cap and the balance checked in one transaction
   (``Ledger.reserve_more``: ``SpendingCapExceeded``, ``InsufficientCredits``) — before
   anything else changes;
4. one unit of work stores it, compare-and-set on the version, only while the tale awaits
   approval; the new version is the storyboard's ``ETag``.

An edit that needs fewer credits returns nothing now: the tale is settled at what its
storyboard costs when it completes (``settle_credits``), and a failed or cancelled tale is
refunded all it holds. So a reservation made for an edit that then lost a race (another
edit, an approval, a cancellation, a crash) is never lost either.

Approving renders exactly the stored storyboard: the characters and shots stages read it
(``require_plan``). Character references are drawn by the characters stage after approval,
so a changed description needs nothing more here: the reference is drawn from it.

Operator tales (``settings.owner``: what ``tale run`` submits) are not charged, edited or not.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from schemas.plan import StoryPlan
from schemas.storyboard import StoryboardEdit
from shared.config import Settings
from shared.costs import budget
from shared.costs.estimate import Estimate
from shared.domain import storyboard
from shared.domain.credits import period_of, seconds_cost
from shared.domain.errors import (
    PlanVersionMismatch,
    PlanVersionRequired,
    TaleNotFound,
    UnsupportedRequest,
    WrongState,
)
from shared.domain.tale import TaleRecord, TaleState
from shared.ports.ledger import Ledger
from shared.ports.store import TaleStore


@dataclass(frozen=True)
class EditStoryboard:
    """The command: which tale, the version edited (the ``If-Match``) and the operations."""

    tale_id: str
    edit: StoryboardEdit
    expected_version: int | None
    owner: str | None = None
    """The caller; ``None`` for an operator (``tale edit``), who may edit any tale."""


@dataclass(frozen=True)
class Edited:
    tale: TaleRecord
    plan: StoryPlan
    credits: int
    """What the edited storyboard costs."""
    estimate: Estimate
    reserved_more: bool
    """This edit reserved more credits on the tale."""


def edit_storyboard(
    command: EditStoryboard,
    *,
    store: TaleStore,
    ledger: Ledger,
    settings: Settings,
    clock: Callable[[], float] = time.time,
) -> Edited:
    tale = store.find(command.tale_id)
    if tale is None or command.owner not in (None, tale.owner):
        raise TaleNotFound(command.tale_id)
    expected = command.expected_version
    if expected is None:
        raise PlanVersionRequired(tale.plan_version)
    plan = store.plan(tale.tale_id)
    if tale.state is not TaleState.AWAITING_APPROVAL or plan is None:
        raise WrongState(
            f"tale {tale.tale_id} is {tale.state}; a storyboard is edited while it awaits approval"
        )
    if tale.plan_version != expected:
        raise PlanVersionMismatch(expected, tale.plan_version)
    edited = storyboard.apply_edits(plan, command.edit.operations)
    check_renderable(edited, settings)
    credits = seconds_cost(edited.total_seconds)
    estimate = budget.estimate_of(settings, tale, edited, store.options(tale.tale_id).voice)
    reserved = tale.owner != settings.owner and ledger.reserve_more(
        tale.owner,
        tale.tale_id,
        version=expected + 1,
        credits=credits,
        estimate_usd=estimate.usd,
        period=period_of(clock()),
        cap_usd=budget.cap_of(settings, tale.owner),
    )
    store.unit(
        "edit_storyboard",
        f"{tale.tale_id}:{expected + 1}",
        tale.tale_id,
        lambda agg: storyboard.accept(agg, edited, expected),
        mirror=True,
        with_plan=True,
    )
    if reserved:
        store.log(tale.tale_id, "billing", f"more credits reserved: the storyboard needs {credits}")
    stored = store.find(tale.tale_id)
    assert stored is not None
    return Edited(stored, edited, credits, estimate, reserved)


def check_renderable(plan: StoryPlan, settings: Settings) -> None:
    """``UnsupportedRequest`` when the scenario's video model cannot render one of the
    storyboard's shot lengths (checked before anything is reserved)."""
    from shared.providers.capabilities import check_renderable as renderable

    for seconds in sorted({s.duration_s for s in plan.shots}):
        refused = renderable(settings, plan.aspect_ratio, seconds)
        if refused is not None:
            raise UnsupportedRequest(
                refused.reason, refused.supported_aspect_ratios, refused.supported_seconds
            )
