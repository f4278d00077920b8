"""`mentorbot doctor` checks on this machine: programs.yml, the database and its schema, the secret key.

Read-only apart from what `make_engine` always does (tightening loose SQLite file modes): a missing
SQLite file is reported, not created, and no key file is generated.
"""

from __future__ import annotations

import stat
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from bot.app.bootstrap import secret_value
from bot.app.config_check import check_programs_file
from bot.app.doctor_result import Check, failed, passed
from bot.kernel.programs import ConfigError, ProgramsConfig
from bot.kernel.settings import Settings
from storage.crypto import SECRET_VARIABLE, SecretKeyError, key_file_for
from storage.engine import database_location, database_problem, make_engine
from storage.keyring import locate_secrets, matching_secret, read_key_check
from storage.migrate import current_revision, head_revision

MIGRATE_FIX = "run mentorbot migrate (back up the database first)"
CONNECT_TIMEOUT_SECONDS = 10  # a server that takes the connection and never answers must not hang doctor
TIMEOUT_FIX = (
    "check DATABASE_URL's host and port: PostgreSQL must answer there, not a firewall or another service"
)


def programs_check(settings: Settings) -> tuple[Check, ProgramsConfig | None]:
    """The same validation as `mentorbot check-config`: the file and every track file it names."""
    path = settings.programs_file
    try:
        config, summary = check_programs_file(Path(path))
    except ConfigError as exc:
        problems = [line.removeprefix(f"{path}: ") for line in exc.lines()]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        fix = "correct it; mentorbot check-config lists every problem"
        return failed(str(path), f"{problems[0]}{more}", fix), None
    return passed(f"{path}: {summary}"), config


def database_check(
    settings: Settings, *, connect_timeout: int = CONNECT_TIMEOUT_SECONDS
) -> tuple[Check, Engine | None]:
    """Reachable and migrated to this version's head; the engine for the key check when it is."""
    where = database_location(settings.database_url)
    if _sqlite_file_missing(settings.database_url):
        reason = "the file does not exist"
        return failed(f"database {where}", reason, f"check DATABASE_URL, or {MIGRATE_FIX}"), None
    engine = _doctor_engine(settings.database_url, connect_timeout)
    try:
        current = current_revision(engine)
    except DBAPIError as exc:
        engine.dispose()
        return failed(f"database {where}", *_unreadable(exc, connect_timeout)), None
    head = head_revision()
    if current != head:
        reason = f"at revision {current or 'none (empty)'}, this version needs {head}"
        return failed(f"database {where}", reason, MIGRATE_FIX), engine
    return passed(f"database {where}: reachable, migrated ({head})"), engine


def _doctor_engine(url: str, connect_timeout: int) -> Engine:
    """make_engine's, with a connect timeout on PostgreSQL. No statement_timeout in the startup
    options: PgBouncer refuses a connection that sends them, and doctor's few queries are tiny."""
    if make_url(url).get_backend_name() != "postgresql":
        return make_engine(url)
    return make_engine(url, connect_args={"connect_timeout": connect_timeout})


def _unreadable(exc: DBAPIError, connect_timeout: int) -> tuple[str, str]:
    """Why the database could not be read, and the fix."""
    if type(exc.orig).__name__ == "ConnectionTimeout":  # psycopg's, raised without a SQLSTATE
        return f"no answer within {connect_timeout} s (connection timeout)", TIMEOUT_FIX
    problem = database_problem(exc)
    if problem is None:
        return type(exc.orig).__name__, "check DATABASE_URL and that the database server is up"
    return problem.what, problem.fix


def _sqlite_file_missing(url: str) -> bool:
    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:") or database.startswith("file:"):
        return False
    return not Path(database).exists()


def key_check(settings: Settings, engine: Engine | None) -> Check:
    """The secret key: set, or on SQLite a key file only its owner may read; the one the database
    was written with (when the database could be read)."""
    configured = secret_value(settings.secret_key)
    sqlite = settings.database_url.startswith("sqlite")
    key_file = key_file_for(settings.database_url)
    what = f"secret key {SECRET_VARIABLE}" if configured or not sqlite else f"secret key file {key_file}"
    if configured is None and sqlite:
        loose = _key_file_problem(what, key_file)
        if loose is not None:
            return loose
    try:
        given = locate_secrets(
            configured=configured,
            old=secret_value(settings.old_secret_key),
            database_url=settings.database_url,
            may_generate=lambda: False,
        )
        row = read_key_check(engine) if engine is not None else None
        if row is not None:
            matching_secret(row.check, given)
    except SecretKeyError as exc:
        reason, _, fix = str(exc).partition("; ")
        return failed(what, reason, fix or f"set {SECRET_VARIABLE} (at least 32 characters)")
    except DBAPIError:
        return passed(f"{what}: present (not compared: the database could not be read)")
    return passed(f"{what}: present" + ("" if row is None else ", matches the database"))


def _key_file_problem(what: str, key_file: Path) -> Check | None:
    if not key_file.exists():
        fix = (
            f"restore it from your backup, or set {SECRET_VARIABLE} to the key the database was written "
            "with (a new database gets one at its first mentorbot migrate)"
        )
        return failed(what, "missing", fix)
    mode = stat.S_IMODE(key_file.stat().st_mode)
    if mode & 0o077:
        how = "readable" if mode & 0o044 else "writable"
        return failed(what, f"{how} by group or others (mode {mode:04o})", f"chmod 600 {key_file}")
    return None
