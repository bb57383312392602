"""The API's OpenAPI 3.1 document, generated from the routes and the pydantic models.

``python -m shared.api.openapi`` writes ``schemas/openapi.json``; ``--check`` fails when the
checked-in file is stale (a test runs it). The API serves it at ``/v1/openapi.json``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from schemas.story import StorySubmission
from schemas.storyboard import StoryboardEdit
from shared.api import quote
from shared.api.billing import CheckoutRequestBody, CheckoutView, PortalView
from shared.api.endpoints import ROUTES, Route
from shared.api.revisions import CutList, RevisionRequest, RevisionStarted
from shared.api.tale_events import STREAM_EVENTS
from shared.api.trends import TrendList, TrendTaleRequest, TrendUsage, TrendView, Unsubscribed
from shared.api.views import (
    Accepted,
    Me,
    MusicView,
    StoryboardView,
    TaleList,
    TaleView,
    VideoLink,
)
from shared.domain.music import CONTENT_TYPES, MAX_MUSIC_BYTES, MAX_MUSIC_SECONDS

PATH = Path(__file__).resolve().parents[2] / "schemas" / "openapi.json"
_RESPONSES: dict[str, type[BaseModel]] = {
    "create_tale": TaleView,
    "list_tales": TaleList,
    "get_tale": TaleView,
    "approve_tale": Accepted,
    "cancel_tale": Accepted,
    "regenerate_shot": Accepted,
    "video_link": VideoLink,
    "get_storyboard": StoryboardView,
    "edit_storyboard": StoryboardView,
    "me": Me,
    "checkout": CheckoutView,
    "portal": PortalView,
    "estimate": quote.Quote,
    "list_trends": TrendList,
    "get_trend": TrendView,
    "create_trend_tale": TaleView,
    "trend_usage": TrendUsage,
    "unsubscribe_preview": Unsubscribed,
    "unsubscribe": Unsubscribed,
    "create_revision": RevisionStarted,
    "list_revisions": CutList,
    "put_music": MusicView,
}
#: Operations that answer nothing (204).
_EMPTY = {"delete_music"}
#: Operations whose body is a file, not JSON: its media types and what it is.
_FILES: dict[str, tuple[tuple[str, ...], str]] = {
    "put_music": (
        CONTENT_TYPES,
        f"The audio file itself, at most {MAX_MUSIC_BYTES} bytes "
        f"({MAX_MUSIC_BYTES // (1024 * 1024)} MiB) and {MAX_MUSIC_SECONDS} seconds: MP3, AAC "
        "(ADTS), MP4/M4A, WAV, Ogg, FLAC or WebM, recognised by its own bytes (the "
        "Content-Type must be one of these audio types, whichever). A track shorter than the "
        "tale is looped under it, and ducked under the narration.",
    )
}
#: Other success answers of an operation, beside its route's status.
_ALSO: dict[str, dict[str, str]] = {
    "put_music": {
        "201": "Set: the tale had no music",
        "200": "Set: the track replaced another (or was the same file again)",
    },
}
#: What an error status means for one operation, where it is not ``_ERRORS``'s meaning.
_ERRORS_OF: dict[str, dict[str, str]] = {
    "put_music": {
        "409": "The tale is stitching, or failed or was cancelled before it had a video",
        "413": f"Content-Length over {MAX_MUSIC_BYTES} bytes (refused before it is read)",
        "415": "Not one of the audio types",
        "422": "Not a track Tale can mix (`reason`: unknown-format, no-audio, undecodable, "
        "too-short, too-long)",
    },
    "delete_music": {
        "409": "The tale is stitching, or failed or was cancelled before it had a video",
    },
}
#: Operations that answer a file as text: its media type and what it holds.
_TEXT: dict[str, tuple[str, str]] = {
    "captions_srt": (
        "application/x-subrip",
        "SubRip captions: one cue per narration segment, timed inside its shot of the cut.",
    ),
    "captions_vtt": (
        "text/vtt",
        "WebVTT captions (for a player's <track>): one cue per narration segment, timed "
        "inside its shot of the cut.",
    ),
}
#: Operations that answer a ``text/event-stream``: the models of their events' ``data``.
_STREAMS: dict[str, dict[str, type[BaseModel]]] = {"tale_events": STREAM_EVENTS}
#: Request bodies other than ``create_tale``'s submission.
_BODIES: dict[str, type[BaseModel]] = {
    "create_trend_tale": TrendTaleRequest,
    "create_revision": RevisionRequest,
    "checkout": CheckoutRequestBody,
}
#: Conditional edits: their bodies; they require ``If-Match`` (the ``ETag`` of what they edit).
_CONDITIONAL: dict[str, type[BaseModel]] = {"edit_storyboard": StoryboardEdit}
#: Answers that carry an ``ETag`` (the storyboard's version).
_TAGGED = {"get_storyboard", "edit_storyboard"}
_QUERY: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "list_trends": [
        ("region", {"type": "string", "pattern": "^[A-Za-z]{2}$"}),
        ("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}),
        ("language", {"type": "string", "enum": ["ko", "en", "ja", "zh"], "default": "en"}),
        ("status", {"type": "string", "enum": ["rising", "steady", "fading", "new"]}),
    ],
    "estimate": quote.QUERY,
    "get_trend": [("language", {"type": "string", "enum": ["ko", "en", "ja", "zh"]})],
    "unsubscribe_preview": [("token", {"type": "string", "maxLength": 80})],
    "unsubscribe": [("token", {"type": "string", "maxLength": 80})],
}
_ERRORS = {
    "400": "Malformed request",
    "401": "Missing or invalid access token",
    "402": "Not enough credits",
    "404": "No such tale (or not yours)",
    "409": "Not possible in the tale's current state",
    "413": "Body too large",
    "415": "Not application/json",
    "422": "Invalid request",
    "429": "Rate limit or running-tale cap (see Retry-After)",
}
_PROBLEM = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
    },
}


def _schemas() -> dict[str, Any]:
    streamed = {m for events in _STREAMS.values() for m in events.values()}
    models = [(m, "serialization") for m in {*_RESPONSES.values(), *streamed}]
    models.append((StorySubmission, "validation"))
    models += [(m, "validation") for m in [*_BODIES.values(), *_CONDITIONAL.values()]]
    _, defs = models_json_schema(
        sorted(models, key=lambda m: m[0].__name__),  # type: ignore[arg-type]
        ref_template="#/components/schemas/{model}",
    )
    return {**defs.get("$defs", {}), "Problem": _PROBLEM}


def _success(name: str) -> dict[str, Any]:
    if name in _EMPTY:
        return {"description": "Done (also when there was nothing to do)"}
    if name in _TEXT:
        media_type, description = _TEXT[name]
        return {"description": description, "content": {media_type: {"schema": {"type": "string"}}}}
    if name not in _STREAMS:
        ref = {"$ref": f"#/components/schemas/{_RESPONSES[name].__name__}"}
        ok: dict[str, Any] = {
            "description": "OK",
            "content": {"application/json": {"schema": ref}},
        }
        if name in _TAGGED:
            ok["headers"] = {
                "ETag": {
                    "description": "The storyboard's version, quoted: send it as If-Match "
                    "to edit it.",
                    "schema": {"type": "string", "pattern": '^"[0-9]+"$'},
                }
            }
        return ok
    events = _STREAMS[name]
    listed = ", ".join(f"`{event}` ({model.__name__})" for event, model in events.items())
    return {
        "description": "Server-sent events, each with an `id`, an `event` name and JSON "
        f"`data`: {listed}. The stream ends after `end` or after a bounded time; reconnect "
        "with `Last-Event-ID`.",
        "content": {
            "text/event-stream": {
                "schema": {"type": "string"},
                "x-events": {
                    event: {"$ref": f"#/components/schemas/{model.__name__}"}
                    for event, model in events.items()
                },
            }
        },
    }


def _query(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter; a ``description`` in its schema becomes the parameter's."""
    schema = dict(schema)
    param: dict[str, Any] = {"name": name, "in": "query", "required": False}
    if "description" in schema:
        param["description"] = schema.pop("description")
    return {**param, "schema": schema}


def _operation(route: Route) -> dict[str, Any]:
    name = route.handler.__name__
    op: dict[str, Any] = {
        "operationId": name,
        "summary": route.summary,
        "responses": {str(route.status): _success(name)},
    }
    for code, text in _ALSO.get(name, {}).items():
        op["responses"][code] = {**_success(name), "description": text}
    for code, text in {**_ERRORS, **_ERRORS_OF.get(name, {})}.items():
        op["responses"][code] = {
            "description": text,
            "content": {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            },
        }
    params: list[dict[str, Any]] = [
        {
            "name": p,
            "in": "path",
            "required": True,
            "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
        }
        for p in ("tale_id", "shot", "trend_id")
        if "{" + p + "}" in route.pattern
    ]
    params += [_query(q, schema) for q, schema in _QUERY.get(name, [])]
    if route.api_key:
        op["security"] = [{"bearer": []}, {"apiKey": []}]
    if route.public:
        op["security"] = []
    if name in _BODIES:
        params.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "minLength": 1, "maxLength": 200},
            }
        )
        op["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"$ref": f"#/components/schemas/{_BODIES[name].__name__}"}
                }
            },
        }
    if name in _FILES:
        types, description = _FILES[name]
        op["requestBody"] = {
            "required": True,
            "description": description,
            "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in types},
        }
    if name == "create_tale":
        params.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "minLength": 1, "maxLength": 200},
            }
        )
        op["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/StorySubmission"}}
            },
        }
    if name in _CONDITIONAL:
        params.append(
            {
                "name": "If-Match",
                "in": "header",
                "required": True,
                "description": "The ETag of the storyboard the edit was made on (from GET "
                "…/storyboard or the last edit). Missing: 428; no longer current: 412 with "
                "the current ETag.",
                "schema": {"type": "string", "pattern": '^"[0-9]+"$'},
            }
        )
        op["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"$ref": f"#/components/schemas/{_CONDITIONAL[name].__name__}"}
                }
            },
        }
        for code, text in (
            ("412", "The storyboard changed since that ETag (another edit): reload it"),
            ("428", "If-Match is missing"),
        ):
            op["responses"][code] = {
                "description": text,
                "content": {
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                },
            }
    if name in _STREAMS:
        params.append(
            {
                "name": "Last-Event-ID",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "pattern": r"^\d{1,9}\.\d{1,12}$"},
            }
        )
    if params:
        op["parameters"] = params
    return op


def document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        paths.setdefault(route.pattern, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Tale API",
            "version": "1.0.0",
            "description": "Turn stories into short videos. Authenticate with a Supabase "
            "access token. Errors are RFC 9457 problem details.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            },
        },
    }


def text() -> str:
    return json.dumps(document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if "--check" in args:
        if not PATH.exists() or PATH.read_text(encoding="utf-8") != text():
            print("schemas/openapi.json is stale: run python -m shared.api.openapi")
            return 1
        return 0
    PATH.write_text(text(), encoding="utf-8")
    print(f"wrote {PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
