"""The shot lifecycle: pure decisions on one shot's current attempt.

Each function takes the shot as stored and returns the shot as it must be stored, or ``None``
when the request does not apply (another attempt is current, the status does not allow it):
callers treat ``None`` as "nothing to change". No I/O here; the store applies the result in
the unit of work that loaded the shot.

::

    pending ──claim──▶ claimed ──start──▶ started ──finish──▶ rendered
       ▲                 │  └──────────────finish──────────────▲
       └────release──────┘  (the provider answered an error: nothing started)
    any but rendered ──fail──▶ failed          current attempt ──retry──▶ attempt+1 pending

A claim that never recorded an operation may be taken over after its lease (its holder is
presumed dead); without a lease it is never taken over (a paid call may be in flight).
"""

from __future__ import annotations

from dataclasses import replace

from shared.domain.tale import ShotRecord, ShotStatus

MAX_SHOT_ATTEMPTS = 3
"""Attempts of one shot (automatic retries and user regenerations together)."""


def new_shot(tale_id: str, index: int, now: float) -> ShotRecord:
    return ShotRecord(
        tale_id=tale_id, index=index, attempt=1, status=ShotStatus.PENDING, updated_at=now
    )


def lease_expired(shot: ShotRecord, now: float, lease_s: float | None) -> bool:
    return (
        shot.status is ShotStatus.CLAIMED
        and lease_s is not None
        and shot.claimed_at is not None
        and now - shot.claimed_at >= lease_s
    )


def claim(
    shot: ShotRecord, attempt: int, claimant: str, now: float, lease_s: float | None
) -> ShotRecord | None:
    """Claim ``attempt`` for ``claimant``: a pending shot, or a claim whose lease expired."""
    if shot.attempt != attempt:
        return None
    if shot.status is not ShotStatus.PENDING and not lease_expired(shot, now, lease_s):
        return None
    return replace(
        shot, status=ShotStatus.CLAIMED, claimed_at=now, claimant=claimant, updated_at=now
    )


def take_over(
    shot: ShotRecord, attempt: int, holder: str, claimant: str, now: float
) -> ShotRecord | None:
    """Hand an unstarted claim from ``holder`` to ``claimant`` — only while ``holder`` still
    holds it, so of two deliveries that both found nothing ran, one starts."""
    if (
        shot.attempt != attempt
        or shot.status is not ShotStatus.CLAIMED
        or shot.operation_id is not None
        or shot.claimant != holder
    ):
        return None
    return replace(shot, claimant=claimant, claimed_at=now, updated_at=now)


def release(shot: ShotRecord, attempt: int, claimant: str, now: float) -> ShotRecord | None:
    """Undo an unstarted claim held by ``claimant`` (the provider refused to start)."""
    if (
        shot.attempt != attempt
        or shot.status is not ShotStatus.CLAIMED
        or shot.operation_id is not None
        or shot.claimant != claimant
    ):
        return None
    return replace(shot, status=ShotStatus.PENDING, claimed_at=None, claimant=None, updated_at=now)


def start(shot: ShotRecord, attempt: int, operation_id: str, now: float) -> ShotRecord | None:
    """Record the provider's operation id of the claimed attempt (counts ``starts``)."""
    if shot.attempt != attempt or shot.status is not ShotStatus.CLAIMED:
        return None
    return replace(
        shot,
        status=ShotStatus.STARTED,
        operation_id=operation_id,
        starts=shot.starts + 1,
        updated_at=now,
    )


def finish(shot: ShotRecord, attempt: int, clip_path: str, now: float) -> ShotRecord | None:
    if shot.attempt != attempt or shot.status not in (ShotStatus.CLAIMED, ShotStatus.STARTED):
        return None
    return replace(shot, status=ShotStatus.RENDERED, clip_path=clip_path, updated_at=now)


def fail(shot: ShotRecord, attempt: int, error: str, now: float) -> ShotRecord | None:
    if shot.attempt != attempt or shot.status is ShotStatus.RENDERED:
        return None
    return replace(shot, status=ShotStatus.FAILED, error=error, updated_at=now)


def voice(shot: ShotRecord, voice_path: str, now: float) -> ShotRecord | None:
    """Record the shot's voiced narration (``""``: nothing to voice), once."""
    if shot.voice_path is not None:
        return None
    return replace(shot, voice_path=voice_path, updated_at=now)


def retry(shot: ShotRecord, attempt: int, now: float) -> ShotRecord | None:
    """A new, pending attempt if ``attempt`` is still the current one."""
    if shot.attempt != attempt:
        return None
    return replace(
        shot,
        attempt=attempt + 1,
        status=ShotStatus.PENDING,
        operation_id=None,
        clip_path=None,
        error=None,
        claimed_at=None,
        updated_at=now,
    )
