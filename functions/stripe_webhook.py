"""Cloud Function ``stripe_webhook``: Stripe's events → plans, credits and accounting.

Trigger: HTTP (functions-framework ``http``), called by Stripe with ``Stripe-Signature``.
Every event is processed exactly once by its id, in any order; see
``shared/api/stripe_hook.py``.
"""

from __future__ import annotations

import functions_framework
from flask import Request, Response
from werkzeug.exceptions import HTTPException

from shared.api.problems import http_error
from shared.api.stripe_hook import handle

# Paths functions-framework's routes cannot match (a CR or LF in them): problem documents too.
functions_framework.errorhandler(HTTPException)(http_error)


@functions_framework.http
def stripe_webhook(request: Request) -> Response:
    return handle(request)
