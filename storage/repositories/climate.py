"""Queries over team-climate answers: the encrypted scores beside open check-ins, and the unlinked table.

Moving a week is done by bot.checkins.climate in one transaction from these pieces: lock the week's
check-ins, read their scores, insert the unlinked rows, record the week and unlink the scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, delete, func, insert, select, update
from sqlalchemy.orm import Session

from storage.models import Checkin, CheckinAnswer, ClimateAnswer, ClimateWeek

CLIMATE = cast(Table, ClimateAnswer.__table__)


@dataclass(frozen=True)
class OpenScore:
    """A score still beside its check-in: what moving it needs, nothing of who gave it."""

    checkin_id: int
    item: int
    score: int  # 1..7 as answered
    answered_at: datetime
    met_mentor: bool | None


def _in_week(program_id: str, first: date, end: date) -> list[ColumnElement[bool]]:
    return [Checkin.program_id == program_id, Checkin.period >= first, Checkin.period < end]


def lock_week(session: Session, *, program_id: str, first: date, end: date) -> None:
    """Lock the check-ins of periods first..end (exclusive) until the transaction ends.

    An answer being saved locks its check-in first (bot.checkins.answers), so on PostgreSQL it either
    commits before the week is read here, or waits and then finds the week closed. SQLite's write
    lock serializes the two anyway (FOR UPDATE is not emitted there).
    """
    session.execute(select(Checkin.id).where(*_in_week(program_id, first, end)).with_for_update())


def open_scores(session: Session, *, program_id: str, first: date, end: date) -> list[OpenScore]:
    """The encrypted scores of the program's check-ins with periods first..end (exclusive), decrypted."""
    query = (
        select(
            CheckinAnswer.checkin_id,
            Checkin.psych_item,
            CheckinAnswer.climate_score,
            CheckinAnswer.answered_at,
            CheckinAnswer.met_mentor,
        )
        .join(Checkin, Checkin.id == CheckinAnswer.checkin_id)
        .where(*_in_week(program_id, first, end), CheckinAnswer.climate_score.is_not(None))
    )
    return [
        OpenScore(row.checkin_id, row.psych_item, int(row.climate_score), row.answered_at, row.met_mentor)
        for row in session.execute(query)
    ]


def periods_with_open_scores(session: Session) -> list[tuple[str, date]]:
    """(program, period) pairs that still hold an encrypted score beside a check-in."""
    query = (
        select(Checkin.program_id, Checkin.period)
        .join(CheckinAnswer, CheckinAnswer.checkin_id == Checkin.id)
        .where(CheckinAnswer.climate_score.is_not(None))
        .distinct()
    )
    return [(program_id, period) for program_id, period in session.execute(query)]


def is_closed(session: Session, *, program_id: str, week: date) -> bool:
    return session.get(ClimateWeek, (program_id, week)) is not None


def record_week(session: Session, *, program_id: str, week: date, answered: int) -> None:
    session.add(ClimateWeek(program_id=program_id, week=week, answered=answered))


def insert_answers(
    session: Session, *, program_id: str, week: date, answers: Sequence[tuple[bool | None, int]]
) -> None:
    """Insert (met, score) rows in the order given: ids, and the rows' places in the file, follow it."""
    if answers:
        rows = [
            {"program_id": program_id, "week": week, "met": met, "score": score} for met, score in answers
        ]
        session.execute(insert(CLIMATE), rows)


def unlink(session: Session, *, checkin_ids: Sequence[int]) -> None:
    """Drop the encrypted scores of these check-ins (their batch was moved or discarded)."""
    for start in range(0, len(checkin_ids), 500):
        chunk = list(checkin_ids[start : start + 500])
        session.execute(
            update(CheckinAnswer)
            .where(CheckinAnswer.checkin_id.in_(chunk))
            .values(climate_score=None)
            .execution_options(synchronize_session=False)
        )


# -- the unlinked table ---------------------------------------------------------------------------


def sums_by_week(session: Session, *, program_id: str, first: date, last: date) -> list[Any]:
    """Rows (week, met, n, total) of the program's unlinked answers for the Mondays first..last."""
    query = (
        select(
            ClimateAnswer.week,
            ClimateAnswer.met,
            func.count().label("n"),
            func.sum(ClimateAnswer.score).label("total"),
        )
        .where(
            ClimateAnswer.program_id == program_id, ClimateAnswer.week >= first, ClimateAnswer.week <= last
        )
        .group_by(ClimateAnswer.week, ClimateAnswer.met)
    )
    return list(session.execute(query))


def closed_weeks(session: Session, *, program_id: str, first: date, last: date) -> dict[date, int]:
    """The program's closed weeks among the Mondays first..last, with how many answered in time."""
    query = select(ClimateWeek.week, ClimateWeek.answered).where(
        ClimateWeek.program_id == program_id, ClimateWeek.week >= first, ClimateWeek.week <= last
    )
    return {row.week: row.answered for row in session.execute(query)}


def _weeks_between(program_id: str, since: date | None, before: date) -> list[ColumnElement[bool]]:
    where = [ClimateAnswer.program_id == program_id, ClimateAnswer.week < before]
    if since is not None:
        where.append(ClimateAnswer.week >= since)
    return where


def totals_between(
    session: Session, *, program_id: str, since: date | None, before: date
) -> dict[date, tuple[int, int]]:
    """(n, sum of scores) per week of the program's unlinked answers, weeks since..before (exclusive)."""
    query = (
        select(ClimateAnswer.week, func.count(), func.sum(ClimateAnswer.score))
        .where(*_weeks_between(program_id, since, before))
        .group_by(ClimateAnswer.week)
    )
    return {week: (int(n), int(total)) for week, n, total in session.execute(query)}


def delete_between(session: Session, *, program_id: str, since: date | None, before: date) -> None:
    """Delete the program's unlinked answers of weeks since..before (exclusive)."""
    session.execute(delete(ClimateAnswer).where(*_weeks_between(program_id, since, before)))
