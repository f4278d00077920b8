"""Liveness and readiness over real HTTP: never blocked by the database, honest about what is wrong."""

from __future__ import annotations

import json
import signal
import sqlite3
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from bot.app.bolt_app import build_app
from bot.app.health import DatabaseProbe, Health, socket_liveness, socket_readiness
from bot.app.http_server import BackgroundServer, make_server
from bot.app.ops_server import serve_ops
from bot.fake_slack.requests import SlackRequestSender
from bot.fake_slack.server import FakeSlack
from bot.kernel import programs_live
from bot.kernel.deps import Deps
from bot.slack import token_state
from tests.support.factories import make_pair
from tests.support.people import BACKEND, PROGRAMS_FILE, SIGNING_SECRET
from tests.support.running import bot_env, free_port, get, programs_due_now, running_bot, wait_ready
from tests.support.socket_mode import APP_TOKEN
from tests.support.waiting import wait_until


def _get(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = call()
    return result, time.perf_counter() - started


@pytest.fixture
def two_thread_bot(deps: Deps) -> Iterator[str]:
    """The app as one granian worker serves it in production: two request threads."""
    server = BackgroundServer(make_server(build_app(deps), engine=deps.engine, threads=2))
    yield f"http://127.0.0.1:{server.port}"
    server.stop()


@contextmanager
def _writer_holding_the_lock(database_url: str, *, readers_too: bool) -> Iterator[None]:
    """Another process's write transaction, left open. `readers_too`: one that blocks reads as well
    (SQLite in exclusive locking mode; PostgreSQL's ACCESS EXCLUSIVE on the table readiness reads)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        holder = sqlite3.connect(str(url.database), isolation_level=None)
        if readers_too:
            holder.execute("PRAGMA locking_mode = EXCLUSIVE")
        holder.execute("BEGIN IMMEDIATE")
        holder.execute("UPDATE programs SET name = name")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    engine = create_engine(database_url)
    with engine.connect() as connection:
        connection.exec_driver_sql("UPDATE programs SET name = name")
        if readers_too:
            connection.exec_driver_sql("LOCK TABLE alembic_version IN ACCESS EXCLUSIVE MODE")
        try:
            yield
        finally:
            connection.rollback()
    engine.dispose()


def _probes_and_an_ack(base: str, fake_slack: FakeSlack) -> tuple[list[tuple[Any, float]], tuple[Any, float]]:
    """Two liveness and two readiness probes in flight together, and a /checkin help beside them."""
    sender = SlackRequestSender(url=f"{base}/slack/events", signing_secret=SIGNING_SECRET, fake=fake_slack)
    with ThreadPoolExecutor(max_workers=5) as pool:
        probes = [pool.submit(_timed, lambda p=p: _get(base + p)) for p in ["/healthz", "/readyz"] * 2]
        ack = pool.submit(_timed, lambda: sender.command("/checkin", "help", user_id="U0MENTEE1"))
        return [p.result() for p in probes], ack.result()


def test_a_writer_holding_the_lock_delays_neither_probes_nor_acks(
    two_thread_bot: str, fake_slack: FakeSlack, database_url: str
) -> None:
    # The lock is held for as long as the requests take: a probe that waited on it (SQLite's busy
    # timeout is 30 s) would fail the 1 s bound, so holding it the 40 s would show nothing more.
    with _writer_holding_the_lock(database_url, readers_too=False):
        probes, (ack, ack_seconds) = _probes_and_an_ack(two_thread_bot, fake_slack)
    for (status, body), seconds in probes:
        assert (status, body) == (200, {"ok": True})
        assert seconds < 1.0
    assert ack.status == 200 and "/checkin" in json.loads(ack.body)["text"]
    assert ack_seconds < 0.1


def test_a_database_that_stops_answering_makes_readiness_fail_within_seconds_not_wait(
    two_thread_bot: str, fake_slack: FakeSlack, database_url: str, deps: Deps
) -> None:
    deps.engine.dispose()  # SQLite's exclusive locking mode waits for every other connection to close
    with _writer_holding_the_lock(database_url, readers_too=True):
        probes, (ack, ack_seconds) = _probes_and_an_ack(two_thread_bot, fake_slack)
        assert all(seconds < 1.0 for _, seconds in probes)
        assert ack.status == 200 and ack_seconds < 0.5  # at worst behind one probe's 0.2 s wait

        def not_ready() -> dict[str, Any] | None:
            (status, body), seconds = _timed(lambda: _get(two_thread_bot + "/readyz"))
            assert seconds < 1.0
            return body if status == 503 else None

        body = wait_until(not_ready, "readiness failing", timeout=5)
        assert _get(two_thread_bot + "/healthz") == (200, {"ok": True})
    [problem] = body["problems"]
    assert problem.startswith(f"database {_where(database_url)}: ")
    assert any(cause in problem for cause in ("no answer for", "locked", "timed out"))
    assert wait_until(lambda: _get(two_thread_bot + "/readyz")[0] == 200, "readiness back", timeout=5)


def _where(database_url: str) -> str:
    from storage.engine import database_location

    return database_location(database_url)


def test_readiness_names_a_refused_bot_token_until_slack_accepts_it_again(bot_url: str) -> None:
    readyz = bot_url.replace("/slack/events", "/readyz")
    token_state.note_token_failure("token_revoked")
    try:
        status, body = _get(readyz)
    finally:
        token_state.clear_token_failure()
    assert status == 503
    assert body["problems"] == [token_state.operator_line("token_revoked")]
    assert _get(readyz) == (200, {"ok": True})
    assert _get(bot_url.replace("/slack/events", "/healthz")) == (200, {"ok": True})


def test_readiness_names_an_invalid_programs_file_while_the_bot_keeps_the_running_one(
    bot_url: str, tmp_path: Path
) -> None:
    edited = tmp_path / "programs.yml"
    edited.write_text(PROGRAMS_FILE.read_text())
    live = programs_live.open_programs(edited)
    edited.write_text(PROGRAMS_FILE.read_text().replace("weekday: thu", "weekday: someday"))
    try:
        live.refresh(apply=lambda _config: None, reread=True)
        status, body = _get(bot_url.replace("/slack/events", "/readyz"))
    finally:
        edited.write_text(PROGRAMS_FILE.read_text())
        live.refresh(apply=lambda _config: None, reread=True)
    assert status == 503
    [problem] = body["problems"]
    assert problem.startswith(str(edited)) and "weekday" in problem
    assert _get(bot_url.replace("/slack/events", "/readyz")) == (200, {"ok": True})


@pytest.mark.skipif(BACKEND != "sqlite", reason="a missing database file is SQLite's case")
def test_readiness_names_a_database_file_that_went_missing(deps: Deps) -> None:
    path = Path(str(deps.engine.url.database))
    server = serve_ops(Health(database=DatabaseProbe(deps.engine)), host="127.0.0.1", port=0)
    try:
        path.rename(path.with_suffix(".moved"))
        status, body = _get(f"http://127.0.0.1:{server.port}/readyz")
    finally:
        server.stop()
    assert status == 503
    assert body["problems"] == [
        f"database {path}: cannot open; check that the path in DATABASE_URL exists and that the bot's "
        "user may read and write it and its directory"
    ]
    assert not path.exists(), "readiness must not create an empty database in its place"


def test_socket_mode_health_port_is_ready_only_while_a_socket_is_connected(deps: Deps) -> None:
    now, connected = [0.0], [False]
    health = Health(
        database=DatabaseProbe(deps.engine),
        ready_checks=[socket_readiness(lambda: connected[0], start_grace_seconds=30, clock=lambda: now[0])],
        live_checks=[socket_liveness(lambda: connected[0], deaf_after_seconds=300, clock=lambda: now[0])],
    )
    server = serve_ops(health, host="127.0.0.1", port=0)
    base = f"http://127.0.0.1:{server.port}"
    try:
        assert _get(base + "/readyz") == (200, {"ok": True}), "within the grace after start"
        now[0] = 31.0
        assert _get(base + "/readyz") == (
            503,
            {"ok": False, "problems": ["Socket Mode: not connected to Slack (see the log for why)"]},
        )
        assert _get(base + "/healthz") == (200, {"ok": True}), "not deaf for long yet"
        connected[0] = True
        assert _get(base + "/readyz") == (200, {"ok": True})
        connected[0], now[0] = False, 35.0
        assert _get(base + "/readyz") == (200, {"ok": True}), "a dropped link has 5 s to come back"
        now[0] = 37.0
        assert _get(base + "/readyz")[0] == 503
    finally:
        server.stop()


def test_socket_mode_liveness_fails_once_no_socket_has_connected_for_five_minutes() -> None:
    now = [0.0]
    connected = [True]
    check = socket_liveness(lambda: connected[0], deaf_after_seconds=300, clock=lambda: now[0])
    assert check() is None
    connected[0] = False
    now[0] = 299.0
    assert check() is None
    now[0] = 301.0
    assert check() == "Socket Mode: no connection to Slack for 301 s"
    connected[0] = True
    assert check() is None


def test_a_token_refused_in_the_scheduler_process_fails_every_http_workers_readiness(
    database_url: str, deps: Deps, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    port = free_port()
    programs = programs_due_now(tmp_path, "U0MENTEE1")
    env = bot_env(database_url=database_url, slack_url=fake_slack.url, programs=programs)
    args = [
        "run",
        "--http",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "2",
        "--tick-seconds",
        "1",
    ]
    with running_bot(args, env, tmp_path) as proc:
        wait_ready(port, proc)
        fake_slack.inject("*", error="token_revoked", times=10_000)
        make_pair(deps, started_at=datetime.now(UTC) - timedelta(days=1))  # the next tick calls Slack

        def refused() -> list[str] | None:
            status, body = get(port, "/readyz")
            return list(json.loads(body)["problems"]) if status == 503 else None

        problems = wait_until(refused, "readiness naming the token", timeout=20)
        assert get(port, "/healthz")[0] == 200
    assert problems == [token_state.operator_line("token_revoked")]


def test_socket_mode_answers_probes_and_metrics_on_its_health_port_and_readiness_follows_the_socket(
    database_url: str, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    sm, port = fake_slack.socket_mode, free_port()
    env = bot_env(database_url=database_url, slack_url=fake_slack.url) | {"SLACK_APP_TOKEN": APP_TOKEN}
    args = ["run", "--tick-seconds", "3600", "--host", "127.0.0.1", "--health-port", str(port)]
    with running_bot(args, env, tmp_path) as proc:
        first = sm.wait_for_hello(timeout=60)
        wait_ready(port, proc)
        assert get(port, "/healthz") == (200, '{"ok": true}')
        # Readiness allows a short grace before the runner has handled `hello`; the gauge follows it.
        wait_until(lambda: "mentorbot_socket_connected 1.0" in get(port, "/metrics")[1], "the gauge", 20)

        # Slack turns Socket Mode off (every new link is refused too): readiness fails after 5 s; it comes
        # back once Slack allows links again. Generous bounds: this machine may be loaded.
        sm.enabled = False
        sm.disconnect("link_disabled", close_after=0.1)
        problems = wait_until(lambda: _problems_if_not_ready(port), "readiness failing", timeout=40)
        assert problems == ["Socket Mode: not connected to Slack (see the log for why)"]
        assert get(port, "/healthz")[0] == 200, "not deaf for five minutes"
        sm.enabled = True
        sm.wait_for_hello(after=first.id, timeout=90)
        wait_ready(port, proc)
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    assert proc.returncode == 0


def _problems_if_not_ready(port: int) -> list[str] | None:
    status, body = get(port, "/readyz")
    return list(json.loads(body)["problems"]) if status == 503 else None
