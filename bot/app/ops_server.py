"""The operator's endpoints: GET /healthz (liveness), /readyz (readiness) and /metrics (Prometheus).

HTTP mode serves them on the main port beside /slack/events (bot.app.http_server); Socket Mode, where
nothing else listens, on the optional health port (`serve_ops`).

Metrics across processes: `mentorbot run --http` starts granian worker processes and runs the scheduler
in its own process, so it points prometheus_client's multiprocess mode at a directory they share
(PROMETHEUS_MULTIPROC_DIR, see bot.kernel.metrics.share_between_processes). Any worker's /metrics then
adds up every process's files: one scrape sees the whole bot, whichever worker answers it.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_SUBMITTED, JobEvent
from apscheduler.schedulers.base import BaseScheduler
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import Engine

from bot.app.health import STANDARD_CHECKS, DatabaseProbe, Health, StatusWriter, parent_status_check
from bot.kernel import metrics

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

OPS_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def answer_ops(health: Health, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """Answer GET on one of OPS_PATHS (the caller routed it here)."""
    path = environ.get("PATH_INFO", "")
    if environ.get("REQUEST_METHOD") not in {"GET", "HEAD"}:
        return reply_json(start_response, "405 Method Not Allowed", {"error": "use GET"})
    if path == "/metrics":
        body = render_metrics()
        start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST), ("Content-Length", str(len(body)))])
        return [body]
    problems = health.live() if path == "/healthz" else health.ready()
    if problems:
        return reply_json(start_response, "503 Service Unavailable", {"ok": False, "problems": problems})
    return reply_json(start_response, "200 OK", {"ok": True})


def render_metrics() -> bytes:
    """Every metric of the bot in Prometheus' text format; with several processes, their sum."""
    metrics.register_all()
    if os.environ.get(metrics.MULTIPROCESS_VARIABLE):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def reply_json(start_response: StartResponse, status: str, body: dict[str, Any]) -> Iterable[bytes]:
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def ops_wsgi_app(health: Health) -> WSGIApplication:
    """The three endpoints alone, for the health port; anything else is 404."""

    def wsgi(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "") in OPS_PATHS:
            return answer_ops(health, environ, start_response)
        return reply_json(start_response, "404 Not Found", {"error": "not found"})

    return wsgi


def serve_ops(health: Health, *, host: str, port: int) -> Any:
    """Serve /healthz, /readyz and /metrics on `port` on a background thread (Socket Mode's health port).

    Returns the running server (a BackgroundServer: `.port`, `.stop()`). Four threads: probes answer
    in milliseconds and never wait on the database (bot.app.health), so a few threads never run out.
    """
    from waitress.server import create_server

    from bot.app.http_server import BackgroundServer

    server = create_server(ops_wsgi_app(health), host=host, port=port, threads=4, ident="mentorbot-health")
    return BackgroundServer(server)


# -- `mentorbot run`: what the operator's endpoints need from the running process ---------------------

RUN_DIR_VARIABLE = "MENTORBOT_RUN_DIR"  # set by `run --http` for its workers; not an operator setting
STATUS_FILE = "status.json"


@dataclass(frozen=True)
class SharedState:
    """The directory `run --http` shares with its workers: metrics files and the run process's status."""

    directory: Path

    @property
    def status_file(self) -> Path:
        return self.directory / STATUS_FILE

    def remove(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


def share_with_workers() -> SharedState:
    """Before the first metric and before the workers start: make the directory, tell children where.

    PROMETHEUS_MULTIPROC_DIR set by the operator is used (and emptied: old processes' files would
    count twice); otherwise the metrics live in the run directory and go with it.
    """
    directory = Path(tempfile.mkdtemp(prefix="mentorbot-"))
    given = os.environ.get(metrics.MULTIPROCESS_VARIABLE)
    if given:
        metrics_dir = Path(given)
        metrics_dir.mkdir(parents=True, exist_ok=True)
        for stale in metrics_dir.glob("*.db"):
            stale.unlink()
    else:
        metrics_dir = directory / "metrics"
        metrics_dir.mkdir()
    metrics.share_between_processes(metrics_dir)
    os.environ[RUN_DIR_VARIABLE] = str(directory)
    shared = SharedState(directory)
    atexit.register(shared.remove)  # also when the start fails later (a bad token, a missing key)
    return shared


def worker_health(engine: Engine) -> Health:
    """An HTTP worker's health: its own database probe and checks, plus the run process's status."""
    checks = list(STANDARD_CHECKS)
    run_dir = os.environ.get(RUN_DIR_VARIABLE)
    if run_dir:
        checks.append(parent_status_check(Path(run_dir) / STATUS_FILE))
    return Health(database=DatabaseProbe(engine), ready_checks=checks)


def observe_ticks(scheduler: BaseScheduler) -> None:
    """Count every pass of the scheduled work and its duration (mentorbot_ticks_total, ...)."""
    started: dict[str, float] = {}

    def on_event(event: JobEvent) -> None:
        if event.code == EVENT_JOB_SUBMITTED:
            started[event.job_id] = time.monotonic()
        elif event.job_id in started:
            metrics.observe_tick(time.monotonic() - started.pop(event.job_id))

    scheduler.add_listener(on_event, EVENT_JOB_SUBMITTED | EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)


class Operations:
    """The running bot's operator side: readiness (with the scheduler), the status file, the health port."""

    def __init__(self, health: Health, *, writer: StatusWriter | None, server: Any | None) -> None:
        self.health, self._writer, self._server = health, writer, server

    @classmethod
    def start(
        cls,
        engine: Engine,
        scheduler: BaseScheduler,
        *,
        shared: SharedState | None,
        host: str,
        health_port: int | None,
    ) -> Operations:
        observe_ticks(scheduler)

        def scheduler_running() -> str | None:
            return None if scheduler.running else "scheduler: stopped (restart mentorbot)"

        checks = [*STANDARD_CHECKS, scheduler_running]
        health = Health(database=DatabaseProbe(engine), ready_checks=checks)
        writer = StatusWriter(shared.status_file, checks).start() if shared is not None else None
        server = serve_ops(health, host=host, port=health_port) if health_port is not None else None
        return cls(health, writer=writer, server=server)

    @property
    def health_port(self) -> int | None:
        return int(self._server.port) if self._server is not None else None

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
        if self._writer is not None:
            self._writer.stop()
        self.health.close()
