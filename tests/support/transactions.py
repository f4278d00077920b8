"""Checking from outside that the bot holds no write transaction open (e.g. while Slack is slow)."""

from __future__ import annotations

import time
from datetime import datetime

from sqlalchemy import Engine, create_engine, event, insert, text
from sqlalchemy.pool import NullPool

from storage.models import Person


def _other_connection(database_url: str, *, within: float) -> Engine:
    """An engine of its own (not the bot's pool) that waits at most `within` seconds for a lock."""
    if database_url.startswith("sqlite"):
        engine = create_engine(
            database_url, poolclass=NullPool, connect_args={"timeout": within, "isolation_level": None}
        )
        # As the bot's writers do: take SQLite's write lock up front.
        event.listen(engine, "begin", lambda connection: connection.exec_driver_sql("BEGIN IMMEDIATE"))
        return engine
    engine = create_engine(database_url, poolclass=NullPool)
    lock_timeout = f"SET lock_timeout = {int(within * 1000)}"
    event.listen(engine, "connect", lambda dbapi, _record: dbapi.execute(lock_timeout))
    return engine


def assert_another_writer_commits(
    database_url: str, *, user_id: str, now: datetime, within: float = 2.0
) -> None:
    """Insert a person and commit on a separate connection, as another request's unit of work would.

    On SQLite its BEGIN IMMEDIATE would wait for a write lock held anywhere else (and fail after
    `within` seconds). PostgreSQL writers only wait on the rows they touch, so there it also checks
    that no other connection to the database sits in an open transaction.
    """
    engine = _other_connection(database_url, within=within)
    started = time.monotonic()
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(Person).values(
                    id=user_id, display_name="", real_name="", active=True, first_seen_at=now
                )
            )
        took = time.monotonic() - started
        if engine.dialect.name == "postgresql":
            open_elsewhere = _open_transactions(engine)
            assert open_elsewhere == [], f"transactions held open on other connections: {open_elsewhere}"
    finally:
        engine.dispose()
    assert took < within, f"the write took {took:.1f}s: it waited for a lock"


def _open_transactions(engine: Engine) -> list[str]:
    """Other connections idle inside a transaction, each as `state: last statement`."""
    query = text(
        "SELECT state || ': ' || query FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'"
    )
    with engine.connect() as connection:
        return [str(row) for row in connection.scalars(query)]
