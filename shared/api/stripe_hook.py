"""The payment provider's webhook (``POST /hooks/stripe``): Stripe's events, and in the
embedded default the local provider's Stripe-shaped ones, through the same code.

Each delivery is verified by the provider's adapter — for Stripe by the ``stripe`` library
(``Stripe-Signature``, the endpoint secret ``TALE_STRIPE_WEBHOOK_SECRET``, a timestamp within
``TALE_STRIPE_WEBHOOK_TOLERANCE_S``) — then processed exactly once by its event id
(``shared.billing.service.handle_event``: in any order, redelivered any number of times).

Answers: 200 with what was done (``applied``, ``duplicate`` for a replayed event id,
``ignored`` for an event that concerns no account of ours); 400 for a bad signature or an
unreadable event (Stripe shows it on the endpoint, and retries); 413 over 512 KiB, read no
further; 503 when a peer is unavailable and 500 for anything else — both redelivered by Stripe
with backoff for three days, and safe to process again.
"""

from __future__ import annotations

import json
import logging

from flask import Request, Response

from shared import bootstrap
from shared.api.problems import Problem
from shared.api.requests import leave_unread, read_body
from shared.billing.service import handle_event
from shared.domain.errors import TransientError
from shared.observability.logs import ensure_logging
from shared.ports.payments import BadSignature

log = logging.getLogger("tale.payments")
MAX_BODY = 512 * 1024


def _process(request: Request, container: bootstrap.Container) -> dict[str, str | None]:
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


def handle(request: Request) -> Response:
    container = bootstrap.container()
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


def deliver_locally(payload: bytes, headers: dict[str, str]) -> None:
    """The local payment provider's delivery: a POST to this very handler, in process."""
    from werkzeug.test import EnvironBuilder

    builder = EnvironBuilder(
        path="/hooks/stripe", method="POST", data=payload, headers=list(headers.items())
    )
    try:
        response = handle(Request(builder.get_environ()))
    finally:
        builder.close()
    if response.status_code != 200:
        raise RuntimeError(
            f"the payment webhook answered {response.status_code}: "
            f"{response.get_data(as_text=True)}"
        )
