"""Liveness and readiness, in both modes, answered without ever waiting on the database.

- Liveness (`/healthz`): the process serves. Only instant checks (no I/O): in Socket Mode, "deaf for
  too long" fails it, so an orchestrator restarts a process that lost Slack for good.
- Readiness (`/readyz`): the database answers a read-only query, the Slack token is not dead,
  programs.yml is running as written, plus any check added with `add_readiness_check`; in Socket Mode
  a socket is connected (after a short grace at start).

A check is a callable returning None when fine, or one line naming what is wrong and the fix.

The database is asked on a thread of its own, one question at a time: a caller waits at most
`DatabaseProbe.wait` seconds and otherwise gets the previous answer, or "no answer for N s" once the
question is older than `timeout`. So probes never queue behind SQLite's write lock (30 s busy timeout)
and never hold a request thread that an ack needs.

In HTTP mode the scheduler, the token check and the programs reload run in the `run` process while
granian's workers answer the probes: the `run` process writes its own problems to a status file
(`StatusWriter`) that every worker's readiness reads (`parent_status_check`).
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from bot.kernel import programs_live
from bot.slack import token_state
from storage.engine import database_location, database_problem

log = logging.getLogger("mentorbot.health")

Check = Callable[[], str | None]

# Checks every Health in this process runs on top of its own (features plug theirs in at start).
_extra_readiness: list[Check] = []
_extra_lock = threading.Lock()


def add_readiness_check(check: Check) -> None:
    """Make every readiness answer of this process also run `check` (None when fine, else one line)."""
    with _extra_lock:
        if check not in _extra_readiness:
            _extra_readiness.append(check)


def extra_readiness_checks() -> list[Check]:
    with _extra_lock:
        return list(_extra_readiness)


def token_check() -> str | None:
    """Slack refused the bot token (token_revoked, invalid_auth, ...) since it was last accepted."""
    code = token_state.token_failure()
    return None if code is None else token_state.operator_line(code)


def programs_check() -> str | None:
    """programs.yml was edited into something invalid; the bot still runs the previous version."""
    return programs_live.last_reload_error()


STANDARD_CHECKS: tuple[Check, ...] = (token_check, programs_check)


class DatabaseProbe:
    """Is the database answering a read-only query? Asked on its own thread, never making callers wait.

    `wait`: the longest a caller waits for a fresh answer. `timeout`: how old an unanswered question may
    get before the database counts as not answering.
    """

    def __init__(self, engine: Engine, *, timeout: float = 1.0, wait: float = 0.2) -> None:
        self.timeout, self.wait = timeout, wait
        self._where = database_location(engine.url.render_as_string(hide_password=True))
        self._given, self._engine = engine, _probe_engine(engine, timeout=timeout)
        self._lock = threading.Lock()
        self._asked: tuple[float, Future[str | None]] | None = None
        self._last: str | None = None

    def __call__(self) -> str | None:
        with self._lock:
            if self._asked is None:
                self._asked = (time.monotonic(), Future())
                threading.Thread(target=self._ask, args=(self._asked[1],), daemon=True).start()
            asked_at, answer = self._asked
        try:
            return answer.result(timeout=self.wait)
        except FutureTimeout:
            waited = time.monotonic() - asked_at
            if waited >= self.timeout:
                return f"database {self._where}: no answer for {waited:.1f} s (locked or unreachable)"
            return self._last  # a slow answer under way: the previous one still stands

    def _ask(self, answer: Future[str | None]) -> None:
        problem = self._query()
        with self._lock:
            self._last, self._asked = problem, None
        answer.set_result(problem)

    def _query(self) -> str | None:
        try:
            with self._engine.connect() as connection:
                if connection.dialect.name == "postgresql":
                    ms = int(self.timeout * 1000)
                    connection.exec_driver_sql(f"SET LOCAL statement_timeout = {ms}")
                connection.execute(text("SELECT version_num FROM alembic_version")).all()
        except Exception as exc:
            problem = database_problem(exc, where=self._where)
            return str(problem) if problem else f"database {self._where}: {type(exc).__name__}"
        return None

    def close(self) -> None:
        if self._engine is not self._given:
            self._engine.dispose()


def _probe_engine(engine: Engine, *, timeout: float) -> Engine:
    """A separate, pool-less engine: a probe never waits for a pooled connection the bot is using."""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database in {"", ":memory:"}:
            return engine  # a private in-memory database (benchmarks): only its own engine can see it
        # mode=rw: never create an empty database where the real one went missing.
        uri = (
            database
            if database.startswith("file:")
            else f"file:{quote(str(Path(database).resolve()))}?mode=rw"
        )

        def connect() -> sqlite3.Connection:
            connection = sqlite3.connect(uri, uri=True, timeout=timeout, check_same_thread=False)
            connection.execute("PRAGMA query_only = ON")
            return connection

        return create_engine("sqlite://", creator=connect, poolclass=NullPool)
    rendered = url.render_as_string(hide_password=False)
    # libpq's connect_timeout has a floor of 2 s; the caller never waits that long anyway (see `wait`).
    return create_engine(rendered, poolclass=NullPool, connect_args={"connect_timeout": 2})


class Health:
    """Liveness and readiness of one process; `database` is usually a DatabaseProbe."""

    def __init__(
        self,
        *,
        database: Check | None,
        ready_checks: Sequence[Check] = STANDARD_CHECKS,
        live_checks: Sequence[Check] = (),
    ) -> None:
        self.database = database
        self.ready_checks = list(ready_checks)
        self.live_checks = list(live_checks)

    def live(self) -> list[str]:
        return _problems(self.live_checks)

    def watch_socket(self, connected: Callable[[], bool]) -> None:
        """Socket Mode: ready only while connected (after a grace at start); not live once deaf for long."""
        self.ready_checks.append(socket_readiness(connected))
        self.live_checks.append(socket_liveness(connected))

    def ready(self) -> list[str]:
        database = [self.database] if self.database is not None else []
        return _problems([*self.live_checks, *database, *self.ready_checks, *extra_readiness_checks()])

    def close(self) -> None:
        if isinstance(self.database, DatabaseProbe):
            self.database.close()


def _problems(checks: Iterable[Check]) -> list[str]:
    problems = []
    for check in checks:
        try:
            problem = check()
        except Exception as exc:  # a broken check must not turn a probe into a 500
            problem = f"{getattr(check, '__name__', 'check')}: failed ({type(exc).__name__})"
        if problem:
            problems.append(problem)
    return problems


# -- Socket Mode -------------------------------------------------------------------------------------


def socket_readiness(
    connected: Callable[[], bool],
    *,
    start_grace_seconds: float = 30.0,
    reconnect_grace_seconds: float = 5.0,
    clock: Callable[[], float] = time.monotonic,
) -> Check:
    """Ready while a socket is connected; also for `start_grace_seconds` after start (the first connect)
    and `reconnect_grace_seconds` after a probe last saw one (a dropped link comes back within seconds)."""
    started = clock()
    seen: float | None = None

    def socket_connected() -> str | None:
        nonlocal seen
        now = clock()
        if connected():
            seen = now
            return None
        if now - (started if seen is None else seen) < (
            start_grace_seconds if seen is None else reconnect_grace_seconds
        ):
            return None
        return "Socket Mode: not connected to Slack (see the log for why)"

    return socket_connected


def socket_liveness(
    connected: Callable[[], bool],
    *,
    deaf_after_seconds: float = 300.0,
    clock: Callable[[], float] = time.monotonic,
) -> Check:
    """Live unless no socket has been connected for `deaf_after_seconds`: a restart may cure that."""
    last_seen = clock()

    def socket_not_deaf() -> str | None:
        nonlocal last_seen
        now = clock()
        if connected():
            last_seen = now
            return None
        if now - last_seen < deaf_after_seconds:
            return None
        return f"Socket Mode: no connection to Slack for {now - last_seen:.0f} s"

    return socket_not_deaf


# -- HTTP mode: the run process's problems, read by its workers ---------------------------------------

STATUS_STALE_SECONDS = 15.0


class StatusWriter:
    """A thread that writes the `run` process's problems to `path` every `every` seconds."""

    def __init__(self, path: Path, checks: Sequence[Check], *, every: float = 1.0) -> None:
        self.path, self.checks, self.every = path, list(checks), every
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="mentorbot-status", daemon=True)

    def start(self) -> StatusWriter:
        self.write()
        self._thread.start()
        return self

    def write(self) -> None:
        status = {"at": time.time(), "problems": _problems([*self.checks, *extra_readiness_checks()])}
        partial = self.path.with_name(self.path.name + ".tmp")
        partial.write_text(json.dumps(status))
        os.replace(partial, self.path)  # readers see the old file or the new one, never half of one

    def _loop(self) -> None:
        while not self._stopping.wait(self.every):
            try:
                self.write()
            except OSError as exc:
                log.warning("%s: cannot write the status file (%s)", self.path, exc.strerror)

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)


def parent_status_check(path: Path, *, stale_after: float = STATUS_STALE_SECONDS) -> Check:
    """The `run` process's problems as its StatusWriter last wrote them; stale means it is stuck."""

    def scheduler_process() -> str | None:
        try:
            status: dict[str, Any] = json.loads(path.read_text())
        except (OSError, ValueError):
            return f"{path}: the run process's status is missing (is `mentorbot run` still running?)"
        age = time.time() - float(status.get("at", 0))
        if age > stale_after:
            return f"the run process (scheduler) has not reported for {age:.0f} s"
        problems = [str(p) for p in status.get("problems", [])]
        return "; ".join(problems) or None

    return scheduler_process
