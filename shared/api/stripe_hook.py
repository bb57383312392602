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

The handling itself is ``shared.api.payment_events``, which the local provider's in-process
deliveries reach too.
"""

from __future__ import annotations

from flask import Request, Response

from shared import bootstrap
from shared.api.payment_events import respond


def handle(request: Request) -> Response:
    return respond(request, bootstrap.container())
