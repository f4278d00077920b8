"""Fixtures: a fresh migrated database per test (SQLite or PostgreSQL), the fake Slack, the running bot."""

from __future__ import annotations

import dataclasses
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.app.bolt_app import build_app
from bot.app.bootstrap import bootstrap
from bot.app.http_server import BackgroundServer, make_server
from bot.fake_slack.requests import SlackRequestSender
from bot.fake_slack.server import FakeSlack
from bot.kernel.clock import SettableClock as Clock
from bot.kernel.deps import Deps
from bot.kernel.programs import ProgramsConfig, load_programs
from bot.kernel.settings import Settings
from bot.slack import token_state
from storage import migrate
from storage.crypto import Keys, install_keys
from storage.engine import make_engine
from tests.support.people import BACKEND, PG_ADMIN_URL, PROGRAMS_FILE, SECRET_KEY, SIGNING_SECRET, USERS


def pytest_report_header(config: pytest.Config) -> str:
    where = (
        make_url(PG_ADMIN_URL).render_as_string(hide_password=True)
        if BACKEND == "postgresql"
        else "temp files"
    )
    return f"mentorbot database backend: {BACKEND} ({where})"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    terminalreporter.write_line(f"mentorbot suite ran on: {BACKEND}")


@pytest.fixture(scope="session")
def keys() -> Keys:
    keys = Keys.from_secret(SECRET_KEY)
    install_keys(keys)
    return keys


@pytest.fixture(scope="session")
def _template(tmp_path_factory: pytest.TempPathFactory, keys: Keys) -> Iterator[str]:
    """A migrated template database that each test copies (cheaper than migrating per test)."""
    if BACKEND == "postgresql":
        if not PG_ADMIN_URL:
            if os.environ.get("MENTORBOT_REQUIRE_POSTGRES"):
                pytest.fail("MENTORBOT_TEST_BACKEND=postgresql but MENTORBOT_TEST_PG_URL is unset")
            pytest.skip("PostgreSQL not available (set MENTORBOT_TEST_PG_URL)")
        name = f"mb_template_{uuid.uuid4().hex[:8]}"
        _pg_admin(f'CREATE DATABASE "{name}"')
        engine = make_engine(_pg_url(name))
        migrate.upgrade(engine)
        engine.dispose()
        yield name
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        path = tmp_path_factory.mktemp("template") / "template.db"
        engine = make_engine(f"sqlite:///{path}")
        migrate.upgrade(engine)
        engine.dispose()  # closing the last connection checkpoints the WAL into the file we copy
        yield str(path)


def _pg_url(database: str) -> str:
    return make_url(PG_ADMIN_URL).set(database=database).render_as_string(hide_password=False)


def _pg_admin(sql: str) -> None:
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(sql))
    engine.dispose()


@pytest.fixture
def database_url(_template: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated, empty database for this test."""
    if BACKEND == "postgresql":
        name = f"mb_test_{uuid.uuid4().hex[:12]}"
        _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{_template}"')
        yield _pg_url(name)
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        path = tmp_path / "mentorbot.db"
        shutil.copyfile(_template, path)
        yield f"sqlite:///{path}"


@pytest.fixture(autouse=True)
def _slack_token_state() -> Iterator[None]:
    """A bot token refusal one test provokes (bot.slack.token_state is process-wide) stays in that test."""
    token_state.clear_token_failure()
    yield
    token_state.clear_token_failure()


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack(bot_user_id="UBOT", team_id="T0MENTOR").start()
    for user in USERS:
        fake.add_user(user)
    yield fake
    fake.stop()
    invalid = [(c.method, c.response.get("errors") or c.response.get("error")) for c in fake.invalid]
    assert not invalid, f"the bot sent Block Kit that Slack would reject: {invalid}"


@pytest.fixture
def programs() -> ProgramsConfig:
    return load_programs(PROGRAMS_FILE)


@pytest.fixture
def settings(database_url: str, fake_slack: FakeSlack) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        slack_bot_token="xoxb-test-token",
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake_slack.url,
        database_url=database_url,
        programs_file=PROGRAMS_FILE,
        secret_key=SECRET_KEY,
        send_rate_per_second=1000,
    )


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 23, 14, 0, tzinfo=UTC))


@pytest.fixture
def deps(settings: Settings, programs: ProgramsConfig, keys: Keys, clock: Clock) -> Iterator[Deps]:
    ready = dataclasses.replace(bootstrap(settings, programs=programs), clock=clock)
    yield ready
    ready.engine.dispose()


@pytest.fixture
def serve_bot() -> Iterator[Callable[[Deps], str]]:
    """Start the real app over HTTP (waitress on a free port); returns the events URL."""
    servers: list[BackgroundServer] = []

    def start(deps: Deps) -> str:
        server = make_server(build_app(deps), engine=deps.engine, host="127.0.0.1", port=0, threads=8)
        servers.append(BackgroundServer(server))
        return f"http://127.0.0.1:{servers[-1].port}/slack/events"

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def bot_url(deps: Deps, serve_bot: Callable[[Deps], str]) -> str:
    return serve_bot(deps)


@pytest.fixture
def slack(bot_url: str, fake_slack: FakeSlack) -> SlackRequestSender:
    """Sends signed requests into the running bot, as Slack does."""
    return SlackRequestSender(url=bot_url, signing_secret=SIGNING_SECRET, fake=fake_slack)
