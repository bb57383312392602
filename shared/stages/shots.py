"""Stage ``render_shot`` (trigger: ``shot.requested``): one shot attempt, never paid twice.

The order of effects is what makes redelivery safe:
1. claim the attempt in the store (a transaction) — only the claimer may start it;
2. start the generation and record its operation id at once;
3. poll that operation (a redelivery resumes here, from the recorded id, instead of
   starting a second generation); past the function's time budget hand over to a follow-up
   ``shot.requested`` with ``poll + 1`` instead of blocking;
4. record the clip and publish ``shot.rendered`` (re-published on redelivery).

A claim without an operation id held by *another* message (a duplicate publish) is left to
its holder, whose own delivery stays outstanding until it finishes: the duplicate is dropped.
The same message coming back (a redelivery keeps the message id) means its first delivery
died between claim and start: a free generator starts again; for a paid one that is
ambiguous (the call may have gone out), so the shot fails rather than paying twice.
"""

from __future__ import annotations

import time

from schemas.events import ShotRendered, ShotRequested
from shared.config import Settings
from shared.domain.errors import NotStarted, PermanentError, TransientError
from shared.domain.shots import MAX_SHOT_ATTEMPTS
from shared.domain.tale import ShotRecord, ShotStatus, TaleState
from shared.ports.bus import EventBus
from shared.ports.generators import VideoGenerator, VideoPoll, VideoRequest
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
    shot = _claim(event, store, videos, bus, settings, envelope.message_id)
    if shot is None:
        return
    operation_id = shot.operation_id or _start(event, store, videos, envelope.message_id)
    result = _poll(videos, operation_id, settings)
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
) -> ShotRecord | None:
    """The shot record to work on, or None when this delivery has nothing to do."""
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
        return shot
    if shot.claimant != me:
        return None  # a duplicate: the holder's own delivery finishes the work
    if videos.paid:
        raise PermanentError(
            f"shot {index + 1} attempt {attempt} was claimed but its operation was never "
            "recorded; not starting a second paid generation"
        )
    shot, fresh = store.claim_shot(tale_id, index, attempt, claimant=me, lease_s=0)
    if not fresh:
        raise TransientError(f"shot {index + 1} attempt {attempt} changed while resuming")
    return shot


def _start(event: ShotRequested, store: TaleStore, videos: VideoGenerator, claimant: str) -> str:
    """Start the generation and record its operation id at once."""
    tale_id, index, attempt = event.tale_id, event.shot_index, event.attempt
    plan = require_plan(store, tale_id)
    request = VideoRequest(
        tale_id=tale_id,
        plan=plan,
        shot=plan.shots[index],
        attempt=attempt,
        output_path=f"{tale_prefix(tale_id)}/shots/{index:02d}-a{attempt}.mp4",
        reference_images=store.characters(tale_id),
        claimant=claimant,
    )
    store.log(tale_id, "rendering", f"shot {index + 1}: generation started (attempt {attempt})")
    try:
        operation_id = videos.start(request)
    except NotStarted:
        store.release_claim(tale_id, index, attempt, claimant)
        raise
    store.mark_shot_started(tale_id, index, attempt, operation_id)
    return operation_id


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
