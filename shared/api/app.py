"""The API's front door: routing, CORS, authentication, rate limits and error mapping.

``handle(request)`` is what the ``api`` Cloud Function (functions-framework ``http``) and
``tale serve`` call. Every error is an RFC 9457 problem with a 4xx status; an unexpected
exception is logged and answered with a 500 problem that reveals nothing.
"""

from __future__ import annotations

import json
import logging
import time

from flask import Request, Response
from pydantic import BaseModel

from shared import bootstrap
from shared.api import routes, storyboard_edit
from shared.api import trends as trend_routes
from shared.api.endpoints import ROUTES, Route
from shared.api.problems import Problem, printable, remember_user_language, said
from shared.api.requests import check_declared_size, leave_unread
from shared.auth.tokens import AuthError, Identity
from shared.observability.logs import ensure_logging
from shared.ports.claims import rate_window

log = logging.getLogger("tale.api")
_COMPILED = [(r, r.regex) for r in ROUTES]
_AUTH_PROBLEMS = {
    401: ("unauthorized", "Not authenticated"),
    403: ("forbidden", "Forbidden"),
    503: ("auth-unavailable", "Authentication temporarily unavailable"),
}


def _cors(response: Response, origin: str) -> Response:
    response.headers["Access-Control-Allow-Origin"] = origin
    response.vary.add("Origin")  # a problem document also varies by Accept-Language
    response.headers["Access-Control-Expose-Headers"] = "Location, Retry-After, ETag"
    return response


def _match(request: Request) -> tuple[Route, dict[str, str]]:
    allowed = []
    for route, regex in _COMPILED:
        found = regex.match(request.path)
        if found:
            if route.method == request.method:
                return route, found.groupdict()
            allowed.append(route.method)
    if allowed:
        raise said(
            405,
            "method-not-allowed",
            "method-not-allowed",
            method=request.method,
            path=printable(request.path),
            headers={"Allow": ", ".join(sorted(set(allowed)))},
        )
    raise said(404, "not-found", "no-endpoint", path=printable(request.path))


def _rate_limit(container: bootstrap.Container, user: str, limit: int | None = None) -> None:
    limit = limit or container.settings.api_rate_per_minute
    minute = int(time.time() // 60)
    if container.claims.bump(rate_window(user, minute)) > limit:
        retry = 60 - int(time.time() % 60)
        raise said(
            429, "rate-limited", "rate-limited", limit=limit, headers={"Retry-After": str(retry)}
        )


def _dispatch(request: Request, container: bootstrap.Container) -> Response:
    if request.method == "GET" and request.path == "/v1/openapi.json":
        from shared.api.openapi import document

        return Response(json.dumps(document()), mimetype="application/json")
    route, params = _match(request)
    # The route's body limit, before anything is read or verified: a body the route would
    # refuse costs nothing (each reader then holds its own limit, chunked bodies included).
    check_declared_size(
        request,
        0 if route.method == "GET" else route.max_body or container.settings.api_max_body_bytes,
    )
    api_key = request.headers.get(trend_routes.API_KEY_HEADER) if route.api_key else None
    limit = None
    if route.public:
        address = request.remote_addr or "unknown"
        identity = Identity(user_id=f"public:{address}", email=None, role="anon", claims={})
    elif api_key is not None:
        identity, limit = trend_routes.key_identity(container, api_key)
    else:
        try:
            identity = container.verifier.verify(request.headers.get("Authorization"))
        except AuthError as exc:
            kind, title = _AUTH_PROBLEMS.get(exc.status, _AUTH_PROBLEMS[401])
            headers = {"WWW-Authenticate": 'Bearer realm="tale"'} if exc.status == 401 else {}
            if exc.status == 503:
                headers["Retry-After"] = "10"
            raise Problem(exc.status, kind, title, str(exc), headers=headers) from exc
        remember_user_language(identity.claims)  # problems without Accept-Language use it
    _rate_limit(container, identity.user_id, limit)
    result = route.handler(routes.Call(request, identity, container, params))
    if isinstance(result, Response):  # a stream (server-sent events)
        return result
    status, headers = route.status, {}
    if isinstance(result, tuple):
        status, result, headers = result
    assert isinstance(result, BaseModel)
    tag = storyboard_edit.etag_of(result)  # a storyboard's version: the If-Match of an edit
    if tag is not None:
        headers = {"ETag": tag, **headers}
    return Response(
        result.model_dump_json(), status=status, headers=headers, mimetype="application/json"
    )


def handle(request: Request) -> Response:
    container = bootstrap.container()
    ensure_logging(container.settings)  # structured logs on GCP, once per process
    origin = container.settings.cors_origin
    if request.method == "OPTIONS":
        response = Response(
            status=204,
            headers={
                "Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
                "Access-Control-Allow-Headers": (
                    "Authorization, Content-Type, Idempotency-Key, X-API-Key, Last-Event-ID, "
                    "If-Match"
                ),
                "Access-Control-Max-Age": "600",
            },
        )
        return _cors(response, origin)
    try:
        response = _dispatch(request, container)
    except Problem as problem:
        response = problem.response(printable(request.path))
    except Exception:
        log.exception("unexpected error on %s %s", request.method, request.path)
        response = said(500, "internal", "internal-retry").response()
    return _cors(leave_unread(request, response), origin)
