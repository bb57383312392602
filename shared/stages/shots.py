"""Stage ``render_shot`` (trigger: ``shot.requested``): one shot attempt, never paid twice.

The order of effects is what makes redelivery safe:
1. claim the attempt in the store (a unit of work) — only the claimer may start it;
2. start the generation and record its operation id at once;
3. poll that operation (a redelivery resumes here, from the recorded id, instead of
   starting a second generation); past the function's time budget hand over to a follow-up
   ``shot.requested`` with ``poll + 1`` instead of blocking;
4. record the clip and publish ``shot.rendered`` (re-published on redelivery).

A claim without an operation id held by *another* message (a duplicate publish) is left to
its holder, whose own delivery stays outstanding until it finishes: the duplicate is dropped.
The same message coming back (a redelivery keeps the message id), or the holder's own
follow-up, means a start whose operation id was never recorded — the delivery died between
claim and record, or the start's answer was lost. Then the provider is asked what became of
the attempt (``VideoGenerator.recover``, from the attempt's deterministic output location):
a generation that exists is polled, a finished one is taken as it is, and only when provably
nothing ran is the attempt started again (by one delivery: the claim is handed over by
compare-and-set). While that is not known yet, the delivery waits and hands over as it does
when polling. A paid generation is never started twice, and our own crash fails no tale.
"""

from __future__ import annotations

import time

from schemas.events import ShotRendered, ShotRequested
from shared.config import Settings
from shared.domain.errors import NotStarted, PermanentError
from shared.domain.shots import MAX_SHOT_ATTEMPTS
from shared.domain.tale import ShotRecord, ShotStatus, TaleState
from shared.ports.bus import EventBus
from shared.ports.generators import Recovery, VideoGenerator, VideoPoll, VideoRequest
from shared.ports.store import TaleStore
from shared.ports.usage import Usage, UsageRecorder
from shared.pubsub_message import Envelope
from shared.stages.common import require_plan, require_tale, tale_prefix

MAX_POLL_HANDOVERS = 30


def render_shot(
    event: ShotRequested,
    store: TaleStore,
    videos: VideoGenerator,
    bus: EventBus,
    settings: Settings,
    envelope: Envelope,
    usage: UsageRecorder,
) -> None:
    if require_tale(store, event.tale_id).state is not TaleState.RENDERING:
        return
    current = store.shot(event.tale_id, event.shot_index)
    if current is None:
        raise PermanentError(f"the tale has no shot {event.shot_index + 1}")
    if current.status is ShotStatus.PENDING and current.attempt == event.attempt:
        videos.admit()  # a quota refusal happens before the claim, so nothing is left held
    me = envelope.message_id
    claimed = _claim(event, store, videos, bus, settings, me)
    if claimed is None:
        return
    shot, fresh = claimed
    if shot.operation_id is not None:
        result = _poll(videos, shot.operation_id, settings)
    elif fresh:
        result = _poll(videos, _start(event, store, videos, me), settings)
    else:
        recovered = _resume(event, store, videos, shot, settings, me)
        if isinstance(recovered, _Dropped):
            return
        result = recovered
    if result is None:
        if event.poll >= MAX_POLL_HANDOVERS:
            raise PermanentError(f"shot {event.shot_index + 1} did not finish in time")
        bus.publish(event.model_copy(update={"poll": event.poll + 1}))
        return
    if result.units:
        usage.record(
            Usage(
                event.tale_id,
                f"shot:{event.shot_index}:{event.attempt}",
                videos.provider,
                videos.model,
                result.units,
                time.time(),
            )
        )
    _finish(store, bus, event, result)


def _claim(
    event: ShotRequested,
    store: TaleStore,
    videos: VideoGenerator,
    bus: EventBus,
    settings: Settings,
    me: str,
) -> tuple[ShotRecord, bool] | None:
    """The shot record to work on and whether this delivery just claimed it, or None when
    this delivery has nothing to do."""
    tale_id, index, attempt = event.tale_id, event.shot_index, event.attempt
    lease = None if videos.paid else settings.ack_deadline_s
    shot, fresh = store.claim_shot(tale_id, index, attempt, claimant=me, lease_s=lease)
    if shot.attempt != attempt:
        # A newer attempt superseded this one; make sure it was requested (the handler that
        # created it may have died before publishing).
        if shot.attempt > attempt and shot.status is ShotStatus.PENDING:
            bus.publish(ShotRequested(tale_id=tale_id, shot_index=index, attempt=shot.attempt))
        return None
    if shot.status is ShotStatus.RENDERED:
        _announce(bus, shot)
        return None
    if shot.status is ShotStatus.FAILED:
        raise PermanentError(f"shot {index + 1} failed: {shot.error}")
    if fresh or shot.operation_id is not None:
        return shot, fresh
    if shot.claimant != me and event.poll == 0:
        return None  # a duplicate: the holder's own delivery finishes the work
    return shot, False  # an unrecorded start of this attempt: recover it


class _Dropped:
    """Another delivery took the attempt over."""


DROPPED = _Dropped()


def _resume(
    event: ShotRequested,
    store: TaleStore,
    videos: VideoGenerator,
    shot: ShotRecord,
    settings: Settings,
    me: str,
) -> VideoPoll | _Dropped | None:
    """Carry on from an unrecorded start: the outcome, None while unknown or running."""
    recovery = _recover(event, store, videos, shot, settings)
    index, attempt = shot.index, shot.attempt
    if recovery.operation_id is not None:
        store.mark_shot_started(event.tale_id, index, attempt, recovery.operation_id)
        store.log(event.tale_id, "rendering", f"shot {index + 1}: the unrecorded start found")
        return _poll(videos, recovery.operation_id, settings)
    if recovery.clip_path is not None or recovery.error is not None:
        return VideoPoll(
            done=True,
            clip_path=recovery.clip_path,
            error=recovery.error,
            refused=recovery.refused,
            units=recovery.units,
        )
    if not recovery.nothing_ran:
        return None
    if not store.take_over_shot(event.tale_id, index, attempt, shot.claimant or "", me):
        return DROPPED
    return _poll(videos, _start(event, store, videos, me), settings)


def _request(event: ShotRequested, store: TaleStore, claimant: str) -> VideoRequest:
    tale_id, index, attempt = event.tale_id, event.shot_index, event.attempt
    plan = require_plan(store, tale_id)
    return VideoRequest(
        tale_id=tale_id,
        plan=plan,
        shot=plan.shots[index],
        attempt=attempt,
        output_path=f"{tale_prefix(tale_id)}/shots/{index:02d}-a{attempt}.mp4",
        reference_images=store.characters(tale_id),
        claimant=claimant,
    )


def _start(event: ShotRequested, store: TaleStore, videos: VideoGenerator, claimant: str) -> str:
    """Start the generation and record its operation id at once."""
    tale_id, index, attempt = event.tale_id, event.shot_index, event.attempt
    request = _request(event, store, claimant)
    store.log(tale_id, "rendering", f"shot {index + 1}: generation started (attempt {attempt})")
    try:
        operation_id = videos.start(request)
    except NotStarted:
        store.release_claim(tale_id, index, attempt, claimant)
        raise
    store.mark_shot_started(tale_id, index, attempt, operation_id)
    return operation_id


def _recover(
    event: ShotRequested,
    store: TaleStore,
    videos: VideoGenerator,
    shot: ShotRecord,
    settings: Settings,
) -> Recovery:
    """Ask the provider what became of the attempt's unrecorded start, waiting within the
    delivery's poll budget while that is not known."""
    request = _request(event, store, shot.claimant or "")
    claimed_at = shot.claimed_at if shot.claimed_at is not None else shot.updated_at
    deadline = time.monotonic() + settings.shot_poll_budget_s
    delay = min(1.0, settings.shot_poll_interval_s)
    while True:
        recovery = videos.recover(request, claimed_at, time.time())
        if recovery.known or time.monotonic() + delay > deadline:
            return recovery
        time.sleep(delay)
        delay = min(delay * 2, settings.shot_poll_interval_s)


def _poll(videos: VideoGenerator, operation_id: str, settings: Settings) -> VideoPoll | None:
    deadline = time.monotonic() + settings.shot_poll_budget_s
    delay = min(1.0, settings.shot_poll_interval_s)
    while True:
        result = videos.poll(operation_id)
        if result.done:
            return result
        if time.monotonic() + delay > deadline:
            return None
        time.sleep(delay)
        delay = min(delay * 2, settings.shot_poll_interval_s)


def _finish(store: TaleStore, bus: EventBus, event: ShotRequested, result: VideoPoll) -> None:
    tale_id, index, attempt = event.tale_id, event.shot_index, event.attempt
    if result.clip_path is not None and result.error is None:
        store.finish_shot(tale_id, index, attempt, result.clip_path)
        store.log(tale_id, "rendering", f"shot {index + 1}: rendered")
        bus.publish(
            ShotRendered(
                tale_id=tale_id, shot_index=index, attempt=attempt, clip_path=result.clip_path
            )
        )
        return
    error = result.error or "the provider returned no video"
    if result.refused or attempt >= MAX_SHOT_ATTEMPTS:
        store.fail_shot(tale_id, index, attempt, error)
        if result.refused:
            raise PermanentError(f"shot {index + 1} was refused by the video model: {error}")
        raise PermanentError(f"shot {index + 1} failed {attempt} times; last error: {error}")
    current = store.retry_shot(tale_id, index, attempt)
    store.log(
        tale_id,
        "rendering",
        f"shot {index + 1}: attempt {attempt} failed ({error}); trying attempt {current}",
        "warning",
    )
    bus.publish(ShotRequested(tale_id=tale_id, shot_index=index, attempt=current))


def _announce(bus: EventBus, shot: ShotRecord) -> None:
    assert shot.clip_path is not None
    bus.publish(
        ShotRendered(
            tale_id=shot.tale_id,
            shot_index=shot.index,
            attempt=shot.attempt,
            clip_path=shot.clip_path,
        )
    )
