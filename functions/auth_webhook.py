"""Cloud Function ``auth_webhook``: Supabase sign-up → profile and free-plan credits.

Trigger: HTTP (functions-framework ``http``), called by Supabase with Standard Webhooks
signatures. Idempotent on the user and the webhook id; see ``shared/api/webhook.py``.
"""

from __future__ import annotations

import functions_framework
from flask import Request, Response
from werkzeug.exceptions import HTTPException

from shared.api.problems import http_error
from shared.api.webhook import handle

# Paths functions-framework's routes cannot match (a CR or LF in them): problem documents too.
functions_framework.errorhandler(HTTPException)(http_error)


@functions_framework.http
def auth_webhook(request: Request) -> Response:
    return handle(request)
