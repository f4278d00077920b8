"""Queries over mentor–mentee pairs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from storage.models import Pair


def active_pairs_of(session: Session, *, user_id: str, program_id: str | None = None) -> list[Pair]:
    """Active pairs in which the user is mentor or mentee, oldest first."""
    query = select(Pair).where(
        Pair.ended_at.is_(None), or_(Pair.mentor_id == user_id, Pair.mentee_id == user_id)
    )
    if program_id is not None:
        query = query.where(Pair.program_id == program_id)
    return list(session.scalars(query.order_by(Pair.started_at, Pair.id)))


def active_pairs_in(session: Session, *, program_id: str) -> list[Pair]:
    query = select(Pair).where(Pair.ended_at.is_(None), Pair.program_id == program_id)
    return list(session.scalars(query.order_by(Pair.started_at, Pair.id)))


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
