"""Cloud Function ``api``: the HTTP API for the web frontend, versioned under ``/v1``.

Trigger: HTTP (functions-framework ``http``). Authentication: Supabase access tokens.
Creating a tale is idempotent with an ``Idempotency-Key`` header; errors are RFC 9457
problem details. See ``shared/api`` and ``schemas/openapi.json``.
"""

from __future__ import annotations

import functions_framework
from flask import Request, Response

from shared.api.app import handle


@functions_framework.http
def api(request: Request) -> Response:
    return handle(request)
