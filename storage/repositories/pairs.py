"""Queries over mentor–mentee pairs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Dialect, Engine, bindparam, func, or_, select
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.orm import Session

from storage.engine import mark_location
from storage.models import Pair


def active_pairs_of(session: Session, *, user_id: str, program_id: str | None = None) -> list[Pair]:
    """Active pairs in which the user is mentor or mentee, oldest first."""
    query = select(Pair).where(
        Pair.ended_at.is_(None), or_(Pair.mentor_id == user_id, Pair.mentee_id == user_id)
    )
    if program_id is not None:
        query = query.where(Pair.program_id == program_id)
    return list(session.scalars(query.order_by(Pair.started_at, Pair.id)))


# Built once: roles are read on every slash command's ack path, where rebuilding the
# statement cost more than running it.
_ROLES_QUERY = select(Pair.program_id, Pair.mentor_id == bindparam("user_id")).where(
    Pair.ended_at.is_(None),
    or_(Pair.mentor_id == bindparam("user_id"), Pair.mentee_id == bindparam("user_id")),
)


def pair_roles_of(session: Session | Connection, *, user_id: str) -> list[tuple[str, bool]]:
    """(program id, is mentor) for each active pair the user is in."""
    return [(row[0], bool(row[1])) for row in session.execute(_ROLES_QUERY, {"user_id": user_id})]


def pair_roles_on_driver(engine: Engine, *, user_id: str) -> list[tuple[str, bool]]:
    """pair_roles_of as one SELECT on a pooled driver connection, without a SQLAlchemy Connection.

    For acks such as `/mentorship help`: the Connection's bookkeeping around this one indexed SELECT
    (autobegin, events, reset) cost several times the query. No transaction is opened on SQLite; on
    PostgreSQL the pool's rollback on return ends the one the driver began. Driver errors are raised
    as SQLAlchemy's, as on every other path, so the same handlers name their cause.
    """
    sql, positions = _roles_sql(engine.dialect)
    params: Any = tuple(user_id for _ in positions) if positions is not None else {"user_id": user_id}
    dbapi = engine.dialect.loaded_dbapi
    try:
        connection = engine.raw_connection()
    except dbapi.Error as exc:
        raise _as_sqlalchemy(engine, sql, exc) from exc
    try:
        cursor = connection.cursor()
        cursor.execute(sql, params)
        rows = cursor.fetchall()
        cursor.close()
    except dbapi.Error as exc:
        if engine.dialect.is_disconnect(exc, connection.dbapi_connection, None):
            connection.invalidate(exc)  # not back into the pool for the next ack
        raise _as_sqlalchemy(engine, sql, exc) from exc
    finally:
        connection.close()
    return [(row[0], bool(row[1])) for row in rows]


def _as_sqlalchemy(engine: Engine, sql: str, exc: Exception) -> StatementError:
    """The driver's error as SQLAlchemy raises it elsewhere: parameters (a user id) never in its text,
    and marked with the database's location like every engine error."""
    wrapped = DBAPIError.instance(
        sql, None, exc, engine.dialect.loaded_dbapi.Error, hide_parameters=True, dialect=engine.dialect
    )
    mark_location(engine, wrapped, exc)
    return wrapped


_ROLES_SQL: dict[tuple[str, str], tuple[str, tuple[str, ...] | None]] = {}


def _roles_sql(dialect: Dialect) -> tuple[str, tuple[str, ...] | None]:
    """The roles SELECT in the driver's own SQL and parameter style, compiled once per dialect."""
    key = (dialect.name, dialect.paramstyle)
    if key not in _ROLES_SQL:
        compiled = _ROLES_QUERY.compile(dialect=dialect)
        # Every bound parameter is the user id; positional styles list one name per placeholder.
        positions = tuple(compiled.positiontup or ()) if compiled.positional else None
        _ROLES_SQL[key] = (compiled.string, positions)
    return _ROLES_SQL[key]


def active_pairs_in(session: Session, *, program_id: str) -> list[Pair]:
    """Every active pair of a program, oldest first."""
    query = select(Pair).where(Pair.ended_at.is_(None), Pair.program_id == program_id)
    return list(session.scalars(query.order_by(Pair.started_at, Pair.id)))


def active_pair(session: Session, *, program_id: str, mentor_id: str, mentee_id: str) -> Pair | None:
    """The active pair of exactly this mentor and mentee in the program, if any."""
    query = select(Pair).where(
        Pair.ended_at.is_(None),
        Pair.program_id == program_id,
        Pair.mentor_id == mentor_id,
        Pair.mentee_id == mentee_id,
    )
    return session.scalars(query).first()


def count_active_mentees(session: Session, *, program_id: str, mentor_id: str) -> int:
    query = select(func.count(Pair.id)).where(
        Pair.ended_at.is_(None), Pair.program_id == program_id, Pair.mentor_id == mentor_id
    )
    return int(session.scalar(query) or 0)


def create_pair(
    session: Session,
    *,
    program_id: str,
    mentor_id: str,
    mentee_id: str,
    now: datetime,
    focus: str | None = None,
) -> Pair:
    """Insert an active pair; people rows must exist. The partial unique index refuses duplicates."""
    pair = Pair(
        program_id=program_id,
        mentor_id=mentor_id,
        mentee_id=mentee_id,
        focus=focus,
        started_at=now,
        ended_at=None,
    )
    session.add(pair)
    session.flush()
    return pair


def end_pair(pair: Pair, *, now: datetime) -> None:
    """End a pair; the row stays for reports."""
    pair.ended_at = now


@dataclass(frozen=True)
class ProgramCounts:
    pairs: int
    mentors: int
    mentees: int


def program_counts(session: Session, *, program_ids: list[str]) -> dict[str, ProgramCounts]:
    """Active pairs, distinct mentors and distinct mentees per program (zeros for empty programs)."""
    query = (
        select(
            Pair.program_id,
            func.count(Pair.id),
            func.count(func.distinct(Pair.mentor_id)),
            func.count(func.distinct(Pair.mentee_id)),
        )
        .where(Pair.ended_at.is_(None), Pair.program_id.in_(program_ids))
        .group_by(Pair.program_id)
    )
    counts = {pid: ProgramCounts(0, 0, 0) for pid in program_ids}
    for program_id, pairs, mentors, mentees in session.execute(query):
        counts[program_id] = ProgramCounts(int(pairs), int(mentors), int(mentees))
    return counts
