"""HTTP mode: Bolt behind granian (waitress in-process for tests), the operator's endpoints, a guarded edge.

The edge, before Bolt sees a request: bodies over MAX_BODY_BYTES are refused with 413 before they are
read; a body that is not UTF-8, not a form or JSON Slack would send, or that Bolt cannot make sense of,
gets 400 (never 500); a timestamp header that is not a number gets 401. Slack's `ssl_check` (sent
unsigned when a request URL is saved) gets an empty 200, as Slack documents.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from slack_bolt import App, BoltRequest, BoltResponse
from sqlalchemy import Engine
from waitress.server import create_server

from bot.app.bolt_app import dispatch_timed
from bot.app.health import DatabaseProbe, Health
from bot.app.ops_server import OPS_PATHS, answer_ops, reply_json
from bot.kernel import metrics

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger("mentorbot.http")

EVENTS_PATH = "/slack/events"
# Slack's largest requests (a modal's whole state on submit) are tens of kilobytes.
MAX_BODY_BYTES = 1 << 20


class Refused(Exception):
    """A request answered at the edge: its status, a short reason, and the metric's reason label."""

    def __init__(self, status: str, error: str, reason: metrics.RejectReason) -> None:
        super().__init__(error)
        self.status, self.error, self.reason = status, error, reason


def make_wsgi_app(
    app: App,
    *,
    engine: Engine | None = None,
    health: Health | None = None,
    max_body: int = MAX_BODY_BYTES,
) -> WSGIApplication:
    """POST /slack/events to Bolt; GET /healthz, /readyz and /metrics to the operator's endpoints.

    Without `health`, readiness asks `engine`'s database and runs the standard checks.
    """
    if health is None:
        health = Health(database=DatabaseProbe(engine) if engine is not None else None)

    def wsgi(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path in OPS_PATHS:
            return answer_ops(health, environ, start_response)
        if path != EVENTS_PATH:
            return reply_json(start_response, "404 Not Found", {"error": "not found"})
        if environ.get("REQUEST_METHOD") != "POST":
            return reply_json(start_response, "405 Method Not Allowed", {"error": "use POST"})
        try:
            response = _dispatch(app, environ, max_body)
        except Refused as refused:
            metrics.count_http_rejected(refused.reason)
            return reply_json(start_response, refused.status, {"error": refused.error})
        return _write(response, start_response)

    return wsgi


def _dispatch(app: App, environ: WSGIEnvironment, max_body: int) -> BoltResponse:
    received = time.perf_counter()
    body = _read_body(environ, max_body)
    if _is_ssl_check(body):
        return BoltResponse(status=200, body="")
    if _timestamp_is_malformed(environ):
        raise Refused("401 Unauthorized", "invalid request signature", "bad_signature")
    try:
        request = BoltRequest(body=body, query=environ.get("QUERY_STRING", ""), headers=_headers(environ))
    except ValueError:  # JSON that does not parse, in the body or in a form's payload field
        raise Refused("400 Bad Request", "malformed request body", "malformed") from None
    response = dispatch_timed(app, request, received=received)
    if response.status == 400:  # dispatch_timed's answer to a shape Bolt itself chokes on
        raise Refused("400 Bad Request", "malformed request", "malformed")
    return response


def _read_body(environ: WSGIEnvironment, max_body: int) -> str:
    """The body as text, refused before reading when it declares more than `max_body` bytes."""
    try:
        declared = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise Refused("400 Bad Request", "bad Content-Length", "malformed") from None
    if declared > max_body:
        raise Refused("413 Content Too Large", f"request body over {max_body} bytes", "too_large")
    stream = environ.get("wsgi.input")
    # Without a length (chunked), read one byte past the limit to tell "at most" from "more".
    data = stream.read(declared if declared else max_body + 1) if stream is not None else b""
    if len(data) > max_body:
        raise Refused("413 Content Too Large", f"request body over {max_body} bytes", "too_large")
    try:
        return bytes(data).decode("utf-8")
    except UnicodeDecodeError:
        raise Refused("400 Bad Request", "request body is not UTF-8", "malformed") from None


def _is_ssl_check(body: str) -> bool:
    # Slack checks a slash command URL's certificate with an unsigned form `ssl_check=1&token=...` and
    # wants an empty 200 (Bolt answers it the same way, but only after our timestamp check).
    return not body.startswith("{") and "ssl_check=" in body and parse_qs(body).get("ssl_check") == ["1"]


def _timestamp_is_malformed(environ: WSGIEnvironment) -> bool:
    # slack_sdk's verifier calls int() on the header and raises (a 500) on anything else.
    value = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")
    return not (isinstance(value, str) and value.isdigit())


def _headers(environ: WSGIEnvironment) -> dict[str, str | Sequence[str]]:
    headers: dict[str, str | Sequence[str]] = {}
    for key, value in environ.items():
        if key in {"CONTENT_LENGTH", "CONTENT_TYPE"}:
            headers[key.lower().replace("_", "-")] = value
        elif key.startswith("HTTP_"):
            headers[key[5:].lower().replace("_", "-")] = value
    return headers


def _write(response: BoltResponse, start_response: StartResponse) -> Iterable[bytes]:
    body = response.body.encode("utf-8") if isinstance(response.body, str) else bytes(response.body)
    headers = [(name, value) for name, values in response.headers.items() for value in values]
    headers = [(n, v) for n, v in headers if n.lower() != "content-length"]
    headers.append(("Content-Length", str(len(body))))
    start_response(_status_line(response.status), headers)
    return [body]


def _status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


WSGI_FACTORY = "bot.app.wsgi:create_wsgi_app"


def serve_http(
    *, host: str, port: int, workers: int, threads: int, on_reload: Callable[[], None] | None = None
) -> None:
    """Serve the app with granian until SIGTERM/SIGINT; returns once every worker has stopped.

    Each worker process builds the app from the environment (bot.app.wsgi). Workers are spawned, not
    forked: this process already holds database connections and the scheduler's threads. A worker that
    dies (killed, out of memory) is started again at once, and the bot keeps serving and scheduling;
    one that dies again within granian's 5.5 s crash-loop window stops the bot with exit status 1, for
    the supervisor (systemd's Restart=on-failure, a container's restart policy) to start it afresh.
    SIGHUP calls `on_reload` instead of granian's respawn of every worker: a worker started while
    programs.yml is invalid could not start at all, whereas running workers keep their configuration
    and follow the file themselves (bot.kernel.programs_live).
    """
    from granian.constants import HTTPModes, Interfaces, RuntimeModes
    from granian.log import LogLevels
    from granian.server import Server

    class _Server(Server):  # type: ignore[misc,valid-type]
        def signal_handler_reload(self, *args: Any, **kwargs: Any) -> None:
            if on_reload is not None:
                on_reload()

    multiprocessing.set_start_method("spawn", force=True)
    _Server(
        WSGI_FACTORY,
        factory=True,
        interface=Interfaces.WSGI,
        address=host,
        port=port,
        workers=workers,
        blocking_threads=threads,
        runtime_mode=RuntimeModes.st,
        http=HTTPModes.http1,
        websockets=False,
        log_level=LogLevels.warning,
        log_access=False,
        respawn_failed_workers=True,
        workers_kill_timeout=10,  # SIGTERM: in-flight acks finish, a stuck worker does not hold up the stop
    ).serve()


def make_server(app: App, *, engine: Engine, host: str = "127.0.0.1", port: int = 0, threads: int = 8) -> Any:
    """An in-process waitress server, for tests and the demo, which share objects with the app."""
    return create_server(
        make_wsgi_app(app, engine=engine),
        host=host,
        port=port,
        threads=threads,
        ident="mentorbot",
        # Waitress reads a whole body before calling the app: cap it too (the app's own 413 answers
        # declared lengths up to twice this).
        max_request_body_size=2 * MAX_BODY_BYTES,
    )


class BackgroundServer:
    """A server on its own thread (tests, the demo), stopped without racing its socket loop."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.port = int(server.effective_port)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="mentorbot-http", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.server.asyncore.loop(timeout=0.2, map=self.server._map, count=1)
        # Only now, with no select() in flight, close the sockets and the worker threads.
        for channel in list(self.server._map.values()):
            channel.close()
        self.server.task_dispatcher.shutdown()

    def stop(self) -> None:
        self._stop.set()
        try:
            self.server.pull_trigger()  # wake the loop's select()
        except OSError:
            pass  # the loop saw the flag first and already closed the trigger: it is exiting anyway
        self._thread.join(timeout=10)
