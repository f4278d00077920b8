"""Time to first meeting: for each pair that started in the period, days from pairing to its first
recorded session (any session logged with `/reflect` and not disputed), as a median and interquartile
range, and how many pairs had not met by the report's last day.

Pairing days are in the program's timezone; a session's day is the one its logger entered. The median
and quartiles rest on the pairs that met, so they are decided like every figure over people
(bot.kernel.suppression.decide_people): at least k pairs, not all the same number of days, and no
combination with another shown figure of this measure that singles out fewer than k pairs. The whole
period is decided first, then each quarter of pairing. The interquartile range is given only for a
figure resting on at least 2k pairs: the quartiles of few values are values themselves (of exactly k,
with k = 5, the first and third), so a shown range would name two pairs' waits; the median alone
otherwise.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.kernel.programs import Program
from bot.kernel.suppression import Decision, PeopleFigure, decide_people
from bot.reports.stats import Quarter
from storage.models import MentoringSession, Pair

MEASURE = "first_meeting"
WHOLE_PERIOD = "period"


@dataclass(frozen=True)
class FirstMeeting:
    label: str  # a quarter label, or WHOLE_PERIOD
    started: int  # pairs that started in it
    not_met: int  # of those, with no session by the report's last day
    median: float | None  # None: hidden or nobody met
    q1: float | None  # None also when fewer than 2k pairs met (the median alone is shown)
    q3: float | None
    hidden: str  # "" shown; "no data"; else the suppression reason


@dataclass(frozen=True)
class FirstMeetings:
    period: FirstMeeting
    quarters: dict[str, FirstMeeting]
    figures: list[PeopleFigure]
    decisions: dict[str, Decision]


def figure_name(label: str) -> str:
    return f"{MEASURE} {label}"


def first_meetings(
    session: Session, *, program: Program, start: date, end: date, periods: list[Quarter]
) -> FirstMeetings:
    """The period's and each quarter's time to first meeting, decided under the report's rule."""
    days = _days_to_first_session(session, program=program, start=start, end=end)
    groups = {WHOLE_PERIOD: days} | {
        q.label: {pair: v for pair, v in days.items() if q.start <= v[0] <= q.end} for q in periods
    }
    figures = [
        PeopleFigure(
            figure_name(label),
            MEASURE,
            frozenset(f"pair {pair}" for pair, (_, waited) in group.items() if waited is not None),
            homogeneous=len({waited for _, waited in group.values() if waited is not None}) == 1,
        )
        for label, group in groups.items()
    ]
    decisions = decide_people(figures, min_group_size=program.privacy.min_group_size)
    k = program.privacy.min_group_size
    found = {
        label: _summary(label, group, decisions[figure_name(label)], min_group_size=k)
        for label, group in groups.items()
    }
    period = found.pop(WHOLE_PERIOD)
    return FirstMeetings(period, found, figures, decisions)


def _summary(
    label: str, group: dict[int, tuple[date, int | None]], decision: Decision, *, min_group_size: int
) -> FirstMeeting:
    waited = sorted(w for _, w in group.values() if w is not None)
    not_met = len(group) - len(waited)
    if not waited:
        return FirstMeeting(label, len(group), not_met, None, None, None, "no data")
    if not decision.shown:
        return FirstMeeting(label, len(group), not_met, None, None, None, decision.reason)
    if len(waited) < 2 * min_group_size:
        return FirstMeeting(label, len(group), not_met, statistics.median(waited), None, None, "")
    q1, median, q3 = statistics.quantiles(waited, n=4, method="inclusive")
    return FirstMeeting(label, len(group), not_met, median, q1, q3, "")


def _days_to_first_session(
    session: Session, *, program: Program, start: date, end: date
) -> dict[int, tuple[date, int | None]]:
    """Pair id -> (pairing day, days to its first session by `end`, or None when it had none)."""
    first = (
        select(MentoringSession.pair_id, func.min(MentoringSession.session_date).label("day"))
        .where(MentoringSession.status != "disputed", MentoringSession.session_date <= end)
        .group_by(MentoringSession.pair_id)
        .subquery()
    )
    since = datetime.combine(start, time(0), tzinfo=program.tz).astimezone(UTC)
    until = datetime.combine(end + timedelta(days=1), time(0), tzinfo=program.tz).astimezone(UTC)
    rows = session.execute(
        select(Pair.id, Pair.started_at, first.c.day)
        .outerjoin(first, first.c.pair_id == Pair.id)
        .where(Pair.program_id == program.id, Pair.started_at >= since, Pair.started_at < until)
    )
    found: dict[int, tuple[date, int | None]] = {}
    for pair_id, started_at, day in rows:
        paired = started_at.astimezone(program.tz).date()
        # A session entered for the day before the pairing was recorded counts as day 0.
        found[int(pair_id)] = (paired, None if day is None else max(0, (day - paired).days))
    return found
