"""The HTTP server behind ``tale serve``: cheroot (CherryPy's WSGI server), with worker
threads, hardened for input nobody vetted.

Why not werkzeug's development server, which ``tale serve`` used before: a thread per
connection without a bound, no keep-alive, a chunked decoder that raises ``OSError`` into the
application, and after every answer it reads whatever body the client still sends (10 MB at a
time, up to 10 GB). Cheroot streams bodies to the application (``wsgi.input``, chunked bodies
decoded, ``wsgi.input_terminated`` set), keeps connections alive, and runs a fixed pool of
worker threads.

What this module adds to cheroot:

- **A body the application did not read ends the connection.** The application reads a body
  only up to its route's limit (``shared.api.requests``) and answers 413 without reading the
  rest; cheroot would then read the rest in one piece to keep the connection alive — the whole
  body in memory. Here such a connection is closed after the answer instead, *lingering* up to
  ``LINGER_S`` while discarding what the client still sends in small reads, so that a client
  that sends before it reads sees the answer rather than a reset (as Apache's lingering close).
- **The server's own answers are problem documents** (a malformed request line or header, a
  header block over ``MAX_HEADER_BYTES``, a timeout): ``application/problem+json`` with our
  words, like every answer of the application.
- **A listen backlog** sized for bursts of connections (cheroot's default is 5).
"""

from __future__ import annotations

import json
import logging
import socket
import time
from typing import Any

from cheroot import errors, wsgi
from cheroot import server as cheroot_server

from shared.api.problems import PROBLEM_BASE

log = logging.getLogger("tale.http")

THREADS = 64
"""Worker threads: requests served at once (an open event stream holds one)."""
MAX_HEADER_BYTES = 64 * 1024
"""The request line and headers together."""
TIMEOUT_S = 10
"""A socket read or write that takes longer ends the connection (slow clients)."""
BACKLOG = 1024
LINGER_S = 1.0
"""How long a connection closed with an unread body keeps discarding the client's bytes."""
LINGER_READ = 64 * 1024

_SERVER_PROBLEMS: dict[int, tuple[str, str, str]] = {
    400: ("bad-request", "Bad request", "the request is not valid HTTP"),
    404: ("not-found", "Not found", "no such endpoint"),
    405: ("method-not-allowed", "Method not allowed", "this method is not allowed here"),
    408: ("request-timeout", "Request timeout", "the request took too long to arrive"),
    413: ("too-large", "Request too large", "the request is larger than the server accepts"),
    414: ("uri-too-long", "URI too long", "the request line is too long"),
    500: ("internal", "Internal error", "something went wrong on our side"),
    501: ("not-implemented", "Not implemented", "this method is not supported"),
    503: ("unavailable", "Service unavailable", "the server is busy; retry shortly"),
    505: ("http-version", "HTTP version not supported", "send HTTP/1.1 or HTTP/1.0"),
}


def problem_bytes(code: int) -> bytes:
    kind, title, detail = _SERVER_PROBLEMS.get(code, _SERVER_PROBLEMS[400])
    doc = {"type": PROBLEM_BASE + kind, "title": title, "status": code, "detail": detail}
    return json.dumps(doc).encode()


def body_unread(rfile: Any) -> bool:
    """Whether the request's body has bytes the application did not read."""
    if isinstance(rfile, cheroot_server.KnownLengthRFile):
        return int(rfile.remaining) > 0
    if isinstance(rfile, cheroot_server.ChunkedRFile):
        return not bool(rfile.closed)
    return False


class _Request(cheroot_server.HTTPRequest):
    def simple_response(self, status: Any, msg: Any = "") -> None:
        """The server's own answers, as problem documents; the connection is closed."""
        code = int(str(status)[:3])
        body = problem_bytes(code)
        self.close_connection = True
        head = (
            f"{self.server.protocol} {status}\r\n"
            f"Content-Length: {len(body)}\r\n"
            "Content-Type: application/problem+json\r\n"
            "Connection: close\r\n\r\n"
        )
        try:
            self.conn.wfile.write(head.encode("ISO-8859-1") + body)
        except OSError as exc:
            if exc.args and exc.args[0] not in errors.socket_errors_to_ignore:
                raise


class _Connection(cheroot_server.HTTPConnection):
    RequestHandlerClass = _Request
    unread_body = False

    def close(self) -> None:
        if self.unread_body:
            self._linger()
        super().close()

    def _linger(self) -> None:
        """Send our FIN, then discard what the client still sends, briefly, in small reads."""
        sock = self.socket
        try:
            self.wfile.flush()
            sock.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + LINGER_S
            while (left := deadline - time.monotonic()) > 0:
                sock.settimeout(left)
                if not sock.recv(LINGER_READ):
                    break
        except OSError:
            pass


class _Gateway(wsgi.Gateway_10):
    def start_response(self, status: str, headers: Any, exc_info: Any = None) -> Any:
        write = super().start_response(status, headers, exc_info)
        if body_unread(self.req.rfile):
            # Never read the rest to keep the connection alive: close it after the answer.
            self.req.close_connection = True
            self.req.conn.unread_body = True
        return write


class HttpServer:
    """A cheroot server for one WSGI application; ``start`` binds, ``serve`` blocks."""

    def __init__(self, host: str, port: int, app: Any, *, threads: int = THREADS) -> None:
        self._server = wsgi.Server(
            (host, port),
            app,
            numthreads=threads,
            request_queue_size=BACKLOG,
            timeout=TIMEOUT_S,
            shutdown_timeout=2,
            server_name="tale",
        )
        self._server.gateway = _Gateway
        self._server.ConnectionClass = _Connection
        self._server.max_request_header_size = MAX_HEADER_BYTES
        self._server.max_request_body_size = 0  # each route holds its own limit

    def start(self) -> None:
        """Bind the socket (an address in use fails here, before anything else starts)."""
        self._server.prepare()

    @property
    def port(self) -> int:
        return int(self._server.bind_addr[1])

    def serve(self) -> None:
        self._server.serve()

    def stop(self) -> None:
        self._server.stop()
