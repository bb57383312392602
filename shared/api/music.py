"""``PUT``/``DELETE /v1/tales/{id}/music``: the owner's background music for a tale.

Thin: check what can be checked before the body is read, read it within its limit, call the
use case (``shared.usecases.set_music``), map its domain errors to problem documents.

The body of ``PUT`` is the audio file itself, sent with its audio ``Content-Type``. Its limit
(``MAX_MUSIC_BYTES``) is the route's (``Route.max_body``), so a declared ``Content-Length``
over it is refused with 413 before anything is read or authenticated. Still before reading:
another user's tale is not found (404), a type that is not one of ``CONTENT_TYPES`` is a 415
and a tale whose music can no longer change a 409. Then the body is read (a chunked one in
64 KiB pieces, refused past the limit) and decoded whole: a file that is not a track Tale can
mix is a 422 saying why. The answer describes the track: 201 when the tale had none, 200 when
it replaced one (or was the same file again). ``DELETE`` answers 204 whether there was a
track or not.
"""

from __future__ import annotations

from flask import Response

from shared.api.problems import Problem, not_found, said
from shared.api.requests import no_body, read_body, too_large
from shared.api.routes import Call, owned_tale
from shared.api.views import MusicView
from shared.domain.errors import InvalidMusic, MusicLocked, TaleNotFound, UnsupportedMusicType
from shared.domain.music import MAX_MUSIC_BYTES
from shared.usecases.set_music import (
    changeable_tale,
    check_type,
    read_music,
    remove_music,
    set_music,
)


def put_music(call: Call) -> tuple[int, MusicView, dict[str, str]]:
    """Set the tale's background music (the audio file as the body)."""
    tale = owned_tale(call)
    c = call.container
    try:
        check_type(call.request.mimetype)
        changeable_tale(c.store, tale.tale_id, call.user)
        music = read_music(read_body(call.request, MAX_MUSIC_BYTES), call.request.mimetype)
        result = set_music(tale.tale_id, music, store=c.store, blobs=c.blobs, owner=call.user)
    except TaleNotFound as exc:
        raise not_found(f"tale {tale.tale_id}") from exc
    except MusicLocked as exc:
        raise locked(exc) from exc
    except UnsupportedMusicType as exc:
        problem = Problem(415, "unsupported-media-type", "Unsupported media type", str(exc))
        raise problem.saying("music-type", **exc.values) from exc
    except InvalidMusic as exc:
        raise refused(exc) from exc
    view = MusicView.of(result.track)
    assert view is not None
    return (201 if result.created else 200), view, {}


def delete_music(call: Call) -> Response:
    """Remove the tale's background music; 204 whether it had any or not."""
    no_body(call.request)
    tale = owned_tale(call)
    c = call.container
    try:
        remove_music(tale.tale_id, store=c.store, blobs=c.blobs, owner=call.user)
    except TaleNotFound as exc:
        raise not_found(f"tale {tale.tale_id}") from exc
    except MusicLocked as exc:
        raise locked(exc) from exc
    return Response(status=204)


def locked(exc: MusicLocked) -> Problem:
    return said(409, "conflict", "music-locked", tale_id=exc.tale_id, state=exc.state)


def refused(exc: InvalidMusic) -> Problem:
    """A file that is not a track Tale can mix: 422 naming the ``reason`` (for programs), or
    413 for one over the limit."""
    if exc.reason == "too-large":
        return too_large(MAX_MUSIC_BYTES, int(str(exc.values["length"])))
    problem = Problem(422, "invalid-music", "Not a track Tale can use", str(exc), reason=exc.reason)
    return problem.saying(f"music-{exc.reason}", **exc.values)
