"""Cloud Function ``auth_webhook``: Supabase sign-up → profile and free-plan credits.

Trigger: HTTP (functions-framework ``http``), called by Supabase with Standard Webhooks
signatures. Idempotent on the user and the webhook id; see ``shared/api/webhook.py``.
"""

from __future__ import annotations

import functions_framework
from flask import Request, Response

from shared.api.webhook import handle


@functions_framework.http
def auth_webhook(request: Request) -> Response:
    return handle(request)
