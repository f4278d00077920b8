"""Apply Alembic migrations from storage/migrations to a database."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from storage.scrub import scrub

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


# Tables whose old row images a migration may leave behind (0008 moves team-climate answers out).
SCRUB_AFTER_UPGRADE = ["checkin_answers"]


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision (a no-op when already there).

    After migrations ran, the files are scrubbed (storage.scrub): a migration that moved or deleted
    data must not leave the old rows in SQLite's WAL or in PostgreSQL's dead tuples.
    """
    config = alembic_config(engine)
    before = current_revision(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    if current_revision(engine) != before:
        scrub(engine, tables=SCRUB_AFTER_UPGRADE)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()
