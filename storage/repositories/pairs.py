"""Queries over mentor–mentee pairs."""

from __future__ import annotations

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
