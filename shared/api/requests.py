"""Reading requests safely: size, content type, JSON, schema — each failure a clear 4xx.

Every body is bounded *before* it is read, by the limit of the route that reads it: a declared
``Content-Length`` over the limit is refused unread (413), and a chunked body is read in small
pieces and refused as soon as it passes the limit, so no request costs more memory than its
route allows. A chunked body whose framing is broken is a 400. JSON is parsed with limits on
nesting depth, string and number length (``shared.api.safe_json``), and a body that does not
fit the schema is described field by field in our own words, never in the validator's.
"""

from __future__ import annotations

from typing import Any, BinaryIO, TypeVar, cast

from flask import Request, Response
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import ClientDisconnected

from shared.api.problems import Problem, request_language, said
from shared.api.safe_json import JsonLimits, JsonRefused, loads
from shared.api.validation import field_errors

M = TypeVar("M", bound=BaseModel)

NO_BODY_MAX = 16
"""Bytes an action without a body accepts: nothing, or ``{}`` (what many clients send);
anything declared larger is refused unread."""
READ_CHUNK = 64 * 1024
_CONSUMED = "tale.body_consumed"
MAX_LENGTH_DIGITS = 18


def too_large(limit: int, length: int | None = None) -> Problem:
    if length is None:
        return said(413, "too-large", "too-large-unknown", limit=limit)
    return said(413, "too-large", "too-large", length=length, limit=limit)


def _malformed_body(detail: str) -> Problem:
    return Problem(400, "malformed-body", "Malformed body", detail)


def declared_length(request: Request) -> int | None:
    """The body's ``Content-Length``, or None when it is chunked (or has none and is empty).
    A length that is not a plain number is a 400, as is a chunked body with a length too."""
    environ = request.environ
    raw = environ.get("CONTENT_LENGTH")
    if _chunked(request):
        if raw not in (None, ""):
            raise _malformed_body("send either Content-Length or a chunked body, not both")
        return None
    if raw in (None, ""):
        return 0
    text = str(raw).strip()
    if not text.isascii() or not text.isdigit() or len(text) > MAX_LENGTH_DIGITS:
        raise _malformed_body("Content-Length is not a number of bytes")
    return int(text)


def _chunked(request: Request) -> bool:
    coding = str(request.environ.get("HTTP_TRANSFER_ENCODING", "")).lower()
    return "chunked" in coding


def check_declared_size(request: Request, limit: int) -> None:
    """413 when the declared ``Content-Length`` is over ``limit`` (nothing is read)."""
    length = declared_length(request)
    if length is not None and length > limit:
        raise too_large(limit, length)


def read_body(request: Request, limit: int) -> bytes:
    """The whole body, if it has at most ``limit`` bytes; 413 without reading the rest if it
    has more, 400 if a chunked body is malformed or the body ends before its length."""
    length = declared_length(request)
    if length is not None and length > limit:
        raise too_large(limit, length)
    if length == 0:
        return b""
    environ = request.environ
    if length is None and not environ.get("wsgi.input_terminated"):
        # The server passed the chunked framing through undecoded: it cannot be read safely.
        raise said(411, "length-required", "length-required")
    # werkzeug's stream: bounded by Content-Length, the server's decoded chunks otherwise
    body = _read(cast(BinaryIO, request.stream), limit, length)
    if length is not None and len(body) < length:
        raise _malformed_body(f"the body ended after {len(body)} of its {length} bytes")
    request.environ[_CONSUMED] = True
    return body


def body_pending(request: Request) -> bool:
    """Whether the request has body bytes that were not read."""
    if request.environ.get(_CONSUMED):
        return False
    try:
        length = declared_length(request)
    except Problem:
        return True
    return length is None or length > 0


def leave_unread(request: Request, response: Response) -> Response:
    """``response``, sent so that a body nobody read stays unread.

    functions-framework reads the whole body of every request after the answer
    (``request.get_data()`` in its ``after_request`` hook: all of it, in memory), except when
    the answer is a stream. So the answer to a request whose body was not read — a 413, a 401
    before reading — is sent as a stream of its one piece; the server then closes or drains
    the connection in small reads."""
    if body_pending(request) and not response.is_streamed:
        data = response.get_data()
        response.response = iter((data,))
    return response


def _read(stream: BinaryIO, limit: int, length: int | None) -> bytes:
    """At most ``length`` bytes (chunked: until the end), in small reads; 413 past ``limit``."""
    parts: list[bytes] = []
    total = 0
    wanted = limit + 1 if length is None else length
    while total < wanted:
        try:
            data = stream.read(min(READ_CHUNK, wanted - total))
        except ClientDisconnected:
            break  # shorter than its Content-Length: said by the caller
        except (OSError, ValueError) as exc:  # a broken chunk: the servers raise these
            raise _malformed_body("the chunked body is malformed") from exc
        if not data:
            break
        parts.append(data)
        total += len(data)
    if total > limit:
        raise too_large(limit)
    return b"".join(parts)


def parse_json(raw: bytes, limits: JsonLimits | None = None) -> Any:
    """``raw`` as JSON within ``limits``; 400 problems otherwise."""
    try:
        return loads(raw, limits or JsonLimits())
    except JsonRefused as exc:
        raise Problem(400, "malformed-json", "Malformed JSON", str(exc)) from exc


def json_body(request: Request, model: type[M], max_bytes: int) -> M:
    check_declared_size(request, max_bytes)
    mimetype = request.mimetype or ""
    if mimetype != "application/json":
        raise said(
            415, "unsupported-media-type", "unsupported-media-type", mimetype=mimetype or "nothing"
        )
    payload = parse_json(read_body(request, max_bytes))
    return validated(model, payload)


def validated(model: type[M], payload: Any) -> M:
    """``payload`` as ``model``, or a 422 problem naming every field that is wrong."""
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        errors = field_errors(exc, request_language())
        first = errors[0]
        raise said(
            422,
            "invalid-request",
            "field",
            extra={"errors": errors},
            field=first["field"],
            message=first["message"],
        ) from None


def no_body(request: Request) -> None:
    """Actions take no body: empty, or ``{}``; anything declared larger is refused unread."""
    raw = read_body(request, NO_BODY_MAX)
    if raw.strip() not in (b"", b"{}"):
        raise said(422, "invalid-request", "no-body")
