"""Engine and session factories for SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine tuned for the backend.

    SQLite gets WAL, a busy timeout, foreign keys and `BEGIN IMMEDIATE` for every
    transaction: pysqlite's default deferred BEGIN lets two threads read the same
    row and then both write it, losing one update.
    """
    if url.startswith("sqlite"):
        secure_sqlite_files(url)
        sqlite_options: dict[str, Any] = {"pool_size": 20, "max_overflow": 20, **kwargs}
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            hide_parameters=True,
            **sqlite_options,
        )
        _tune_sqlite(engine)
        return engine
    # hide_parameters: a failed statement must never put message text or ids into a log line.
    options: dict[str, Any] = {
        "pool_size": 10,
        "max_overflow": 20,
        "pool_pre_ping": True,
        "hide_parameters": True,
    }
    options.update(kwargs)
    return create_engine(url, **options)


def secure_sqlite_files(url: str) -> None:
    """Make the SQLite database, its -wal and its -shm files mode 0600 before the first connect.

    SQLite gives -wal and -shm the main file's permissions, so creating the main file 0600 (umask
    would otherwise leave it 0644) covers all three. Files left looser by an older version or a copy
    are tightened, with one warning line.
    """
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    main = Path(database)
    if not main.parent.is_dir():
        return  # SQLite reports the missing directory itself on connect
    try:
        os.close(os.open(main, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    loose = [path for path in _sqlite_files(main) if _open_to_others(path)]
    for path in loose:
        os.chmod(path, 0o600)
    if loose:
        names = ", ".join(str(path) for path in loose)
        log.warning("%s: was open to group or others; changed to mode 0600", names)


def _sqlite_files(main: Path) -> list[Path]:
    return [main, main.with_name(main.name + "-wal"), main.with_name(main.name + "-shm")]


def _open_to_others(path: Path) -> bool:
    try:
        return bool(stat.S_IMODE(path.stat().st_mode) & 0o077)
    except FileNotFoundError:
        return False


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself instead of pysqlite's implicit one.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # secure_delete: deleted content is overwritten with zeros, not left in free pages to be carved
        # back out (off by default upstream). See storage.scrub for the WAL.
        pragmas = (
            "journal_mode=WAL",
            "busy_timeout=30000",
            "foreign_keys=ON",
            "synchronous=NORMAL",
            "secure_delete=ON",
        )
        for pragma in pragmas:
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Read-only units of work (see make_read_sessions) begin DEFERRED: in WAL mode they
        # never wait for the write lock.
        mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        if mode != LOOKUP:
            connection.exec_driver_sql(f"BEGIN {mode}")


LOOKUP = "none"  # sqlite_begin value of make_lookup_engine: no BEGIN at all


def make_lookup_engine(engine: Engine) -> Engine:
    """The engine for one-statement reads on an ack's hot path, such as a user's roles.

    A single SELECT is a consistent snapshot by itself, so no transaction is opened around it:
    on SQLite no BEGIN (which would also queue behind writers), on PostgreSQL autocommit.
    Use it only with `with lookups.connect() as connection:` and one statement.
    """
    if engine.dialect.name == "sqlite":
        return engine.execution_options(sqlite_begin=LOOKUP)
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    """One session per unit of work: `with sessions.begin() as session: ...`."""
    return sessionmaker(engine, expire_on_commit=False)


def make_read_sessions(engine: Engine) -> sessionmaker[Session]:
    """Sessions for units of work that only read (help, status, App Home, digest previews).

    On SQLite they skip the write lock every other transaction takes; on PostgreSQL they are ordinary.
    """
    return sessionmaker(engine.execution_options(sqlite_begin="DEFERRED"), expire_on_commit=False)
