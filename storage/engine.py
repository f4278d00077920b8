"""Engine and session factories for SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.exc import DBAPIError
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
        _name_errors(engine)
        return engine
    # hide_parameters: a failed statement must never put message text or ids into a log line.
    options: dict[str, Any] = {
        "pool_size": 10,
        "max_overflow": 20,
        "pool_pre_ping": True,
        "hide_parameters": True,
    }
    options.update(kwargs)
    engine = create_engine(url, **options)
    _name_errors(engine)
    return engine


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
        try:
            os.chmod(path, 0o600)
        except OSError as exc:  # a read-only filesystem: the first write names it (database_problem)
            log.warning("%s: is open to group or others and could not be changed (%s)", path, exc.strerror)
            return
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


# -- errors an operator can act on -------------------------------------------------------------------

_WHERE = "mentorbot_database"  # attribute _name_errors puts on every database exception


@dataclass(frozen=True)
class DatabaseProblem:
    """A database error with a known cause, worded for the operator; it carries no user data."""

    cause: str  # a short code, also a metric label: disk_full, read_only, cannot_open, locked, ...
    where: str  # the SQLite file, or PostgreSQL's host and database (never credentials)
    what: str
    fix: str

    def __str__(self) -> str:
        where = f" {self.where}" if self.where else ""
        return f"database{where}: {self.what}; {self.fix}"


def database_location(url: str) -> str:
    """The SQLite file's absolute path, or postgresql://host:port/database: what a log line may name."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ":memory:"
        return database if database.startswith((":memory:", "file:")) else str(Path(database).resolve())
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.get_backend_name()}://{parsed.host or 'localhost'}{port}/{parsed.database or ''}"


def _name_errors(engine: Engine) -> None:
    @event.listens_for(engine, "handle_error")
    def _on_error(context: ExceptionContext) -> None:
        mark_location(engine, context.sqlalchemy_exception, context.original_exception)


def mark_location(engine: Engine, *errors: BaseException | None) -> None:
    """Note on database errors which database failed: the exception alone does not say, the log line
    has to. Engine errors are marked by an event; a driver-level caller marks its own."""
    where = database_location(engine.url.render_as_string(hide_password=True))
    for exc in errors:
        if exc is not None:
            try:
                setattr(exc, _WHERE, where)
            except AttributeError:
                pass  # an exception type with __slots__: the line says "the database" instead


_FULL_FILESYSTEM = ("disk_full", "disk full", "free space on the filesystem that holds it")
_READ_ONLY_FILESYSTEM = (
    "read_only",
    "read-only filesystem",
    "remount it read-write (mount -o remount,rw) or move the database to a writable one",
)


_SQLITE_CAUSES = {
    sqlite3.SQLITE_FULL: _FULL_FILESYSTEM,
    sqlite3.SQLITE_READONLY: (
        "read_only",
        "read-only",
        "make the file, its -wal and -shm files and its directory writable by the bot's user, "
        "or remount the filesystem read-write",
    ),
    sqlite3.SQLITE_CANTOPEN: (
        "cannot_open",
        "cannot open",
        "check that the path in DATABASE_URL exists and that the bot's user may read and write it "
        "and its directory",
    ),
    sqlite3.SQLITE_BUSY: (
        "locked",
        "locked",
        "another process held the write lock for over 30 s (a backup, a second bot): find it and stop it",
    ),
    sqlite3.SQLITE_LOCKED: ("locked", "locked", "another connection holds a lock on it: restart the bot"),
    sqlite3.SQLITE_IOERR: ("io_error", "disk I/O error", "check the disk and the kernel log (dmesg)"),
    sqlite3.SQLITE_CORRUPT: ("corrupt", "corrupt", "stop the bot and restore the file from a backup"),
    sqlite3.SQLITE_NOTADB: (
        "corrupt",
        "not a database",
        "check DATABASE_URL; restore the file from a backup",
    ),
}
_CONNECT = (
    "cannot_open",
    "cannot connect",
    "check DATABASE_URL (host, port, database, user, password) and that the server is up",
)
_POSTGRES_CAUSES = {
    "53100": ("disk_full", "disk full", "free space on the PostgreSQL server's data volume"),
    "25006": (
        "read_only",
        "read-only",
        "DATABASE_URL points at a read-only server (a standby?) or default_transaction_read_only is on: "
        "point it at the primary",
    ),
    "55P03": ("locked", "locked", "another session held a lock too long: look at pg_stat_activity"),
    "40P01": ("locked", "deadlock", "retry; if it repeats, look at pg_stat_activity"),
    "57014": ("timeout", "statement timed out", "look at pg_stat_activity for what held it up"),
    "53300": ("cannot_open", "too many connections", "raise max_connections or lower the bot's workers"),
}


def database_problem(exc: BaseException, *, where: str = "") -> DatabaseProblem | None:
    """What went wrong with the database, if `exc` (or what caused it) is a database error we can name.

    The database is the one make_engine's engine marked the exception with, else `where`.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        where = getattr(current, _WHERE, where)
        original = current.orig if isinstance(current, DBAPIError) else current
        cause = _sqlite_cause(original) or _postgres_cause(original)
        if cause is not None:
            where = getattr(original, _WHERE, where)
            if isinstance(original, sqlite3.Error) and cause[0] in _HIDDEN_BY_SQLITE:
                cause = _filesystem_cause(where) or cause
            return DatabaseProblem(cause[0], where, cause[1], cause[2])
        current = current.__cause__ or current.__context__
    return None


_HIDDEN_BY_SQLITE = frozenset({"cannot_open", "io_error", "read_only"})


def _filesystem_cause(where: str) -> tuple[str, str, str] | None:
    """What the file's filesystem says, when SQLite's own code hides it.

    On a full or read-only disk SQLite reports what it was doing, not why: a WAL index it cannot extend
    is "disk I/O error", a WAL database it cannot open for writing is "unable to open database file".
    """
    try:
        found = os.statvfs(Path(where).parent)
    except (OSError, ValueError):
        return None
    if found.f_flag & os.ST_RDONLY:
        return _READ_ONLY_FILESYSTEM
    if found.f_bavail == 0:
        return _FULL_FILESYSTEM
    return None


def _sqlite_cause(exc: BaseException | None) -> tuple[str, str, str] | None:
    if not isinstance(exc, sqlite3.Error):
        return None
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:
        return None
    return _SQLITE_CAUSES.get(code & 0xFF)  # extended codes keep the primary one in the low byte


def _postgres_cause(exc: BaseException | None) -> tuple[str, str, str] | None:
    if exc is None or type(exc).__module__.split(".")[0] != "psycopg":
        return None
    sqlstate = getattr(exc, "sqlstate", None)
    if sqlstate in _POSTGRES_CAUSES:
        return _POSTGRES_CAUSES[sqlstate]
    if sqlstate is None and type(exc).__name__ == "OperationalError":
        return _CONNECT  # psycopg raises these without a SQLSTATE when the connection itself fails
    if sqlstate is not None and (sqlstate.startswith(("08", "28", "3D")) or sqlstate in {"57P01", "57P03"}):
        return _CONNECT
    return None
