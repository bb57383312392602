"""The ``/v1`` operations. Each takes the caller's identity and returns a model (or raises a
``Problem``); ownership is checked on every tale, and another user's tale is reported as
not found so that ids cannot be probed."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Request, Response
from pydantic import BaseModel

from schemas.story import StorySubmission
from shared import service
from shared.api import reads
from shared.api import tale_events as tale_events_stream
from shared.api.problems import REFUSALS, conflict, not_found, refusal
from shared.api.requests import json_body, no_body
from shared.api.views import Accepted, Me, StoryboardView, TaleList, TaleView, Usage, VideoLink
from shared.auth.tokens import Identity
from shared.bootstrap import Container
from shared.domain.credits import period_of
from shared.domain.errors import IllegalTransition, TaleNotFound, WrongState
from shared.domain.tale import TaleRecord, TaleState
from shared.ports.ledger import GRANT_KINDS
from shared.usecases.submit_tale import SubmitTale, submit_tale
from shared.usecases.submit_tale import ensure_account as open_account


@dataclass(frozen=True)
class Call:
    request: Request
    identity: Identity
    container: Container
    params: dict[str, str]

    @property
    def user(self) -> str:
        return self.identity.user_id


def ensure_account(call: Call) -> None:
    """Profile (if the sign-up webhook has not arrived yet) and this month's grant."""
    c = call.container
    period = period_of(time.time())
    email, anonymous = call.identity.email or "", call.identity.is_anonymous
    open_account(c.ledger, c.settings, call.user, email, period, anonymous)


def owned_tale(call: Call) -> TaleRecord:
    tale = call.container.store.find(call.params["tale_id"])
    if tale is None or tale.owner != call.user:
        raise not_found(f"tale {call.params['tale_id']}")
    return tale


def create_tale(call: Call) -> tuple[int, BaseModel, dict[str, str]]:
    settings = call.container.settings
    return start_tale(call, json_body(call.request, StorySubmission, settings.api_max_body_bytes))


def start_tale(call: Call, submission: StorySubmission) -> tuple[int, BaseModel, dict[str, str]]:
    """Start a tale (``submit_tale``: idempotent with an ``Idempotency-Key``, admitted by the
    ledger in one transaction); 201 with the new tale, 200 with the key's earlier one."""
    c = call.container
    command = SubmitTale(
        submission,
        owner=call.user,
        email=call.identity.email or "",
        idempotency_key=call.request.headers.get("Idempotency-Key"),
        anonymous=call.identity.is_anonymous,
    )
    try:
        result = submit_tale(
            command,
            store=c.store,
            bus=c.bus,
            claims=c.claims,
            ledger=c.ledger,
            settings=c.settings,
        )
    except REFUSALS as exc:
        raise refusal(exc) from exc
    tale = result.tale
    status = 201 if result.created else 200
    return status, TaleView.of(tale), {"Location": f"/v1/tales/{tale.tale_id}"}


def list_tales(call: Call) -> TaleList:
    tales = call.container.store.list_tales(owner=call.user, limit=100)
    return TaleList(tales=[TaleView.of(t) for t in tales])


def get_tale(call: Call) -> TaleView:
    """The tale with its shots and, before and during generation, its cost estimate (from
    the storyboard once there is one)."""
    return reads.tale_view(call.container, owned_tale(call))


def get_storyboard(call: Call) -> StoryboardView:
    """The storyboard (characters, scenes, shots) with signed URLs of what is drawn and
    rendered so far; 409 before the tale is planned."""
    tale = owned_tale(call)
    plan = call.container.store.plan(tale.tale_id)
    if plan is None:
        raise conflict(f"tale {tale.tale_id} has no storyboard yet (it is {tale.state})")
    return reads.storyboard_view(call.container, tale, plan)


def tale_events(call: Call) -> Response:
    """The tale's progress as server-sent events (``shared.api.tale_events``)."""
    tale = owned_tale(call)
    last = call.request.headers.get("Last-Event-ID")
    return tale_events_stream.response(call.container, tale.tale_id, last)


def _act(call: Call, action: Callable[..., object], status: TaleState) -> Accepted:
    no_body(call.request)
    tale = owned_tale(call)
    try:
        action(tale.tale_id, store=call.container.store, bus=call.container.bus)
    except TaleNotFound as exc:  # deleted meanwhile
        raise not_found(f"tale {tale.tale_id}") from exc
    except IllegalTransition as exc:  # WrongState included
        raise conflict(str(exc)) from exc
    return Accepted(id=tale.tale_id, status=status.value)


def approve_tale(call: Call) -> Accepted:
    return _act(call, service.approve, TaleState.RENDERING)


def cancel_tale(call: Call) -> Accepted:
    return _act(call, service.cancel, TaleState.CANCELLED)


def regenerate_shot(call: Call) -> Accepted:
    no_body(call.request)
    tale = owned_tale(call)
    c = call.container
    number = call.params["shot"]
    index = int(number) - 1 if number.isdigit() and len(number) <= 3 else -1
    try:
        attempt = service.regenerate_shot(tale.tale_id, index, store=c.store, bus=c.bus)
    except TaleNotFound as exc:
        raise not_found(f"shot {number} of tale {tale.tale_id}") from exc
    except WrongState as exc:
        raise conflict(str(exc)) from exc
    return Accepted(id=tale.tale_id, status=f"shot {index + 1} attempt {attempt} requested")


def video_link(call: Call) -> VideoLink:
    tale = owned_tale(call)
    path = tale.outputs.get("video")
    if path is None:
        raise conflict(f"tale {tale.tale_id} has no video yet (it is {tale.state})")
    ttl = call.container.settings.video_url_ttl_s
    return VideoLink(url=call.container.blobs.signed_url(path, ttl), expires_in=ttl)


CAPTION_TYPES = {"captions_srt": "application/x-subrip", "captions_vtt": "text/vtt"}
"""The caption files of a cut (outputs of ``stitch_video``) and their media types."""


def _captions(call: Call, output: str) -> Response:
    """The tale's captions file itself (small: a cue per narration line), for a player's
    ``<track>`` (fetched with the access token, then given a blob URL) or an upload."""
    tale = owned_tale(call)
    path = tale.outputs.get(output)
    if path is None:
        raise conflict(f"tale {tale.tale_id} has no captions yet (it is {tale.state})")
    suffix = path.rsplit(".", 1)[-1]
    return Response(
        call.container.blobs.get_bytes(path),
        mimetype=CAPTION_TYPES[output],
        content_type=f"{CAPTION_TYPES[output]}; charset=utf-8",
        headers={
            "Content-Disposition": f'inline; filename="{tale.tale_id}.{suffix}"',
            "Cache-Control": "private, no-cache",
        },
    )


def captions_srt(call: Call) -> Response:
    return _captions(call, "captions_srt")


def captions_vtt(call: Call) -> Response:
    return _captions(call, "captions_vtt")


def me(call: Call) -> Me:
    ensure_account(call)
    ledger, settings = call.container.ledger, call.container.settings
    profile = ledger.profile(call.user)
    assert profile is not None
    if profile.subscribed:  # a grace period or a plan kept to its period's end may be over
        from shared.billing.service import refresh

        c = call.container
        refresh(call.user, book=c.billing, ledger=ledger, notifier=c.notifier, settings=settings)
        profile = ledger.profile(call.user)
        assert profile is not None
    period = period_of(time.time())
    entries = [e for e in ledger.entries(call.user) if period_of(e.at) == period]
    # what settlements kept (grants, paid invoices and credits taken back are not use)
    spent = -sum(e.amount for e in entries if e.kind not in GRANT_KINDS)
    started = sum(1 for e in entries if e.kind == "reserve")
    return Me(
        user_id=profile.user_id,
        email=profile.email,
        plan=profile.plan,
        balance=profile.balance,
        monthly_credits=settings.monthly_credits(profile.plan),
        usage=Usage(period=period, tales_started=started, credits_spent=spent),
        subscribed=profile.subscribed,
    )
