"""Start a tale for an account: the path of every tale a user creates (``POST /v1/tales``,
``POST /v1/trends/{id}/tales``).

1. the story is checked (``InvalidStory``), and the scenario's video model must be able to
   render its aspect ratio and shot length (``UnsupportedRequest``: nothing is paid for a
   tale that would fail at its first shot);
2. an ``Idempotency-Key`` is claimed with a digest of the submission: a retry of the same
   request gets the same tale id (and, once it exists, the tale), a different request under
   the same key is refused (``InvalidIdempotencyKey``, ``IdempotencyKeyReused``);
3. the account exists (created if the sign-up webhook has not arrived yet) with this month's
   grant;
4. the tale is estimated (``shared.costs.budget``) and **admitted** by the ledger in one
   transaction — the running-tale limit, the month's spending cap and the balance checked and
   the credits reserved (``Ledger.admit``: ``TooManyRunningTales``, ``SpendingCapExceeded``,
   ``InsufficientCredits``), so parallel requests cannot race past a limit;
5. the tale is created and ``tale.submitted`` published (``service.submit``).

Idempotent on the tale id: admission is once per tale, creation and publication are safe to
repeat. Raises only the domain's errors (and a peer's ``TransientError``).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from schemas.events import TaleSubmitted
from schemas.story import StorySubmission
from shared import service
from shared.config import Settings
from shared.costs import budget
from shared.domain.credits import period_of, tale_cost
from shared.domain.errors import IdempotencyKeyReused, InvalidIdempotencyKey
from shared.domain.tale import TaleRecord, TaleState
from shared.observability.events import credits_changed
from shared.ports import claims as keys
from shared.ports.bus import EventBus
from shared.ports.claims import Claims
from shared.ports.ledger import Ledger
from shared.ports.store import TaleStore

log = logging.getLogger("tale.usecases")
MAX_KEY_CHARS = 200


@dataclass(frozen=True)
class SubmitTale:
    """The command: who starts which story, with the request's ``Idempotency-Key``."""

    submission: StorySubmission
    owner: str
    email: str = ""
    idempotency_key: str | None = None
    anonymous: bool = False
    """An anonymous sign-in: its account gets no credits unless ``anonymous_credits``."""


@dataclass(frozen=True)
class Submitted:
    tale: TaleRecord
    created: bool
    """False when the ``Idempotency-Key`` named a tale that existed already."""


def submit_tale(
    command: SubmitTale,
    *,
    store: TaleStore,
    bus: EventBus,
    claims: Claims,
    ledger: Ledger,
    settings: Settings,
    clock: Callable[[], float] = time.time,
) -> Submitted:
    submission, owner = command.submission, command.owner
    service.check_submission(submission, settings.max_story_chars)
    service.check_renderable(submission, settings)
    service.check_voice(submission, settings)
    tale_id = _tale_id(command, claims)
    existing = store.find(tale_id)
    if existing is not None:
        if existing.state is TaleState.SUBMITTED:
            # The request that created it may have died before announcing it; announcing
            # twice is harmless (the planner claims the work once).
            bus.publish(TaleSubmitted(tale_id=tale_id))
        return Submitted(existing, created=False)
    now = clock()
    period = period_of(now)
    ensure_account(ledger, settings, owner, command.email, period, command.anonymous)
    credits = tale_cost(submission.shot_count, submission.shot_seconds)
    expected = budget.estimate(
        settings,
        submission.shot_count,
        submission.shot_seconds,
        budget.DEFAULT_CHARACTERS,
        voice=submission.options.voice,
    )
    admitted = ledger.admit(
        owner,
        tale_id,
        credits=credits,
        estimate_usd=expected.usd,
        period=period,
        cap_usd=budget.cap_of(settings, owner),
        max_running=settings.api_max_running_tales,
    )
    if admitted:
        credits_changed("credits.reserved", tale_id, credits)
    try:
        tale = service.submit(
            submission,
            owner=owner,
            store=store,
            bus=bus,
            max_chars=settings.max_story_chars,
            tale_id=tale_id,
        )
    except Exception:
        _release(command, store, ledger, tale_id)
        raise
    return Submitted(tale, created=True)


def _tale_id(command: SubmitTale, claims: Claims) -> str:
    """A new tale id, or the one an earlier request with the same key claimed."""
    tale_id = service.new_tale_id()
    key = command.idempotency_key
    if key is None:
        return tale_id
    if not 1 <= len(key) <= MAX_KEY_CHARS:
        raise InvalidIdempotencyKey(
            f"the Idempotency-Key header must have 1 to {MAX_KEY_CHARS} characters"
        )
    digest = hashlib.sha256(command.submission.model_dump_json().encode()).hexdigest()[:32]
    held = claims.claim(keys.idempotency(command.owner, key), f"{tale_id} {digest}")
    held_id, _, held_digest = held.partition(" ")
    if held_digest != digest:
        raise IdempotencyKeyReused("this Idempotency-Key was used for a different request")
    return held_id


def ensure_account(
    ledger: Ledger,
    settings: Settings,
    owner: str,
    email: str,
    period: str,
    anonymous: bool = False,
) -> None:
    """The profile (if the sign-up webhook has not arrived yet) and this month's grant; an
    anonymous sign-in gets the profile only, unless ``anonymous_credits`` is on. A plan paid
    through a subscription gets its credits with each paid invoice instead."""
    ledger.ensure_profile(owner, email)
    profile = ledger.profile(owner)
    assert profile is not None
    if (anonymous and not settings.anonymous_credits) or profile.subscribed:
        return
    ledger.grant_monthly(owner, period, settings.monthly_credits(profile.plan))


def _release(command: SubmitTale, store: TaleStore, ledger: Ledger, tale_id: str) -> None:
    """Creating the tale failed after it was admitted. Without an ``Idempotency-Key`` no
    retry can reach this tale id, so its reservation is returned (it would otherwise hold
    credits and a running slot for a tale that does not exist); with one, a retry under the
    same key uses the reservation, so it stays."""
    if command.idempotency_key is not None:
        return
    try:
        if store.find(tale_id) is None and ledger.refund(tale_id):
            credits_changed("credits.refunded", tale_id)
    except Exception:  # the original failure is what the caller must see
        log.exception("could not return the reservation of tale %s", tale_id)
