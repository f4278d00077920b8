"""Queries over instrument surveys: their claims (single conditional statements, like track DMs), the
answers waiting for their period to close, and the released answers.

Claims: INSERT ... ON CONFLICT DO NOTHING RETURNING and UPDATE ... WHERE <expected state>, so the
database decides which process sends a survey. Waiting answers: one encrypted row per answered claim,
keyed by its id (storage.models.instruments). Released answers: inserted by bot.instruments.release
without anything that names a person, and read back only as counts, sums and ranges per cell.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import (
    InstrumentAnswer,
    InstrumentPending,
    InstrumentPeriod,
    InstrumentSurvey,
    Pair,
    Person,
)

SURVEYS = cast(Table, InstrumentSurvey.__table__)
ANSWERS = cast(Table, InstrumentAnswer.__table__)
PENDING = cast(Table, InstrumentPending.__table__)
PERIODS = cast(Table, InstrumentPeriod.__table__)
CLAIMED, SENT, FAILED, MISSED = "claimed", "sent", "failed", "missed"


@dataclass(frozen=True)
class PairRow:
    """An active pair with what scheduling its mentee's surveys needs."""

    pair_id: int
    mentor_id: str
    mentee_id: str
    started_at: datetime
    timezone: str | None


def active_pairs(session: Session, *, program_id: str) -> list[PairRow]:
    """The program's active pairs whose mentee is active, in a stable order (claims in the same order)."""
    query = (
        select(Pair.id, Pair.mentor_id, Pair.mentee_id, Pair.started_at, Person.timezone)
        .join(Person, Person.id == Pair.mentee_id)
        .where(Pair.program_id == program_id, Pair.ended_at.is_(None), Person.active.is_(True))
        .order_by(Pair.mentee_id, Pair.id)
    )
    return [PairRow(*row) for row in session.execute(query)]


def mentee_count(session: Session, *, program_id: str, mentor_id: str) -> int:
    """How many active pairs the mentor has in the program."""
    query = select(func.count()).where(
        Pair.program_id == program_id, Pair.mentor_id == mentor_id, Pair.ended_at.is_(None)
    )
    return int(session.scalar(query) or 0)


# -- claims ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    """A survey DM this process now holds and must send (with `recover`, first look for it in the DM)."""

    id: int
    program_id: str
    person_id: str
    instrument_id: str
    period: str
    due_at: datetime
    attempts: int
    recover: bool = False


_CLAIMED_COLUMNS = (
    InstrumentSurvey.id,
    InstrumentSurvey.program_id,
    InstrumentSurvey.person_id,
    InstrumentSurvey.instrument_id,
    InstrumentSurvey.period,
    InstrumentSurvey.due_at,
    InstrumentSurvey.attempts,
)


def _insert(session: Session) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def known_claims(session: Session, *, program_id: str, periods: Collection[str]) -> set[tuple[str, str, str]]:
    """(person, instrument, period) of every survey already recorded in the program for these periods."""
    if not periods:
        return set()
    query = select(InstrumentSurvey.person_id, InstrumentSurvey.instrument_id, InstrumentSurvey.period).where(
        InstrumentSurvey.program_id == program_id, InstrumentSurvey.period.in_(list(periods))
    )
    return {(p, i, d) for p, i, d in session.execute(query)}


def insert_claims(session: Session, *, rows: Sequence[dict[str, Any]]) -> list[Claimed]:
    """Insert claim rows unless their key exists; return the ones this call inserted.

    A concurrent process inserting the same (program, person, instrument, period) wins or loses
    atomically: only what is returned belongs to this call.
    """
    if not rows:
        return []
    statement = (
        _insert(session)(SURVEYS)
        .on_conflict_do_nothing(index_elements=["program_id", "person_id", "instrument_id", "period"])
        .returning(*_CLAIMED_COLUMNS)
    )
    return [Claimed(*row) for row in session.execute(statement, list(rows))]


def _retry_or_stale(now: datetime, stale_before: datetime) -> Any:
    retry = and_(
        InstrumentSurvey.status == FAILED,
        or_(InstrumentSurvey.not_before.is_(None), InstrumentSurvey.not_before <= now),
    )
    stale = and_(InstrumentSurvey.status == CLAIMED, InstrumentSurvey.claimed_at < stale_before)
    return or_(retry, stale)


def retry_candidates(session: Session, *, now: datetime, stale_before: datetime) -> list[int]:
    """Failed surveys whose wait is over, and claims whose holder stopped renewing them (it died)."""
    query = (
        select(InstrumentSurvey.id).where(_retry_or_stale(now, stale_before)).order_by(InstrumentSurvey.id)
    )
    return list(session.scalars(query))


def reclaim(
    session: Session, *, survey_id: int, token: str, now: datetime, stale_before: datetime
) -> Claimed | None:
    """Take over one failed or stale claim, with `recover` (it may have been posted); None if lost."""
    statement = (
        update(SURVEYS)
        .where(InstrumentSurvey.id == survey_id, _retry_or_stale(now, stale_before))
        .values(status=CLAIMED, claimed_by=token, claimed_at=now)
        .returning(*_CLAIMED_COLUMNS)
    )
    row = session.execute(statement).first()
    return None if row is None else Claimed(*row, recover=True)


def _held_by(survey_id: int, token: str) -> list[Any]:
    return [
        InstrumentSurvey.id == survey_id,
        InstrumentSurvey.claimed_by == token,
        InstrumentSurvey.status == CLAIMED,
    ]


def renew_claim(session: Session, *, survey_id: int, token: str, now: datetime) -> bool:
    """Compare-and-set before a send: true while `token` still holds the claim (its lease restarts)."""
    statement = update(SURVEYS).where(*_held_by(survey_id, token)).values(claimed_at=now)
    return bool(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def record_claim(session: Session, *, survey_id: int, token: str, values: dict[str, Any]) -> bool:
    """Write what happened to a claimed survey; one taken over by another process is left to it."""
    statement = update(SURVEYS).where(*_held_by(survey_id, token)).values(**values)
    return bool(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def survey_of(session: Session, *, survey_id: int) -> InstrumentSurvey | None:
    return session.get(InstrumentSurvey, survey_id)


def pair_of(session: Session, *, pair_id: int) -> Pair | None:
    return session.get(Pair, pair_id)


def mark_answered(session: Session, *, survey_id: int, person_id: str) -> bool:
    """Compare-and-set: the person's sent survey becomes answered; false if answered already or not theirs.

    Only the flag changes on the claim: what was answered waits in instrument_pending (save_pending).
    """
    statement = (
        update(SURVEYS)
        .where(
            InstrumentSurvey.id == survey_id,
            InstrumentSurvey.person_id == person_id,
            InstrumentSurvey.status == SENT,
            InstrumentSurvey.answered.is_(False),
        )
        .values(answered=True)
    )
    return bool(session.execute(statement).rowcount)  # type: ignore[attr-defined]


# -- answers waiting for their period to close ----------------------------------------------------------


def save_pending(session: Session, *, survey_id: int, answer: str) -> None:
    """Store an answered claim's scored answer (JSON text), encrypted by the column type."""
    session.execute(insert(PENDING), [{"survey_id": survey_id, "answer": answer}])


@dataclass(frozen=True)
class Pending:
    """A waiting answer with what releasing it needs: no ts. `person_id` is read only to count the people
    behind a batch (bot.instruments.release); it is never written with the released answers."""

    survey_id: int
    program_id: str
    person_id: str
    instrument_id: str
    period: str  # the claim's key: "2026-12", "2026-Q4", "pair-17-m3"
    sent_at: datetime | None
    due_at: datetime
    pair_id: int | None
    answer: str  # decrypted JSON


def pending(
    session: Session, *, program_id: str | None = None, instrument_id: str | None = None
) -> list[Pending]:
    """The waiting answers, decrypted, of one program's instrument (or all of them)."""
    query = select(
        InstrumentPending.survey_id,
        InstrumentSurvey.program_id,
        InstrumentSurvey.person_id,
        InstrumentSurvey.instrument_id,
        InstrumentSurvey.period,
        InstrumentSurvey.sent_at,
        InstrumentSurvey.due_at,
        InstrumentSurvey.pair_id,
        InstrumentPending.answer,
    ).join(InstrumentSurvey, InstrumentSurvey.id == InstrumentPending.survey_id)
    if program_id is not None:
        query = query.where(InstrumentSurvey.program_id == program_id)
    if instrument_id is not None:
        query = query.where(InstrumentSurvey.instrument_id == instrument_id)
    return [Pending(*row) for row in session.execute(query.order_by(InstrumentPending.survey_id))]


@dataclass(frozen=True)
class Answered:
    """A claim its mentee answered: who, and the claim's key and times (which answer period it files under).

    Who answered is no secret (the claim's `answered` flag); what they answered is never joined to it.
    """

    person_id: str
    period: str
    sent_at: datetime | None
    due_at: datetime


def answered_claims(session: Session, *, program_id: str, instrument_id: str) -> list[Answered]:
    """Every answered claim of one program's instrument."""
    query = select(
        InstrumentSurvey.person_id, InstrumentSurvey.period, InstrumentSurvey.sent_at, InstrumentSurvey.due_at
    ).where(
        InstrumentSurvey.program_id == program_id,
        InstrumentSurvey.instrument_id == instrument_id,
        InstrumentSurvey.answered.is_(True),
    )
    return [Answered(*row) for row in session.execute(query)]


def drop_pending(session: Session, *, survey_ids: Sequence[int]) -> None:
    """Delete these waiting answers (released or discarded)."""
    for start in range(0, len(survey_ids), 500):
        chunk = list(survey_ids[start : start + 500])
        session.execute(delete(PENDING).where(InstrumentPending.survey_id.in_(chunk)))


def close_period(session: Session, *, program_id: str, instrument_id: str, period: str) -> bool:
    """Record the period closed; true only for the one transaction that did (a concurrent one waits)."""
    statement = (
        _insert(session)(PERIODS)
        .values(program_id=program_id, instrument_id=instrument_id, period=period, answered=0, released=0)
        .on_conflict_do_nothing(index_elements=["program_id", "instrument_id", "period"])
        .returning(InstrumentPeriod.period)
    )
    return session.execute(statement).first() is not None


def record_period(
    session: Session, *, program_id: str, instrument_id: str, period: str, answered: int, released: int
) -> None:
    session.execute(
        update(PERIODS)
        .where(
            InstrumentPeriod.program_id == program_id,
            InstrumentPeriod.instrument_id == instrument_id,
            InstrumentPeriod.period == period,
        )
        .values(answered=answered, released=released)
    )


def closed_periods(
    session: Session, *, program_id: str | None = None
) -> dict[tuple[str, str, str], tuple[int, int]]:
    """(program, instrument, period) -> (answered, released) of every closed period."""
    query = select(
        InstrumentPeriod.program_id,
        InstrumentPeriod.instrument_id,
        InstrumentPeriod.period,
        InstrumentPeriod.answered,
        InstrumentPeriod.released,
    )
    if program_id is not None:
        query = query.where(InstrumentPeriod.program_id == program_id)
    return {(p, i, d): (int(a), int(r)) for p, i, d, a, r in session.execute(query)}


def is_closed(session: Session, *, program_id: str, instrument_id: str, period: str) -> bool:
    return session.get(InstrumentPeriod, (program_id, instrument_id, period)) is not None


# -- the released answers -------------------------------------------------------------------------------


def insert_answers(session: Session, *, rows: Sequence[dict[str, Any]]) -> None:
    """Insert answer rows in the order given, in one statement: the rows' places in the file follow it."""
    if rows:
        session.execute(insert(ANSWERS), list(rows))


@dataclass(frozen=True)
class Cell:
    """What a report may know of one group of answers: how many, their sum and their range."""

    instrument_id: str
    version: int
    period: str
    mentor_key: str | None
    n: int
    total: float
    lowest: float
    highest: float


def answer_cells(session: Session, *, program_id: str) -> list[Cell]:
    """The program's answers grouped by instrument, version, period and mentor pseudonym."""
    keys = (
        InstrumentAnswer.instrument_id,
        InstrumentAnswer.version,
        InstrumentAnswer.period,
        InstrumentAnswer.mentor_key,
    )
    query = (
        select(
            *keys,
            func.count(),
            func.sum(InstrumentAnswer.score),
            func.min(InstrumentAnswer.score),
            func.max(InstrumentAnswer.score),
        )
        .where(InstrumentAnswer.program_id == program_id)
        .group_by(*keys)
    )
    return [
        Cell(i, int(v), p, m, int(n), float(t), float(lo), float(hi))
        for i, v, p, m, n, t, lo, hi in session.execute(query)
    ]


def mentor_ids(session: Session, *, program_id: str) -> list[str]:
    """Everyone who has mentored in the program (ended pairs too: their ratings stay reportable)."""
    query = select(Pair.mentor_id).where(Pair.program_id == program_id).distinct().order_by(Pair.mentor_id)
    return list(session.scalars(query))


def scores_in(
    session: Session, *, program_id: str, instrument_id: str, periods: Collection[str]
) -> list[tuple[str, str, float]]:
    """(period, answer row id, score) of the program's answers to one instrument in these periods; a
    pair's month ("m3") matches its every quarter ("m3 2026-Q4")."""
    listed = list(periods)
    months = [InstrumentAnswer.period.like(f"{p} %") for p in listed if p.startswith("m")]
    query = select(InstrumentAnswer.period, InstrumentAnswer.id, InstrumentAnswer.score).where(
        InstrumentAnswer.program_id == program_id,
        InstrumentAnswer.instrument_id == instrument_id,
        or_(InstrumentAnswer.period.in_(listed), *months),
    )
    return [(period, row_id, float(value)) for period, row_id, value in session.execute(query)]
