"""The web app as ``tale serve`` serves it: the build (``web/dist``) at ``/``, its runtime
configuration at ``/config.json``, and a development sign-in at ``/dev/token``.

**One build, two hosts.** ``npm run build`` in ``web/`` makes static files; ``tale serve``
serves them here, and terraform uploads the same files to the web bucket behind Cloud CDN
(``terraform/web.tf``). What differs between the two is ``/config.json``: here it is made from
the settings (local sign-in while the local signing key is in use, Supabase sign-in when
``TALE_SUPABASE_URL`` and ``TALE_SUPABASE_ANON_KEY`` are set); on GCP terraform writes it.

**A content security policy** on every page: scripts and styles from this origin only (the
build has no inline script or style), connections to this origin and the Supabase project,
images and media from this origin, the signed media URLs' origin and ``blob:`` (the captions
track is fetched with the token and played from a blob), no frames, no plugins, no ``<base>``.

**The development sign-in.** ``POST /dev/token`` with ``{"email": …}`` answers a token minted
by the local signer (``tale token`` does the same on the command line) for a user whose id is
derived from the email, so the same address is the same account every time. It exists only
while the local signing key is in use — never with Supabase, never in the deployed functions,
which do not have this route — and answers only a browser on this machine: the peer must be a
loopback address, the ``Host`` a loopback name (a DNS-rebinding page names its own host), and
a cross-site request (``Origin`` or ``Sec-Fetch-Site``) is refused. Why a button rather than
only pasting what ``tale token`` prints: a developer opening the page on the same machine
signs in with one click and the browser tests drive the same path; the pasted token stays for
a browser on another machine, to which this route answers 404.
"""

from __future__ import annotations

import ipaddress
import json
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from flask import Request, Response, send_from_directory
from pydantic import BaseModel, ConfigDict, Field

from shared import bootstrap
from shared.api.problems import Problem
from shared.api.requests import json_body

DIST = Path(__file__).resolve().parents[2] / "web" / "dist"
"""Where ``npm run build`` in ``web/`` writes the app (``TALE_WEB_DIR`` overrides it)."""
ASSETS_MAX_AGE_S = 365 * 24 * 3600
"""Hashed file names under ``/assets``: cached for good; ``index.html`` is revalidated."""
DEV_TOKEN_TTL_S = 12 * 3600
DEV_NAMESPACE = uuid.UUID("6f1c1c4e-7a1e-4a11-8000-7a1e0000d3e5")
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
_HOST = re.compile(r"^\[?(?P<name>[^\]]+?)\]?(?::\d{1,5})?$")


class DevSignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(
        max_length=254, pattern=r"^[^@\s]{1,64}@[^@\s]{1,190}$", description="Any address."
    )


class DevToken(BaseModel):
    token: str
    user_id: str
    email: str
    expires_in: int


@dataclass(frozen=True)
class WebSite:
    """The build to serve and the headers of its pages."""

    root: Path
    config: dict[str, object]
    policy: str

    @property
    def built(self) -> bool:
        return (self.root / "index.html").is_file()


def _origin(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def content_security_policy(connect: list[str], media: list[str]) -> str:
    """The policy of every page; ``connect`` and ``media`` are origins besides 'self'."""
    connect_src = " ".join(["'self'", *sorted(set(connect))])
    media_src = " ".join(["'self'", "blob:", *sorted(set(media))])
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src {media_src} data:",
            f"media-src {media_src}",
            f"connect-src {connect_src}",
            "font-src 'self'",
            "manifest-src 'self'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "object-src 'none'",
        ]
    )


def site_for(container: bootstrap.Container, media_base: str | None) -> WebSite:
    """The site ``tale serve`` serves: the build folder, ``/config.json`` and the policy.
    ``media_base`` is where the signed media URLs point (this server unless
    ``TALE_PUBLIC_URL`` names another address)."""
    settings = container.settings
    supabase = settings.supabase_url
    anon_key = settings.supabase_anon_key
    config: dict[str, object]
    if container.signer is not None:
        config = {"auth": "local", "api": ""}
    elif supabase and anon_key:
        config = {
            "auth": "supabase",
            "api": "",
            "supabase_url": supabase,
            "supabase_anon_key": anon_key,
        }
    else:
        config = {"auth": "supabase", "api": "", "error": "TALE_SUPABASE_ANON_KEY is not set"}
    connect = [o for o in (_origin(supabase),) if o]
    media = [o for o in (_origin(settings.public_url), _origin(media_base)) if o]
    return WebSite(
        root=settings.web_dir or DIST,
        config=config,
        policy=content_security_policy(connect, media),
    )


def _secured(response: Response, site: WebSite) -> Response:
    response.headers["Content-Security-Policy"] = site.policy
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    return response


def not_built(site: WebSite) -> Problem:
    return Problem(
        404,
        "web-not-built",
        "The web app is not built",
        f"no {site.root / 'index.html'}: build it with ./install.sh (which needs npm), or "
        "npm --prefix web ci && npm --prefix web run build",
    )


def page(site: WebSite, name: str) -> Response:
    """A file of the build: ``index.html`` (revalidated), a hashed asset (cached for good) or
    another top-level file; a problem document when it does not exist."""
    if not site.built:
        return _secured(not_built(site).response(), site)
    if name.startswith("assets/"):
        response = send_from_directory(site.root, name, max_age=ASSETS_MAX_AGE_S)
        response.headers["Cache-Control"] = f"public, max-age={ASSETS_MAX_AGE_S}, immutable"
    else:
        response = send_from_directory(site.root, name, max_age=0)
        response.headers["Cache-Control"] = "no-cache"
    return _secured(response, site)


def config_json(site: WebSite, request: Request) -> Response:
    config = dict(site.config)
    if config.get("auth") == "local":
        config["dev_sign_in"] = _from_this_machine(request)
    response = Response(json.dumps(config), mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return _secured(response, site)


def _is_loopback(address: str | None) -> bool:
    try:
        return ipaddress.ip_address((address or "").split("%")[0]).is_loopback
    except ValueError:
        return False


def _loopback_host(host: str) -> bool:
    found = _HOST.match(host.strip().lower())
    name = found["name"] if found else ""
    return name in LOOPBACK_NAMES or _is_loopback(name)


def _from_this_machine(request: Request) -> bool:
    """A request from a browser on this machine, to this machine by a loopback name, from
    one of our own pages (or not from a page at all)."""
    if not (_is_loopback(request.remote_addr) and _loopback_host(request.host)):
        return False
    origin = request.headers.get("Origin")
    if origin is not None and urlsplit(origin).netloc.lower() != request.host.lower():
        return False
    return request.headers.get("Sec-Fetch-Site", "same-origin") in ("same-origin", "none")


def dev_token(container: bootstrap.Container, request: Request) -> Response:
    """``POST /dev/token``: a development token (see the module doc for who may ask)."""
    signer = container.signer
    if signer is None or not _from_this_machine(request):
        return Problem(404, "not-found", "Not found", "no such endpoint: /dev/token").response()
    try:
        body = json_body(request, DevSignIn, 4096)
    except Problem as problem:
        return problem.response("/dev/token")
    email = body.email.strip().lower()
    user = str(uuid.uuid5(DEV_NAMESPACE, email))
    token = signer.mint(user, email, DEV_TOKEN_TTL_S)
    answer = DevToken(token=token, user_id=user, email=email, expires_in=DEV_TOKEN_TTL_S)
    response = Response(answer.model_dump_json(), mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response
