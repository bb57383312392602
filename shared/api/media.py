"""``GET /media/<path>``: the media behind the filesystem blob store's signed URLs.

``tale serve`` answers it (the embedded default); on GCP signed URLs are Cloud Storage V4
URLs and Cloud Storage answers them. No access token is needed — the URL's HMAC signature and
expiry are the grant, as with Cloud Storage — so a browser can load a clip, an image or a
voice straight into ``<video>``, ``<img>`` and ``<audio>``. A bad or expired signature is a
403 problem; a path outside the blob root, a temporary file or a missing object is a 404.
Range requests (how browsers seek in a video) get 206 with exactly those bytes; an
unsatisfiable range is a 416 problem.
"""

from __future__ import annotations

import mimetypes
import time
from pathlib import Path

from flask import Request, Response, send_file
from werkzeug.exceptions import RequestedRangeNotSatisfiable

from shared import bootstrap
from shared.adapters.local.blobs import FilesystemBlobStore, SignatureRefused
from shared.api.problems import Problem, said
from shared.ports.blobs import BlobNotFound

#: What the pipeline writes, by suffix (the blob store keeps no content types).
CONTENT_TYPES = {
    ".mp4": "video/mp4",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".wav": "audio/wav",
    ".vtt": "text/vtt; charset=utf-8",
    ".srt": "application/x-subrip; charset=utf-8",
    ".json": "application/json",
    ".eml": "message/rfc822",
}


def content_type(path: Path) -> str:
    known = CONTENT_TYPES.get(path.suffix.lower())
    return known or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def _refused(detail: str) -> Problem:
    return Problem(403, "media-url-refused", "Media URL refused", detail)


def handle(request: Request, path: str) -> Response:
    """Serve the object the signed URL names (``GET``/``HEAD``)."""
    container = bootstrap.container()
    try:
        response = _serve(request, path, container.blobs)
    except Problem as problem:
        response = problem.response(request.path)
    response.headers["Access-Control-Allow-Origin"] = container.settings.cors_origin
    response.vary.add("Origin")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _serve(request: Request, path: str, blobs: object) -> Response:
    if not isinstance(blobs, FilesystemBlobStore):
        raise Problem(404, "not-found", "Not found", "media are served by the media bucket")
    if request.method not in ("GET", "HEAD"):
        raise said(405, "method-not-allowed", "media-read-only", headers={"Allow": "GET, HEAD"})
    raw_expires, signature = request.args.get("expires", ""), request.args.get("signature", "")
    if not raw_expires.isdigit() or len(raw_expires) > 12 or not signature:
        raise _refused("the URL has no valid expires and signature")
    expires = int(raw_expires)
    try:
        file = blobs.open_signed(path, expires, signature)
    except SignatureRefused as exc:
        expired = expires < time.time()
        raise _refused("the URL has expired" if expired else "bad signature") from exc
    except BlobNotFound as exc:
        raise said(404, "not-found", "no-object") from exc
    try:
        response = send_file(
            file, mimetype=content_type(file), conditional=True, etag=True, max_age=0
        )
    except RequestedRangeNotSatisfiable as exc:
        raise said(
            416,
            "range-not-satisfiable",
            "range",
            size=file.stat().st_size,
            headers={"Content-Range": f"bytes */{file.stat().st_size}"},
        ) from exc
    # Cacheable by the browser (seeking re-reads ranges) until the URL expires, never shared.
    response.headers["Cache-Control"] = f"private, max-age={max(0, expires - int(time.time()))}"
    return response
