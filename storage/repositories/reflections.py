"""Queries over mentoring sessions, reflections and competency observations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.orm import Session

from storage.models import CompetencyObservation, MentoringSession, Pair, Reflection

PENDING, CONFIRMED, DISPUTED = "pending", "confirmed", "disputed"


@dataclass(frozen=True)
class LedgerRow:
    """One confirmed session as the protected-time ledger needs it."""

    session_id: int
    pair_id: int
    mentor_id: str
    mentee_id: str
    session_date: date
    minutes: int


def create_session(
    session: Session,
    *,
    pair: Pair,
    session_date: date,
    duration_minutes: int,
    format: str,
    logged_by: str,
    now: datetime,
    idea_id: int | None = None,
) -> MentoringSession:
    """Insert a pending session of `pair` logged by one of its members (about an idea, when given)."""
    row = MentoringSession(
        pair_id=pair.id,
        program_id=pair.program_id,
        session_date=session_date,
        duration_minutes=duration_minutes,
        format=format,
        logged_by=logged_by,
        logged_at=now,
        status=PENDING,
        idea_id=idea_id,
    )
    session.add(row)
    session.flush()
    return row


def add_reflection(session: Session, *, reflection: Reflection) -> Reflection:
    """Insert one side's reflection; the (session, author) unique constraint refuses a second."""
    session.add(reflection)
    session.flush()
    return reflection


def add_observations(
    session: Session, *, mentoring_session: MentoringSession, mentee_id: str, levels: dict[str, str]
) -> list[CompetencyObservation]:
    """Record the levels a mentor observed in a session, dated by the session's day."""
    rows = [
        CompetencyObservation(
            session_id=mentoring_session.id,
            program_id=mentoring_session.program_id,
            mentee_id=mentee_id,
            competency=competency,
            level=level,
            observed_on=mentoring_session.session_date,
        )
        for competency, level in levels.items()
    ]
    session.add_all(rows)
    session.flush()
    return rows


def get_session(session: Session, *, session_id: int) -> MentoringSession | None:
    return session.get(MentoringSession, session_id)


def reflection_of(session: Session, *, session_id: int, author_id: str) -> Reflection | None:
    query = select(Reflection).where(Reflection.session_id == session_id, Reflection.author_id == author_id)
    return session.scalars(query).one_or_none()


def observations_in(session: Session, *, session_id: int) -> list[CompetencyObservation]:
    query = select(CompetencyObservation).where(CompetencyObservation.session_id == session_id)
    return list(session.scalars(query.order_by(CompetencyObservation.id)))


def sessions_to_reflect_on(
    session: Session, *, pair_id: int, author_id: str, since: date, limit: int = 20
) -> list[MentoringSession]:
    """Recent, undisputed sessions of the pair that `author_id` has not reflected on yet, newest first."""
    reflected = exists().where(
        Reflection.session_id == MentoringSession.id, Reflection.author_id == author_id
    )
    query = (
        select(MentoringSession)
        .where(
            MentoringSession.pair_id == pair_id,
            MentoringSession.status != DISPUTED,
            MentoringSession.session_date >= since,
            ~reflected,
        )
        .order_by(MentoringSession.session_date.desc(), MentoringSession.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def answer_session(session: Session, *, session_id: int, status: str, user_id: str, now: datetime) -> bool:
    """Confirm or dispute a pending session; False when it was already answered.

    One conditional UPDATE, so two clicks racing each other cannot both win.
    """
    values: dict[str, object] = {"status": status}
    if status == CONFIRMED:
        values |= {"confirmed_by": user_id, "confirmed_at": now}
    else:
        values |= {"disputed_at": now}
    result = session.execute(
        update(MentoringSession)
        .where(MentoringSession.id == session_id, MentoringSession.status == PENDING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.expire_all()
    return bool(result.rowcount)  # type: ignore[attr-defined]


def unsent_notices(
    session: Session, *, logged_by: str | None = None, stale_before: datetime | None = None, limit: int = 200
) -> list[int]:
    """Ids of pending sessions (of one logger, or all) whose confirmation DM was never claimed.

    With `stale_before`, also those whose claim is older and recorded no DM: its sender died.
    """
    free = MentoringSession.notice_claimed_at.is_(None)
    query = select(MentoringSession.id).where(
        MentoringSession.status == PENDING, free if stale_before is None else or_(free, _stale(stale_before))
    )
    if logged_by is not None:
        query = query.where(MentoringSession.logged_by == logged_by)
    return list(session.scalars(query.order_by(MentoringSession.id).limit(limit)))


def _stale(stale_before: datetime) -> Any:
    # Claims without a token come from before fencing: their sender may still be running, so they stay.
    return and_(
        MentoringSession.notice_ts.is_(None),
        MentoringSession.notice_claimed_by.is_not(None),
        MentoringSession.notice_claimed_at < stale_before,
    )


def claim_notice(session: Session, *, session_id: int, now: datetime, token: str) -> bool:
    """Claim the right to send a session's confirmation DM; only one caller ever wins."""
    return _claim_notice(session, session_id, now, token, MentoringSession.notice_claimed_at.is_(None))


def reclaim_stale_notice(
    session: Session, *, session_id: int, now: datetime, token: str, stale_before: datetime
) -> bool:
    """Take over a claim older than `stale_before` that recorded no DM; the caller looks in the DM first."""
    return _claim_notice(session, session_id, now, token, _stale(stale_before))


def _claim_notice(session: Session, session_id: int, now: datetime, token: str, condition: Any) -> bool:
    result = session.execute(
        update(MentoringSession)
        .where(MentoringSession.id == session_id, condition)
        .values(notice_claimed_at=now, notice_claimed_by=token)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def renew_notice_claim(session: Session, *, session_id: int, token: str, now: datetime) -> bool:
    """Compare-and-set before sending the DM: true while `token` still holds the claim (renewed to `now`)."""
    result = session.execute(
        update(MentoringSession)
        .where(
            MentoringSession.id == session_id,
            MentoringSession.notice_claimed_by == token,
            MentoringSession.notice_ts.is_(None),
        )
        .values(notice_claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def record_notice(
    session: Session, *, session_id: int, token: str, channel: str | None, ts: str | None
) -> None:
    """Remember where the DM went (so it can be updated), or release the claim when it failed.

    Only while `token` holds the claim: one taken over belongs to its new holder.
    """
    values: dict[str, object] = {"notice_channel": channel, "notice_ts": ts}
    if ts is None:
        values["notice_claimed_at"] = None
        values["notice_claimed_by"] = None
    session.execute(
        update(MentoringSession)
        .where(MentoringSession.id == session_id, MentoringSession.notice_claimed_by == token)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def sessions_of_pairs(
    session: Session, *, pair_ids: list[int], statuses: tuple[str, ...], limit: int = 50
) -> list[MentoringSession]:
    """Sessions of these pairs in these states, newest first."""
    if not pair_ids:
        return []
    query = (
        select(MentoringSession)
        .where(MentoringSession.pair_id.in_(pair_ids), MentoringSession.status.in_(statuses))
        .order_by(MentoringSession.session_date.desc(), MentoringSession.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def confirmed_ledger_rows(
    session: Session, *, program_id: str, start: date, end: date, mentor_id: str | None = None
) -> list[LedgerRow]:
    """Confirmed sessions of the program with `start <= session_date <= end`, in date order."""
    query = (
        select(
            MentoringSession.id,
            MentoringSession.pair_id,
            Pair.mentor_id,
            Pair.mentee_id,
            MentoringSession.session_date,
            MentoringSession.duration_minutes,
        )
        .join(Pair, Pair.id == MentoringSession.pair_id)
        .where(
            MentoringSession.program_id == program_id,
            MentoringSession.status == CONFIRMED,
            MentoringSession.session_date >= start,
            MentoringSession.session_date <= end,
        )
        .order_by(MentoringSession.session_date, MentoringSession.id)
    )
    if mentor_id is not None:
        query = query.where(Pair.mentor_id == mentor_id)
    return [LedgerRow(*row) for row in session.execute(query)]


def last_confirmed_by_pair(session: Session, *, pair_ids: list[int]) -> dict[int, date]:
    """The latest confirmed session day per pair (pairs without one are absent)."""
    if not pair_ids:
        return {}
    query = (
        select(MentoringSession.pair_id, func.max(MentoringSession.session_date))
        .where(MentoringSession.pair_id.in_(pair_ids), MentoringSession.status == CONFIRMED)
        .group_by(MentoringSession.pair_id)
    )
    return dict(session.execute(query).all())


def overdue_pair_rows(
    session: Session, *, program_id: str, last_before: date, started_before: datetime
) -> list[tuple[Pair, date | None]]:
    """Active pairs whose last confirmed session day is before `last_before`, or, with none, that
    started before `started_before`; each with that last day. One query, filtered in the database."""
    last = (
        select(MentoringSession.pair_id, func.max(MentoringSession.session_date).label("last_day"))
        .where(MentoringSession.program_id == program_id, MentoringSession.status == CONFIRMED)
        .group_by(MentoringSession.pair_id)
        .subquery()
    )
    query = (
        select(Pair, last.c.last_day)
        .outerjoin(last, last.c.pair_id == Pair.id)
        .where(Pair.program_id == program_id, Pair.ended_at.is_(None))
        .where(
            or_(
                last.c.last_day < last_before,
                and_(last.c.last_day.is_(None), Pair.started_at < started_before),
            )
        )
    )
    return [(pair, last_day) for pair, last_day in session.execute(query)]


def observations_of(
    session: Session, *, program_id: str, mentee_id: str
) -> list[tuple[CompetencyObservation, MentoringSession]]:
    """A mentee's observations in a program with their sessions, by session day then logging order."""
    query = (
        select(CompetencyObservation, MentoringSession)
        .join(MentoringSession, MentoringSession.id == CompetencyObservation.session_id)
        .where(CompetencyObservation.program_id == program_id, CompetencyObservation.mentee_id == mentee_id)
        .order_by(MentoringSession.session_date, MentoringSession.logged_at, MentoringSession.id)
    )
    return [(obs, ms) for obs, ms in session.execute(query)]


def confirmed_observations(
    session: Session, *, program_id: str, start: date, end: date
) -> list[CompetencyObservation]:
    """Observations from confirmed sessions of the program, observed between start and end inclusive."""
    query = (
        select(CompetencyObservation)
        .join(MentoringSession, MentoringSession.id == CompetencyObservation.session_id)
        .where(
            CompetencyObservation.program_id == program_id,
            MentoringSession.status == CONFIRMED,
            CompetencyObservation.observed_on >= start,
            CompetencyObservation.observed_on <= end,
        )
        .order_by(CompetencyObservation.observed_on, CompetencyObservation.id)
    )
    return list(session.scalars(query))


def pairs_by_id(session: Session, *, pair_ids: list[int]) -> dict[int, Pair]:
    if not pair_ids:
        return {}
    return {pair.id: pair for pair in session.scalars(select(Pair).where(Pair.id.in_(pair_ids)))}


def member_of(pair: Pair, user_id: str) -> bool:
    return user_id in (pair.mentor_id, pair.mentee_id)


def other_member(pair: Pair, user_id: str) -> str:
    return pair.mentee_id if pair.mentor_id == user_id else pair.mentor_id


def reflections_by(
    session: Session, *, author_id: str, limit: int = 5
) -> list[tuple[Reflection, MentoringSession, Pair]]:
    """The author's latest reflections with their sessions and pairs, newest session first."""
    query = (
        select(Reflection, MentoringSession, Pair)
        .join(MentoringSession, MentoringSession.id == Reflection.session_id)
        .join(Pair, Pair.id == MentoringSession.pair_id)
        .where(Reflection.author_id == author_id)
        .order_by(MentoringSession.session_date.desc(), Reflection.id.desc())
        .limit(limit)
    )
    return [(reflection, row, pair) for reflection, row, pair in session.execute(query)]
