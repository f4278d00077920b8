"""Apply Alembic migrations from storage/migrations to a database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from storage.scrub import scrub

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


# Tables whose old row images a migration may leave behind (0008 moves team-climate answers out).
SCRUB_AFTER_UPGRADE = ["checkin_answers"]


# The key check table. Migrations after it may encrypt (0008 encrypts open team-climate answers), so
# bootstrap migrates up to here, opens and installs the keys, then migrates the rest.
KEYS_REVISION = "0007_keys"


def upgrade(engine: Engine, *, keys_only: bool = False) -> None:
    """Bring the schema to the newest revision (a no-op when already there).

    `keys_only` stops at KEYS_REVISION, and does nothing on a database already past it. After
    migrations ran, the files are scrubbed (storage.scrub): a migration that moved or deleted data
    must not leave the old rows in SQLite's WAL or in PostgreSQL's dead tuples.
    """
    config = alembic_config(engine)
    before = current_revision(engine)
    if keys_only and not _before_keys(before):
        return
    with migration_connection(engine) as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, KEYS_REVISION if keys_only else "head")
    if current_revision(engine) != before:
        scrub(engine, tables=SCRUB_AFTER_UPGRADE)


@contextmanager
def migration_connection(engine: Engine) -> Iterator[Connection]:
    """One transaction for a migration run. On SQLite, foreign keys are not enforced during it and are
    checked at the end: a batch migration rebuilds a table (copy, drop, rename), and dropping a table
    that others reference fails while enforcement is on. The pragma only works outside a transaction."""
    with engine.connect() as connection:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            _pragma(connection, "foreign_keys=OFF")
        try:
            with connection.begin():
                yield connection
                if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
                    raise RuntimeError("migration left rows that break a foreign key; rolled back")
        finally:
            if sqlite:
                _pragma(connection, "foreign_keys=ON")


def _pragma(connection: Connection, pragma: str) -> None:
    # On the DBAPI connection (autocommit, see storage.engine): through SQLAlchemy it would open a
    # transaction, inside which SQLite ignores this pragma.
    connection.connection.driver_connection.execute(f"PRAGMA {pragma}")  # type: ignore[union-attr]


def _before_keys(revision: str | None) -> bool:
    if revision is None:
        return True
    below = ScriptDirectory(str(MIGRATIONS)).iterate_revisions(KEYS_REVISION, "base")
    return revision in {script.revision for script in below} - {KEYS_REVISION}


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()
