"""HTTP mode: Bolt behind granian (waitress in-process for tests), /healthz, a malformed-signature guard."""

from __future__ import annotations

import json
import logging
import multiprocessing
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import Engine, text
from waitress.server import create_server

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger("mentorbot.http")

EVENTS_PATH = "/slack/events"


def _reply(start_response: StartResponse, status: str, body: dict[str, Any]) -> Iterable[bytes]:
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def _timestamp_is_malformed(environ: WSGIEnvironment) -> bool:
    # slack_sdk's verifier calls int() on the header and raises (a 500) on anything else.
    value = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")
    return not (isinstance(value, str) and value.isdigit())


def make_wsgi_app(app: App, *, engine: Engine) -> WSGIApplication:
    """Route POST /slack/events to Bolt and GET /healthz to a database check."""
    bolt = SlackRequestHandler(app, path=EVENTS_PATH)

    def wsgi(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
        if path == "/healthz" and method == "GET":
            return _healthz(engine, start_response)
        if path == EVENTS_PATH and method == "POST" and _timestamp_is_malformed(environ):
            return _reply(start_response, "401 Unauthorized", {"error": "invalid request signature"})
        return bolt(environ, start_response)

    return wsgi


def _healthz(engine: Engine, start_response: StartResponse) -> Iterable[bytes]:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        log.error("healthz: database unreachable: %s", type(exc).__name__)
        return _reply(start_response, "503 Service Unavailable", {"ok": False, "database": "unreachable"})
    return _reply(start_response, "200 OK", {"ok": True, "database": "ok"})


WSGI_FACTORY = "bot.app.wsgi:create_wsgi_app"


def serve_http(*, host: str, port: int, workers: int, threads: int) -> None:
    """Serve the app with granian until SIGTERM/SIGINT; returns once every worker has stopped.

    Each worker process builds the app from the environment (bot.app.wsgi). Workers are spawned, not
    forked: this process already holds database connections and the scheduler's threads.
    """
    from granian.constants import HTTPModes, Interfaces, RuntimeModes
    from granian.log import LogLevels
    from granian.server import Server

    multiprocessing.set_start_method("spawn", force=True)
    Server(
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
    ).serve()


def make_server(app: App, *, engine: Engine, host: str = "127.0.0.1", port: int = 0, threads: int = 8) -> Any:
    """An in-process waitress server, for tests and the demo, which share objects with the app."""
    return create_server(
        make_wsgi_app(app, engine=engine), host=host, port=port, threads=threads, ident="mentorbot"
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
