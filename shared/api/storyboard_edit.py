"""``PATCH /v1/tales/{id}/storyboard``: edit the storyboard before approving it.

Thin: find the caller's tale, read ``If-Match`` and the operations, call the use case
(``shared.usecases.edit_storyboard``), map its domain errors to problem documents, answer the
edited storyboard as ``GET …/storyboard`` does, with its new ``ETag``.

The storyboard's ``ETag`` is its version, quoted (``"3"``); every storyboard answer carries it
(``etag_of``), and an edit must send it back in ``If-Match``: without one, 428; with one that
is no longer current (another tab edited meanwhile), 412 with the current ``ETag``.
"""

from __future__ import annotations

import re

from pydantic import BaseModel

from schemas.storyboard import StoryboardEdit
from shared.api import reads
from shared.api.problems import REFUSALS, Problem, conflict, not_found, refusal
from shared.api.requests import json_body
from shared.api.routes import Call, owned_tale
from shared.api.views import StoryboardView
from shared.domain.errors import (
    InvalidEdit,
    PlanVersionMismatch,
    PlanVersionRequired,
    TaleNotFound,
    WrongState,
)
from shared.usecases import edit_storyboard as usecase

_STRONG_TAG = re.compile(r'^"(\d{1,9})"$')


def etag(version: int) -> str:
    return f'"{version}"'


def etag_of(result: BaseModel) -> str | None:
    """The ``ETag`` of an answer that is a storyboard (its version); None for others."""
    return etag(result.version) if isinstance(result, StoryboardView) else None


def if_match(call: Call, current: int) -> int | None:
    """The storyboard version ``If-Match`` names; None when there is none (or ``*``, which
    names no version). Anything else that is not a strong ETag cannot match: 412."""
    raw = call.request.headers.get("If-Match")
    if raw is None or raw.strip() == "*":
        return None
    found = _STRONG_TAG.match(raw.strip())
    if found is None:
        raise _stale(f"If-Match {raw.strip()} is not the storyboard's ETag", current)
    return int(found.group(1))


def edit_storyboard(call: Call) -> tuple[int, StoryboardView, dict[str, str]]:
    """Edit the storyboard of a tale awaiting approval; 200 with the edited storyboard."""
    tale = owned_tale(call)
    c = call.container
    expected = if_match(call, tale.plan_version)
    if expected is None:
        raise _required(PlanVersionRequired(tale.plan_version))
    body = json_body(call.request, StoryboardEdit, c.settings.api_max_body_bytes)
    command = usecase.EditStoryboard(tale.tale_id, body, expected, owner=call.user)
    try:
        edited = usecase.edit_storyboard(
            command, store=c.store, ledger=c.ledger, settings=c.settings
        )
    except TaleNotFound as exc:
        raise not_found(f"tale {tale.tale_id}") from exc
    except PlanVersionRequired as exc:
        raise _required(exc) from exc
    except PlanVersionMismatch as exc:
        raise _stale(str(exc), exc.current).saying(
            "version-mismatch", expected=exc.expected, current=exc.current
        ) from exc
    except WrongState as exc:
        raise conflict(str(exc)) from exc
    except InvalidEdit as exc:
        raise Problem(422, "invalid-edit", "Invalid storyboard edit", str(exc)) from exc
    except REFUSALS as exc:  # credits, the spending cap, what the video model renders
        raise refusal(exc) from exc
    view = reads.storyboard_view(c, edited.tale, edited.plan)
    return 200, view, {"ETag": etag(edited.tale.plan_version)}


def _required(exc: PlanVersionRequired) -> Problem:
    return Problem(
        428, "precondition-required", "If-Match required", str(exc), version=exc.current
    ).saying("version-required", version=exc.current)


def _stale(detail: str, current: int) -> Problem:
    return Problem(
        412,
        "precondition-failed",
        "The storyboard changed",
        detail,
        headers={"ETag": etag(current)},
        version=current,
    )
