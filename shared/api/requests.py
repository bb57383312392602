"""Reading requests safely: size, content type, JSON, schema — each failure a clear 4xx."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from flask import Request
from pydantic import BaseModel, ValidationError

from shared.api.problems import Problem

M = TypeVar("M", bound=BaseModel)


def json_body(request: Request, model: type[M], max_bytes: int) -> M:
    length = request.content_length
    if length is not None and length > max_bytes:
        raise Problem(
            413,
            "too-large",
            "Request too large",
            f"the body has {length} bytes; the limit is {max_bytes}",
        )
    mimetype = request.mimetype or ""
    if mimetype != "application/json":
        raise Problem(
            415,
            "unsupported-media-type",
            "Unsupported media type",
            f"send application/json, not {mimetype or 'nothing'}",
        )
    raw = request.stream.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise Problem(
            413,
            "too-large",
            "Request too large",
            f"the body is over the limit of {max_bytes} bytes",
        )
    try:
        payload: Any = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Problem(
            400, "malformed-json", "Malformed JSON", f"the body is not valid JSON: {exc}"
        ) from exc
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        errors = [
            {
                "field": ".".join(str(p) for p in e["loc"]) or "body",
                "message": e["msg"].removeprefix("Value error, "),
            }
            for e in exc.errors()
        ]
        first = errors[0]
        raise Problem(
            422,
            "invalid-request",
            "Invalid request",
            f"{first['field']}: {first['message']}",
            errors=errors,
        ) from exc


def no_body(request: Request) -> None:
    """Actions take no body; a body is tolerated only when empty or ``{}``."""
    raw = request.get_data(cache=False)[:1024]
    if raw.strip() not in (b"", b"{}"):
        raise Problem(422, "invalid-request", "Invalid request", "this action takes no body")
