"""Cloud Function ``api``: the HTTP API for the web frontend, versioned under ``/v1``.

Trigger: HTTP (functions-framework ``http``). Authentication: Supabase access tokens.
Creating a tale is idempotent with an ``Idempotency-Key`` header; errors are RFC 9457
problem details. See ``shared/api`` and ``schemas/openapi.json``.
"""

from __future__ import annotations

import functions_framework
from flask import Request, Response
from werkzeug.exceptions import HTTPException

from shared.api.app import handle
from shared.api.problems import http_error

# Paths functions-framework's routes cannot match (a CR or LF in them): problem documents too.
functions_framework.errorhandler(HTTPException)(http_error)


@functions_framework.http
def api(request: Request) -> Response:
    return handle(request)
