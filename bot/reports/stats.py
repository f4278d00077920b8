"""SQL aggregates behind the outcome report, one query per figure family, bucketed by quarter."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from bot.kernel.sql_dates import day_of_date, day_of_utc, median_from_histogram
from storage.models import CompetencyObservation, Concern, MentoringSession, Pair
from storage.models.base import UTCDateTime


@dataclass(frozen=True)
class Quarter:
    label: str  # 2026-Q1
    start: date  # first day, clipped to the report's range
    end: date  # last day, inclusive


def quarters(start: date, end: date) -> list[Quarter]:
    """Calendar quarters touching [start, end], clipped to it."""
    found = []
    year, index = start.year, (start.month - 1) // 3
    while date(year, 3 * index + 1, 1) <= end:
        first = date(year, 3 * index + 1, 1)
        last = (date(year + 1, 1, 1) if index == 3 else date(year, 3 * index + 4, 1)) - timedelta(days=1)
        found.append(Quarter(f"{year}-Q{index + 1}", max(first, start), min(last, end)))
        year, index = (year + 1, 0) if index == 3 else (year, index + 1)
    return found


def bucket(column: Any, periods: list[Quarter]) -> ColumnElement[Any]:
    """Index of the quarter a DATE column falls in, else NULL."""
    return case(*[(and_(column >= q.start, column <= q.end), i) for i, q in enumerate(periods)], else_=None)


def _instant(day: date, tz: ZoneInfo) -> ColumnElement[Any]:
    return literal(datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC), UTCDateTime())


def _active_at(instant: ColumnElement[Any]) -> ColumnElement[bool]:
    return and_(Pair.started_at <= instant, or_(Pair.ended_at.is_(None), Pair.ended_at > instant))


@dataclass(frozen=True)
class Enrolment:
    enrolled: int  # mentees in a pair at any time in the quarter
    at_start: int  # mentees in a pair on its first day
    retained: int  # of those, still in a pair at its end
    pairs: int  # pairs active at any time in the quarter
    mentors: int  # mentors of those pairs


def enrolment(session: Session, *, program_id: str, quarter: Quarter, tz: ZoneInfo) -> Enrolment:
    """Who was enrolled in the quarter, counted from pairs (days in the program's timezone)."""
    start, end = _instant(quarter.start, tz), _instant(quarter.end + timedelta(days=1), tz)
    during = and_(Pair.started_at < end, or_(Pair.ended_at.is_(None), Pair.ended_at > start))
    per_mentee = (
        select(
            Pair.mentee_id,
            func.max(case((_active_at(start), 1), else_=0)).label("at_start"),
            func.max(case((_active_at(end), 1), else_=0)).label("at_end"),
        )
        .where(Pair.program_id == program_id, during)
        .group_by(Pair.mentee_id)
        .subquery()
    )
    enrolled, at_start, retained = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(per_mentee.c.at_start), 0),
            func.coalesce(func.sum(per_mentee.c.at_start * per_mentee.c.at_end), 0),
        )
    ).one()
    pairs, mentors = session.execute(
        select(func.count(), func.count(func.distinct(Pair.mentor_id))).where(
            Pair.program_id == program_id, during
        )
    ).one()
    return Enrolment(int(enrolled), int(at_start), int(retained), int(pairs), int(mentors))


def confirmed_sessions(
    session: Session, *, program_id: str, periods: list[Quarter]
) -> dict[int, tuple[int, int]]:
    """Per quarter: confirmed sessions and their minutes."""
    index = bucket(MentoringSession.session_date, periods).label("q")
    rows = session.execute(
        select(index, func.count(), func.sum(MentoringSession.duration_minutes))
        .where(MentoringSession.program_id == program_id, MentoringSession.status == "confirmed")
        .where(
            MentoringSession.session_date >= periods[0].start,
            MentoringSession.session_date <= periods[-1].end,
        )
        .group_by(index)
    )
    return {int(q): (int(n), int(minutes or 0)) for q, n, minutes in rows if q is not None}


@dataclass(frozen=True)
class Demonstrations:
    count: int
    median_days: float | None


def demonstrations(session: Session, *, program_id: str, periods: list[Quarter]) -> dict[int, Demonstrations]:
    """Per quarter: competencies first demonstrated (confirmed sessions) and median days from enrolment."""
    first = (
        select(
            CompetencyObservation.mentee_id,
            func.min(CompetencyObservation.observed_on).label("on"),
        )
        .join(MentoringSession, MentoringSession.id == CompetencyObservation.session_id)
        .where(
            CompetencyObservation.program_id == program_id,
            CompetencyObservation.level == "demonstrated",
            MentoringSession.status == "confirmed",
        )
        .group_by(CompetencyObservation.mentee_id, CompetencyObservation.competency)
        .subquery()
    )
    enrolled = (
        select(Pair.mentee_id, func.min(Pair.started_at).label("since"))
        .where(Pair.program_id == program_id)
        .group_by(Pair.mentee_id)
        .subquery()
    )
    index = bucket(first.c.on, periods).label("q")
    days = (day_of_date(first.c.on) - day_of_utc(enrolled.c.since)).label("days")
    rows = session.execute(
        select(index, days, func.count())
        .select_from(first.join(enrolled, enrolled.c.mentee_id == first.c.mentee_id))
        .group_by(index, days)
    )
    return {
        q: Demonstrations(sum(n for _, n in h), median_from_histogram(h))
        for q, h in _histograms(rows).items()
    }


def _histograms(rows: Any) -> dict[int, list[tuple[int, int]]]:
    found: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for q, value, n in rows:
        if q is not None:
            found[int(q)].append((int(value), int(n)))
    return found


@dataclass(frozen=True)
class ConcernFigures:
    by_category: dict[str, int]
    median_days_to_resolution: float | None
    resolved: int


def concern_figures(
    session: Session, *, program_id: str, periods: list[Quarter]
) -> dict[int, ConcernFigures]:
    """Per quarter of arrival: concerns by category (escalated ones included: counts only) and how fast
    the resolved ones were resolved, counted from the Monday of the arrival week."""
    index = bucket(Concern.week, periods).label("q")
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for q, category, n in session.execute(
        select(index, Concern.category, func.count())
        .where(Concern.program_id == program_id)
        .group_by(index, Concern.category)
        .order_by(Concern.category)
    ):
        if q is not None:
            counts[int(q)][str(category)] = int(n)
    days = (day_of_date(Concern.resolved_on) - day_of_date(Concern.week)).label("days")
    histograms = _histograms(
        session.execute(
            select(index, days, func.count())
            .where(Concern.program_id == program_id, Concern.resolved_on.is_not(None))
            .group_by(index, days)
        )
    )
    return {
        q: ConcernFigures(
            counts.get(q, {}),
            median_from_histogram(histograms.get(q, [])),
            sum(n for _, n in histograms.get(q, [])),
        )
        for q in range(len(periods))
    }
