"""Causes named: a full disk or a read-only database is one line naming the cause and the database; nothing
is lost once it is fixed.

SQLite runs on a real, tiny tmpfs (filled with a file for "disk full", remounted read-only for
"read-only"), so SQLite meets ENOSPC and EROFS exactly as on a full or read-only disk. PostgreSQL's
read-only case is a database with default_transaction_read_only (what a standby answers, SQLSTATE 25006);
its disk-full case is a tablespace on the same kind of tmpfs (SQLSTATE 53100).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import sqlite3
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.app.bootstrap import bootstrap
from bot.app.tick import tick
from bot.fake_slack.server import FakeSlack
from bot.kernel.deps import Deps
from bot.kernel.programs import load_programs
from bot.kernel.settings import Settings
from storage.engine import database_location
from tests.support.checkins import prompt_posts
from tests.support.factories import make_pair
from tests.support.people import BACKEND, PG_ADMIN_URL
from tests.support.running import BIN, bot_env, programs_due_now


class TinyDisk:
    """A tmpfs of a few MiB mounted for one test: fill it, free it, make it read-only and back."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.filler = root / "filler"

    def fill(self) -> None:
        descriptor = os.open(self.filler, os.O_WRONLY | os.O_CREAT)
        try:
            while True:
                os.write(descriptor, b"\0" * 65536)
        except OSError:
            pass  # ENOSPC: full to the last block
        finally:
            os.close(descriptor)

    def free(self) -> None:
        self.filler.unlink()

    def remount(self, mode: str) -> None:
        subprocess.run(["mount", "-o", f"remount,{mode}", str(self.root)], check=True)


@pytest.fixture
def tiny_disk() -> Iterator[TinyDisk]:
    # Outside pytest's 0700 temp tree: PostgreSQL's server user has to reach its tablespace here.
    root = Path(tempfile.mkdtemp(prefix="mentorbot-tiny-disk-"))
    root.chmod(0o755)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m,mode=0755", "tmpfs", str(root)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        root.rmdir()
        pytest.skip(f"needs a tmpfs of its own (mount as root with CAP_SYS_ADMIN): {mounted.stderr.strip()}")
    try:
        yield TinyDisk(root)
    finally:
        subprocess.run(["umount", "-l", str(root)], check=False)
        root.rmdir()


@dataclasses.dataclass
class Bot:
    url: str
    deps: Deps
    programs_file: Path


@pytest.fixture
def bot_on_tiny_disk(
    tiny_disk: TinyDisk,
    database_url: str,
    settings: Settings,
    fake_slack: FakeSlack,
    tmp_path: Path,
) -> Iterator[Bot]:
    """The bot's database on the tiny disk (SQLite: the file; PostgreSQL: a tablespace), with one
    mentee whose check-in is due now."""
    if BACKEND == "sqlite":
        path = tiny_disk.root / "mentorbot.db"
        shutil.copyfile(str(make_url(database_url).database), path)
        url = f"sqlite:///{path}"
        cleanup: Callable[[], None] | None = None
    else:
        url, cleanup = _postgres_database_on(tiny_disk.root, database_url)
    programs_file = programs_due_now(tmp_path, "U0MENTEE1")
    deps = bootstrap(settings.model_copy(update={"database_url": url}), programs=load_programs(programs_file))
    make_pair(deps, started_at=datetime.now(UTC) - timedelta(days=1))
    try:
        yield Bot(url, deps, programs_file)
    finally:
        deps.engine.dispose()
        if cleanup is not None:
            cleanup()


def _postgres_database_on(root: Path, template_url: str) -> tuple[str, Callable[[], None]]:
    space = root / "pg"
    space.mkdir()
    shutil.chown(space, "postgres", "postgres")
    tablespace, name = f"mb_tiny_{uuid.uuid4().hex[:8]}", f"mb_tiny_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    template = make_url(template_url).database
    with admin.connect() as connection:
        connection.execute(text(f"CREATE TABLESPACE {tablespace} LOCATION '{space}'"))
        connection.execute(text(f'CREATE DATABASE {name} TEMPLATE "{template}" TABLESPACE {tablespace}'))

    def cleanup() -> None:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            connection.execute(text(f"DROP TABLESPACE IF EXISTS {tablespace}"))
        admin.dispose()

    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    return url, cleanup


def _tick_cli(bot: Bot, fake_slack: FakeSlack) -> subprocess.CompletedProcess[str]:
    env = bot_env(database_url=bot.url, slack_url=fake_slack.url, programs=bot.programs_file)
    return subprocess.run(
        [str(BIN / "mentorbot"), "tick"], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _lines_naming(output: str, where: str) -> list[str]:
    return [line for line in output.splitlines() if where in line]


def _empty_the_wal(bot: Bot) -> None:
    """SQLite reuses a WAL file already as long as the next transaction: start from an empty one, as a
    bot does after a checkpoint, so the next write has to grow a file on the full disk."""
    if BACKEND == "sqlite":
        connection = sqlite3.connect(str(make_url(bot.url).database))
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.close()


def test_a_full_disk_is_one_line_naming_it_and_the_database_and_the_prompt_goes_out_after(
    bot_on_tiny_disk: Bot, tiny_disk: TinyDisk, fake_slack: FakeSlack
) -> None:
    bot = bot_on_tiny_disk
    where = database_location(bot.url)
    _empty_the_wal(bot)
    tiny_disk.fill()
    result = _tick_cli(bot, fake_slack)
    assert "Traceback" not in result.stderr, result.stderr
    [line] = _lines_naming(result.stderr, where)
    assert f"database {where}: disk full; free space on" in line
    assert prompt_posts(fake_slack) == []

    tiny_disk.free()
    again = _tick_cli(bot, fake_slack)
    assert again.stderr.count("ERROR") == 0, again.stderr
    assert len(prompt_posts(fake_slack)) == 1, "nothing lost, nothing sent twice"


def test_a_read_only_database_is_one_line_naming_it_and_the_prompt_goes_out_after(
    bot_on_tiny_disk: Bot, tiny_disk: TinyDisk, fake_slack: FakeSlack
) -> None:
    bot = bot_on_tiny_disk
    where = database_location(bot.url)
    bot.deps.engine.dispose()
    with _read_only(bot, tiny_disk):
        result = _tick_cli(bot, fake_slack)
    assert "Traceback" not in result.stderr, result.stderr
    [line] = _lines_naming(result.stderr, where)
    assert f"database {where}: read-only" in line
    assert prompt_posts(fake_slack) == []

    again = _tick_cli(bot, fake_slack)
    assert again.stderr.count("ERROR") == 0, again.stderr
    assert len(prompt_posts(fake_slack)) == 1, "nothing lost, nothing sent twice"


def _read_only(bot: Bot, tiny_disk: TinyDisk) -> _ReadOnly:
    return _ReadOnly(bot, tiny_disk)


class _ReadOnly:
    """SQLite: the filesystem remounted read-only. PostgreSQL: the database read-only, as a standby is."""

    def __init__(self, bot: Bot, tiny_disk: TinyDisk) -> None:
        self.bot, self.tiny_disk = bot, tiny_disk

    def __enter__(self) -> None:
        self._set("ro", "on")

    def __exit__(self, *_exc: object) -> None:
        self._set("rw", "off")

    def _set(self, mount: str, flag: str) -> None:
        if BACKEND == "sqlite":
            self.tiny_disk.remount(mount)
            return
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            name = make_url(self.bot.url).database
            connection.execute(text(f"ALTER DATABASE {name} SET default_transaction_read_only = {flag}"))
        admin.dispose()


def test_the_running_bot_logs_a_full_disk_once_per_tick_with_its_cause_and_keeps_the_work_for_later(
    bot_on_tiny_disk: Bot, tiny_disk: TinyDisk, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    bot = bot_on_tiny_disk
    where = database_location(bot.url)
    _empty_the_wal(bot)
    tiny_disk.fill()
    with caplog.at_level(logging.INFO):
        tick(bot.deps, datetime.now(UTC))
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    assert errors[0].exc_info is None, "a known cause needs no traceback"
    assert f"database {where}: disk full; " in errors[0].getMessage()

    tiny_disk.free()
    tick(bot.deps, datetime.now(UTC))
    assert len(prompt_posts(fake_slack)) == 1
