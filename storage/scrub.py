"""Deletion that deletes: after rows that must not linger are removed, push them out of the files.

SQLite runs with `secure_delete=ON` (set on every connection in storage.engine), so freed pages are
zeroed; but the old page images stay in the `-wal` file until a checkpoint rewrites the main file and a
TRUNCATE checkpoint empties the WAL. PostgreSQL keeps deleted tuples in the heap until VACUUM marks
their space free (and until that space is reused the bytes may remain: see docs/threat-model.md).
"""

from __future__ import annotations

import logging

from sqlalchemy import Engine, text

log = logging.getLogger(__name__)


def scrub(engine: Engine, *, tables: list[str]) -> None:
    """Checkpoint SQLite's WAL into the main file and truncate it; VACUUM the tables on PostgreSQL.

    Call after the transaction that deleted has committed, outside any other transaction.
    """
    if engine.dialect.name == "sqlite":
        with engine.connect().execution_options(sqlite_begin="none") as connection:
            busy, _, _ = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
        if busy:
            # A reader held an old snapshot; the next scrub (or the next automatic checkpoint) finishes it.
            log.warning("WAL checkpoint after deletion was blocked by a reader; it will be retried")
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in tables:
            connection.execute(text(f'VACUUM "{table}"'))
