"""The payment webhook's handling, for a given container: what ``POST /hooks/stripe``
(``shared.api.stripe_hook``) answers for the process's container, and where the embedded
default's local payment provider delivers its events, in process, for the container that
built it. Kept apart from both so that the composition root (``shared.bootstrap``) can wire
the local provider to it without importing the API module that imports the root.

Each delivery is verified by the provider's adapter, then processed exactly once by its event
id (``shared.billing.service.handle_event``); see ``shared.api.stripe_hook`` for the answers.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from flask import Request, Response

from shared.api.problems import Problem
from shared.api.requests import leave_unread, read_body
from shared.billing.service import handle_event
from shared.domain.errors import TransientError
from shared.observability.logs import ensure_logging
from shared.ports.payments import BadSignature

if TYPE_CHECKING:
    from shared.bootstrap import Container

log = logging.getLogger("tale.payments")
MAX_BODY = 512 * 1024


def _process(request: Request, container: Container) -> dict[str, str | None]:
    if request.method != "POST":
        raise Problem(
            405, "method-not-allowed", "Method not allowed", "send POST", headers={"Allow": "POST"}
        )
    body = read_body(request, MAX_BODY)
    payments = container.payments
    try:
        event = payments.event(body, dict(request.headers))
    except BadSignature as exc:
        raise Problem(400, "bad-signature", "Webhook rejected", str(exc)) from exc
    except ValueError as exc:  # verified, but not an event we can read
        raise Problem(400, "invalid-webhook", "Invalid webhook body", str(exc)) from exc
    handled = handle_event(
        event,
        book=container.billing,
        payments=payments,
        ledger=container.ledger,
        notifier=container.notifier,
        settings=container.settings,
    )
    return {"id": handled.event_id, "outcome": handled.outcome}


def respond(request: Request, container: Container) -> Response:
    """The webhook's answer to ``request``, processed with ``container``'s parts."""
    ensure_logging(container.settings)
    try:
        result = _process(request, container)
    except Problem as problem:
        return leave_unread(request, problem.response(request.path))
    except TransientError as exc:
        log.warning("payment webhook deferred: %s", exc)
        busy = Problem(503, "unavailable", "Try again later", "a service we depend on is busy")
        return leave_unread(request, busy.response())
    except Exception:
        log.exception("unexpected error on the payment webhook")
        failed = Problem(500, "internal", "Internal error", "something went wrong; retry later")
        return leave_unread(request, failed.response())
    return Response(json.dumps(result), status=200, mimetype="application/json")


def deliver(payload: bytes, headers: dict[str, str], container: Container) -> None:
    """The local payment provider's delivery: a POST to the webhook's handling, in process,
    with the container that built the provider."""
    from werkzeug.test import EnvironBuilder

    builder = EnvironBuilder(
        path="/hooks/stripe", method="POST", data=payload, headers=list(headers.items())
    )
    try:
        response = respond(Request(builder.get_environ()), container)
    finally:
        builder.close()
    if response.status_code != 200:
        raise RuntimeError(
            f"the payment webhook answered {response.status_code}: "
            f"{response.get_data(as_text=True)}"
        )
