"""``/v1/tales/{id}/revisions``: revise a finished tale shot by shot, and list its cuts.

Thin: parse, call the use case (``shared.usecases.revise_tale``), map its domain errors to
problem documents. Another user's tale is not found, as everywhere.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field

from schemas.plan import Camera
from shared.api.problems import REFUSALS, Problem, conflict, not_found, refusal
from shared.api.requests import json_body
from shared.api.routes import Call, owned_tale
from shared.domain.errors import InvalidRevision, TaleNotFound, TooManyRevisions, WrongState
from shared.usecases.revise_tale import ReviseTale, ShotChange, revise_tale

_CUT = re.compile(r"^cut(\d+):video$")


class ShotRevision(BaseModel):
    """One shot to render again, and what changes in it (nothing: the same shot, re-rolled)."""

    model_config = ConfigDict(extra="forbid")
    shot: int = Field(ge=1, le=64, description="The shot's number, from 1.")
    narration: str | None = Field(default=None, max_length=2000)
    prompt: str | None = Field(default=None, min_length=1, max_length=4000)
    camera: Camera | None = None


class RevisionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    shots: list[ShotRevision] = Field(min_length=1, max_length=64)


class RevisionStarted(BaseModel):
    id: str
    revision: int
    credits: int = Field(description="Credits reserved for the re-rendered seconds.")
    status: str


class Cut(BaseModel):
    revision: int = Field(description="0: the first cut.")
    current: bool
    url: str = Field(description="A time-limited signed URL of the cut's video.")
    expires_in: int


class CutList(BaseModel):
    revision: int = Field(description="The tale's current revision.")
    status: str
    cuts: list[Cut]


def create_revision(call: Call) -> RevisionStarted:
    c = call.container
    body = json_body(call.request, RevisionRequest, c.settings.api_max_body_bytes)
    tale = owned_tale(call)
    command = ReviseTale(
        tale_id=tale.tale_id,
        owner=call.user,
        shots=tuple(
            ShotChange(s.shot, narration=s.narration, prompt=s.prompt, camera=s.camera)
            for s in body.shots
        ),
        idempotency_key=call.request.headers.get("Idempotency-Key"),
    )
    try:
        revised = revise_tale(
            command,
            store=c.store,
            bus=c.bus,
            claims=c.claims,
            ledger=c.ledger,
            settings=c.settings,
        )
    except TaleNotFound as exc:
        raise not_found(f"tale {tale.tale_id}") from exc
    except InvalidRevision as exc:
        raise Problem(422, "invalid-request", "Invalid request", str(exc)) from exc
    except (WrongState, TooManyRevisions) as exc:
        raise conflict(str(exc)) from exc
    except REFUSALS as exc:
        raise refusal(exc) from exc
    return RevisionStarted(
        id=tale.tale_id,
        revision=revised.revision,
        credits=revised.credits,
        status=revised.tale.state.value,
    )


def list_revisions(call: Call) -> CutList:
    tale = owned_tale(call)
    c = call.container
    ttl = c.settings.video_url_ttl_s
    cuts = [
        (int(match.group(1)), path)
        for key, path in tale.outputs.items()
        if (match := _CUT.match(key))
    ]
    if "video" in tale.outputs and tale.state.value == "completed":
        cuts.append((tale.revision, tale.outputs["video"]))
    by_revision = dict(sorted(cuts))  # a cut's path is fixed by its revision
    return CutList(
        revision=tale.revision,
        status=tale.state.value,
        cuts=[
            Cut(
                revision=n,
                current=n == tale.revision,
                url=c.blobs.signed_url(path, ttl),
                expires_in=ttl,
            )
            for n, path in by_revision.items()
        ],
    )
