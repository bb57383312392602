"""``tale serve``: the API, the auth and payment webhooks and the signed media URLs over HTTP,
with the local runtime behind them (and, without Stripe keys, the local payment provider's
test pages)."""

from __future__ import annotations

import logging
import threading

from flask import Flask, Request, Response, request
from werkzeug.exceptions import HTTPException

from shared import bootstrap
from shared.cli import web as webapp
from shared.cli.http_server import HttpServer
from shared.runtime.local import LocalRuntime


def build_app(site: webapp.WebSite | None = None) -> Flask:
    """One WSGI app that routes like the two deployed functions, and serves the web app
    (``site``) at ``/``."""
    from shared.api import app as api
    from shared.api import local_billing, media, stripe_hook, webhook

    flask_app = Flask("tale")
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    if site is not None:
        _web_routes(flask_app, site)

    @flask_app.route("/hooks/auth", methods=methods)
    def auth_hook() -> Response:
        return webhook.handle(_current())

    @flask_app.route("/hooks/stripe", methods=methods)
    def stripe_hook_route() -> Response:
        return stripe_hook.handle(_current())

    @flask_app.route("/billing/local/<path:path>", methods=methods)
    def local_billing_pages(path: str) -> Response:
        return local_billing.handle(_current(), path)

    @flask_app.route("/media/<path:path>", methods=methods)
    def signed_media(path: str) -> Response:
        return media.handle(_current(), path)

    @flask_app.route("/", defaults={"path": ""}, methods=methods)
    @flask_app.route("/<path:path>", methods=methods)
    def api_any(path: str) -> Response:
        if site is not None and path == "" and request.method == "GET":
            return webapp.page(site, "index.html")
        return api.handle(_current())

    _problems_for_errors(flask_app)
    return flask_app


def _web_routes(flask_app: Flask, site: webapp.WebSite) -> None:
    """The web app's files, its runtime config and the development sign-in
    (``shared.cli.web``); every other path is the API's."""
    read = ["GET", "HEAD"]

    @flask_app.route("/index.html", methods=read)
    @flask_app.route("/favicon.svg", methods=read)
    def web_file() -> Response:
        return webapp.page(site, request.path.lstrip("/"))

    @flask_app.route("/billing", methods=read)
    def web_billing() -> Response:
        """Where checkout and the billing portal return: the app, on its account page."""
        return webapp.page(site, "index.html")

    @flask_app.route("/assets/<path:name>", methods=read)
    def web_asset(name: str) -> Response:
        return webapp.page(site, f"assets/{name}")

    @flask_app.route("/config.json", methods=read)
    def web_config() -> Response:
        return webapp.config_json(site, _current())

    @flask_app.route("/dev/token", methods=["POST"])
    def web_dev_token() -> Response:
        return webapp.dev_token(bootstrap.container(), _current())


def _problems_for_errors(flask_app: Flask) -> None:
    """What the routes above do not answer — a path they do not match (a CR or LF in it), a
    method they do not know — and any exception that escapes a handler: problem documents
    too, never an HTML page."""
    from shared.api.problems import Problem, http_error, printable

    log = logging.getLogger("tale.serve")

    flask_app.register_error_handler(HTTPException, http_error)

    @flask_app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, printable(request.path))
        return Problem(
            500, "internal", "Internal error", "something went wrong on our side"
        ).response()


def served_url(host: str, port: int) -> str:
    """The base URL a browser on this machine reaches the server at."""
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _serve_media_at(container: bootstrap.Container, host: str, port: int) -> None:
    """Signed media URLs name this server, unless ``TALE_PUBLIC_URL`` names another address
    (a proxy, a LAN name)."""
    from shared.adapters.local.blobs import FilesystemBlobStore

    blobs = container.blobs
    if isinstance(blobs, FilesystemBlobStore) and container.settings.public_url is None:
        blobs.base_url = served_url(host, port)
    if container.settings.public_url is None and not container.settings.stripe_secret_key:
        from shared.adapters.local.payments import LocalPayments

        payments = container.payments  # the local provider's pages are on this server too
        if isinstance(payments, LocalPayments):
            payments.base_url = served_url(host, port)


def _current() -> Request:
    return request._get_current_object()  # type: ignore[attr-defined,no-any-return]


def serve(
    host: str, port: int, ready: threading.Event | None = None, stop: threading.Event | None = None
) -> None:
    """Serve until ``stop`` is set (or Ctrl-C); the runtime processes the pipeline meanwhile."""
    stop = stop or threading.Event()
    container = bootstrap.container()
    _serve_media_at(container, host, port)
    site = webapp.site_for(container, container.settings.public_url or served_url(host, port))
    server = HttpServer(host, port, build_app(site))
    server.start()  # bound before the runtime starts: an address in use fails at once
    web = threading.Thread(target=server.serve, name="tale-http", daemon=True)
    with LocalRuntime(container) as runtime:
        web.start()
        if ready is not None:
            ready.set()
        try:
            runtime.run(stop=stop)
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()
